package download

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/signetdev/signet/internal/cli"
	"github.com/signetdev/signet/internal/cli/flags"
	"github.com/signetdev/signet/internal/cli/regcmd"
	"github.com/signetdev/signet/pkg/oci"
)

// SBOMOptions are the inputs of download sbom.
type SBOMOptions struct {
	Registry  flags.Registry
	Platform  string
	TagPrefix string
	Image     string
}

// NewCmdSBOM builds download sbom.
func NewCmdSBOM(f *cli.Factory, runF func(context.Context, *SBOMOptions) error) *cobra.Command {
	opts := &SBOMOptions{}
	cmd := &cobra.Command{
		Use:     "sbom [flags] IMAGE",
		Short:   "DEPRECATED: Download SBOMs from the supplied container image",
		Example: "  signet download sbom ghcr.io/acme/app:v1 > sbom.spdx.json",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Image = args[0]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runSBOM(cmd.Context(), f, opts)
		},
	}
	fs := cmd.Flags()
	opts.Registry.AddFlags(fs)
	regcmd.AddTagPrefixFlag(fs, &opts.TagPrefix)
	fs.StringVar(&opts.Platform, "platform", "", "download SBOM for a specific platform image")
	return cmd
}

func runSBOM(ctx context.Context, f *cli.Factory, opts *SBOMOptions) error {
	f.Warnf("%s", regcmd.SBOMDeprecation)
	f.Warnf("Downloading SBOMs this way does not ensure its authenticity. If you want to ensure a tamper-proof SBOM, download it using 'cosign download attestation <image uri>'.")
	if err := regcmd.NoTagPrefix(opts.TagPrefix); err != nil {
		return err
	}
	c, t, err := regcmd.Open(ctx, f, &opts.Registry, opts.Image)
	if err != nil {
		return err
	}
	if t, err = regcmd.Platform(ctx, c, t, opts.Platform); err != nil {
		return err
	}
	layers, err := c.ReadLegacy(ctx, t.Digest, oci.SBOMSuffix)
	if err != nil {
		return fmt.Errorf("reading the SBOM of %s: %w", opts.Image, err)
	}
	if len(layers) == 0 {
		return fmt.Errorf("%s: no sbom attached to reference", opts.Image)
	}
	for _, l := range layers {
		fmt.Fprintf(f.IOStreams.ErrOut, "Found SBOM of media type: %s\n", l.MediaType)
		// cosign v3 ends the SBOM with one newline, not a second one.
		out := string(l.Data)
		if !strings.HasSuffix(out, "\n") {
			out += "\n"
		}
		fmt.Fprint(f.IOStreams.Out, out)
	}
	return nil
}
