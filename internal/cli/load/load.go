// Package load is `signet load`: push an OCI layout written by save
// (signet's or cosign's) to a registry, signatures included.
package load

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/signetdev/signet/internal/cli"
	"github.com/signetdev/signet/internal/cli/flags"
	"github.com/signetdev/signet/internal/cli/regcmd"
	"github.com/signetdev/signet/internal/redact"
	"github.com/signetdev/signet/pkg/oci"
)

// Options are the inputs of load.
type Options struct {
	Registry  flags.Registry
	Dir       string
	TagPrefix string
	Image     string
}

// NewCmdLoad builds the verb; runF replaces the run function in tests.
func NewCmdLoad(f *cli.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "load [flags] IMAGE",
		Short: "Load a signed image on disk to a remote registry",
		Long: `Load a signed image on disk to a remote registry.

Pushes the image (or index) saved in --dir by save (signet's or cosign's)
to IMAGE, and its legacy .sig and .att images and referrers next to it.`,
		Example: "  signet load --dir ./app-v1 registry.example.com/mirror/app:v1",
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
	fs.StringVar(&opts.Dir, "dir", "", "path to directory where the signed image is stored on disk")
	_ = cmd.MarkFlagRequired("dir")
	return cmd
}

func run(ctx context.Context, f *cli.Factory, opts *Options) error {
	if err := regcmd.NoTagPrefix(opts.TagPrefix); err != nil {
		return err
	}
	if opts.Dir == "" {
		return errors.New("--dir: the directory to load from is empty")
	}
	c, err := opts.Registry.Client(f)
	if err != nil {
		return err
	}
	ref, err := c.ParseReference(opts.Image)
	if err != nil {
		return fmt.Errorf("image reference %q: %w", redact.Ref(opts.Image), err)
	}
	if _, err := oci.LoadLayout(ctx, c, opts.Dir, ref); err != nil {
		return fmt.Errorf("load --dir %s to %s: %w", opts.Dir, opts.Image, err)
	}
	return nil
}
