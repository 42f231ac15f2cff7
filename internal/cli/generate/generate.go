// Package generate is cosign's deprecated `generate`: the unsigned
// simple-signing payload of an image, for signing elsewhere.
package generate

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/signetdev/signet/internal/cli"
	"github.com/signetdev/signet/internal/cli/flags"
	"github.com/signetdev/signet/internal/cli/regcmd"
	"github.com/signetdev/signet/pkg/imagesig"
)

// Options are the inputs of generate.
type Options struct {
	Registry    flags.Registry
	Annotations []string
	TagPrefix   string
	Image       string
}

// NewCmdGenerate builds the verb.
func NewCmdGenerate(f *cli.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "generate [flags] IMAGE",
		Short: "Generates (unsigned) signature payloads from the supplied container image",
		Long: `Print the simple-signing payload cosign signs for IMAGE (resolved to its
digest), with -a annotations, on stdout and without a trailing newline.`,
		Example: "  signet generate ghcr.io/acme/app:v1 > payload.json",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Image = args[0]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return run(cmd.Context(), f, opts)
		},
	}
	regcmd.NoEnv(cmd)
	regcmd.Deprecate(f, cmd, "generate "+regcmd.Removal+". Instead, please use in-toto tooling")
	fs := cmd.Flags()
	opts.Registry.AddFlags(fs)
	regcmd.AddTagPrefixFlag(fs, &opts.TagPrefix)
	fs.StringSliceVarP(&opts.Annotations, "annotations", "a", nil, "extra key=value pairs to sign")
	return cmd
}

func run(ctx context.Context, f *cli.Factory, o *Options) error {
	ann, err := flags.ParseAnnotations(o.Annotations)
	if err != nil {
		return err
	}
	_, t, err := regcmd.Open(ctx, f, &o.Registry, o.Image)
	if err != nil {
		return err
	}
	payload, err := imagesig.NewSimpleSigning(t.Digest.Context().Name(), t.Descriptor.Digest, ann)
	if err != nil {
		return err
	}
	_, err = f.IOStreams.Out.Write(payload)
	return err
}
