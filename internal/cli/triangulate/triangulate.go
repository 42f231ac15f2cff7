// Package triangulate is the `signet triangulate` verb: where cosign keeps
// an image's signatures, attestations or SBOM (honouring
// COSIGN_REPOSITORY), or the image's digest reference.
package triangulate

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/signetdev/signet/internal/cli"
	"github.com/signetdev/signet/internal/cli/flags"
	"github.com/signetdev/signet/internal/cli/output"
	"github.com/signetdev/signet/internal/cli/regcmd"
	"github.com/signetdev/signet/pkg/oci"
)

// Options are the inputs of triangulate.
type Options struct {
	Registry  flags.Registry
	Type      string
	TagPrefix string
	Output    output.Format
	Image     string
}

// Located is triangulate's JSON output (docs/JSON-OUTPUT.md).
type Located struct {
	Image string `json:"image"`
	// Digest is the image's digest reference.
	Digest string `json:"digest"`
	// Type is the --type asked for.
	Type string `json:"type"`
	// Reference is where cosign stores it: the legacy tag, or for
	// --type digest the digest reference.
	Reference string `json:"reference"`
}

// NewCmdTriangulate builds the verb.
func NewCmdTriangulate(f *cli.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:     "triangulate [flags] IMAGE",
		Short:   "Outputs the located cosign image reference. This is the location where cosign stores the specified artifact type",
		Example: "  signet triangulate ghcr.io/acme/app:v1\n  signet triangulate --type attestation ghcr.io/acme/app:v1",
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
	regcmd.Deprecate(f, cmd, "triangulate "+regcmd.Removal+". Instead, please use `oras discover` or `cosign tree` to show referring artifacts")
	fs := cmd.Flags()
	opts.Registry.AddFlags(fs)
	regcmd.AddTagPrefixFlag(fs, &opts.TagPrefix)
	// cosign's triangulate has no -o; signet's means what it means on
	// cosign's verify: the output format.
	opts.Output.AddFlag(fs, "output", "o")
	fs.StringVar(&opts.Type, "type", "signature", "related attachment to triangulate (attestation|sbom|signature|digest), default signature (sbom is deprecated)")
	return cmd
}

var suffixes = map[string]string{
	"signature":   oci.SignatureSuffix,
	"attestation": oci.AttestationSuffix,
	"sbom":        oci.SBOMSuffix,
}

func run(ctx context.Context, f *cli.Factory, opts *Options) error {
	if err := opts.Output.Check(); err != nil {
		return err
	}
	suffix, ok := suffixes[opts.Type]
	if !ok && opts.Type != "digest" {
		return fmt.Errorf("--type: unknown attachment type %q (want signature, attestation, sbom or digest)", opts.Type)
	}
	if opts.Type == "sbom" {
		f.Warnf("%s", regcmd.SBOMDeprecation)
	}
	c, t, err := regcmd.Open(ctx, f, &opts.Registry, opts.Image)
	if err != nil {
		return err
	}
	loc := Located{Image: opts.Image, Digest: t.Digest.String(), Type: opts.Type, Reference: t.Digest.String()}
	if opts.Type != "digest" {
		tag, err := regcmd.Tag(c, t.Digest, suffix, opts.TagPrefix)
		if err != nil {
			return err
		}
		loc.Reference = tag.String()
	}
	if opts.Output.JSON() {
		return output.Print(f.IOStreams.Out, loc)
	}
	fmt.Fprintln(f.IOStreams.Out, loc.Reference)
	return nil
}
