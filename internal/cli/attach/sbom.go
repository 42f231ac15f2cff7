package attach

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/signetdev/signet/internal/cli"
	"github.com/signetdev/signet/internal/cli/flags"
	"github.com/signetdev/signet/internal/cli/regcmd"
	"github.com/signetdev/signet/pkg/oci"
)

// SBOMOptions are the inputs of attach sbom.
type SBOMOptions struct {
	Registry    flags.Registry
	SBOM        string
	Type        string
	InputFormat string
	TagPrefix   string
	Image       string
}

// NewCmdSBOM builds attach sbom.
func NewCmdSBOM(f *cli.Factory, runF func(context.Context, *SBOMOptions) error) *cobra.Command {
	opts := &SBOMOptions{}
	cmd := &cobra.Command{
		Use:     "sbom [flags] IMAGE",
		Short:   "DEPRECATED: Attach sbom to the supplied container image",
		Example: "  signet attach sbom --sbom sbom.spdx.json ghcr.io/acme/app:v1",
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
	opts.Registry.AddReferrersModeFlag(fs)
	regcmd.AddTagPrefixFlag(fs, &opts.TagPrefix)
	fs.StringVar(&opts.SBOM, "sbom", "", "path to the sbom, or {-} for stdin")
	fs.StringVar(&opts.Type, "type", "spdx", "type of sbom (spdx|cyclonedx|syft)")
	fs.StringVar(&opts.InputFormat, "input-format", "", "type of sbom input format (json|xml|text)")
	return cmd
}

// SBOMMediaType is the layer media type cosign gives an SBOM of sbomType
// read from path in inputFormat. As cosign does (observed with v3.1.3), a
// .json or .xml file name decides over --input-format, which is still
// checked for the type.
func SBOMMediaType(sbomType, inputFormat, path string) (string, error) {
	allowed := map[string][]string{"spdx": {"json", "text"}, "cyclonedx": {"json", "xml"}, "syft": {"json"}}
	formats, ok := allowed[sbomType]
	if !ok {
		return "", fmt.Errorf("--type: unknown SBOM type %q, expected (spdx|cyclonedx|syft)", sbomType)
	}
	if inputFormat != "" && !contains(formats, inputFormat) {
		return "", fmt.Errorf("--input-format: invalid SBOM input format %q, expected (%s)", inputFormat, strings.Join(formats, "|"))
	}
	format := inputFormat
	switch strings.ToLower(filepath.Ext(path)) {
	case ".json":
		format = "json"
	case ".xml":
		format = "xml"
	}
	switch sbomType {
	case "spdx":
		if format == "json" {
			return "text/spdx+json", nil
		}
		return "text/spdx", nil
	case "cyclonedx":
		if format == "json" {
			return "application/vnd.cyclonedx+json", nil
		}
		return "application/vnd.cyclonedx+xml", nil
	}
	return "application/vnd.syft+json", nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func runSBOM(ctx context.Context, f *cli.Factory, opts *SBOMOptions) error {
	f.Warnf("%s", regcmd.SBOMDeprecation)
	f.Warnf("Attaching SBOMs this way does not sign them. To sign them, use 'cosign attest --predicate %s --key <key path>'.", opts.SBOM)
	if err := regcmd.NoTagPrefix(opts.TagPrefix); err != nil {
		return err
	}
	if opts.SBOM == "" {
		return errors.New("--sbom is required: the path to the SBOM, or - for stdin")
	}
	mt, err := SBOMMediaType(opts.Type, opts.InputFormat, opts.SBOM)
	if err != nil {
		return err
	}
	data, err := readInput(f, "--sbom", opts.SBOM)
	if err != nil {
		return err
	}
	c, t, err := regcmd.Open(ctx, f, &opts.Registry, opts.Image)
	if err != nil {
		return err
	}
	layer := oci.Layer{MediaType: mt, Data: data}
	if opts.Registry.ReferrersMode == flags.ReferrersModeOCI11 {
		h, err := c.WriteReferrer(ctx, t, mt, []oci.Layer{layer}, nil)
		if err != nil {
			return fmt.Errorf("attach sbom to %s: %w", opts.Image, err)
		}
		fmt.Fprintf(f.IOStreams.ErrOut, "Uploading SBOM file for [%s] to [%s] with mediaType [%s].\n\n", t.Ref.Name(), t.Digest.Context().Digest(h.String()).Name(), mt)
		return nil
	}
	tag, err := c.LegacyTag(t.Digest, oci.SBOMSuffix)
	if err != nil {
		return err
	}
	fmt.Fprintf(f.IOStreams.ErrOut, "Uploading SBOM file for [%s] to [%s] with mediaType [%s].\n\n", t.Ref.Name(), tag.Name(), mt)
	if err := c.WriteLegacy(ctx, t.Digest, oci.SBOMSuffix, []oci.Layer{layer}); err != nil {
		return fmt.Errorf("attach sbom to %s: writing %s: %w", opts.Image, tag, err)
	}
	return nil
}
