// Package save is `signet save`: write an image with its signatures,
// attestations and referrers to an OCI layout directory, as cosign save.
package save

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/signetdev/signet/internal/cli"
	"github.com/signetdev/signet/internal/cli/flags"
	"github.com/signetdev/signet/internal/cli/regcmd"
	"github.com/signetdev/signet/pkg/oci"
)

// Options are the inputs of save.
type Options struct {
	Registry  flags.Registry
	Dir       string
	TagPrefix string
	Image     string
}

// NewCmdSave builds the verb; runF replaces the run function in tests.
func NewCmdSave(f *cli.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "save [flags] IMAGE",
		Short: "Save the container image and associated signatures to disk at the specified directory",
		Long: `Save the container image and associated signatures to disk at the specified directory.

The directory is an OCI layout as cosign save writes it: the image (or
index), its legacy .sig and .att images, and its referrers (Sigstore
bundles). signet load and cosign load push it back; verify --local-image
and verify-attestation --local-image verify it offline.`,
		Example: "  signet save --dir ./app-v1 ghcr.io/acme/app:v1",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Image = args[0]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return run(cmd.Context(), f, opts)
		},
	}
	fs := cmd.Flags()
	opts.Registry.AddFlags(fs)
	regcmd.AddTagPrefixFlag(fs, &opts.TagPrefix)
	fs.StringVar(&opts.Dir, "dir", "", "path to dir where the signed image should be stored on disk")
	_ = cmd.MarkFlagRequired("dir")
	return cmd
}

func run(ctx context.Context, f *cli.Factory, opts *Options) error {
	if err := regcmd.NoTagPrefix(opts.TagPrefix); err != nil {
		return err
	}
	if opts.Dir == "" {
		return errors.New("--dir: the directory to save to is empty")
	}
	c, t, err := regcmd.Open(ctx, f, &opts.Registry, opts.Image)
	if err != nil {
		return err
	}
	if err := oci.SaveLayout(ctx, c, t, opts.Dir); err != nil {
		return fmt.Errorf("save %s to --dir %s: %w", opts.Image, opts.Dir, err)
	}
	return nil
}
