// Package tree is `signet tree`: cosign's view of what is stored next to
// an image (legacy signature, attestation and SBOM tags, and referrers).
package tree

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/signetdev/signet/internal/cli"
	"github.com/signetdev/signet/internal/cli/flags"
	"github.com/signetdev/signet/internal/cli/regcmd"
	"github.com/signetdev/signet/internal/redact"
	"github.com/signetdev/signet/pkg/oci"
)

// Options are the inputs of tree.
type Options struct {
	Registry          flags.Registry
	ExperimentalOCI11 bool
	TagPrefix         string
	Image             string
}

// NewCmdTree builds the verb.
func NewCmdTree(f *cli.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:     "tree [flags] IMAGE",
		Short:   "Display supply chain security related artifacts for an image such as signatures, SBOMs and attestations",
		Example: "  signet tree ghcr.io/acme/app:v1",
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
	opts.Registry.AddReferrersModeFlag(fs)
	regcmd.AddTagPrefixFlag(fs, &opts.TagPrefix)
	fs.BoolVar(&opts.ExperimentalOCI11, "experimental-oci11", true, "set to false to ignore OCI 1.1 behavior")
	flags.Deprecated(fs, "experimental-oci11", "OCI referrers will be the default behavior in future versions")
	return cmd
}

var legacy = []struct{ suffix, label string }{
	{oci.SignatureSuffix, "🔐 Signatures for an image tag"},
	{oci.AttestationSuffix, "💾 Attestations for an image tag"},
	{oci.SBOMSuffix, "📦 SBOMs for an image tag"},
}

func run(ctx context.Context, f *cli.Factory, opts *Options) error {
	if err := regcmd.NoTagPrefix(opts.TagPrefix); err != nil {
		return err
	}
	c, err := opts.Registry.Client(f)
	if err != nil {
		return err
	}
	ref, err := c.ParseReference(opts.Image)
	if err != nil {
		return fmt.Errorf("image reference %q: %w", redact.Ref(opts.Image), err)
	}
	out := f.IOStreams.Out
	fmt.Fprintf(out, "📦 Supply Chain Security Related artifacts for an image: %s\n", ref.String())
	t, err := regcmd.Resolve(ctx, c, opts.Image)
	if err != nil {
		return err
	}
	found := false
	for _, lg := range legacy {
		layers, err := c.ReadLegacy(ctx, t.Digest, lg.suffix)
		if err != nil {
			return fmt.Errorf("reading %s of %s: %w", lg.suffix, opts.Image, err)
		}
		if len(layers) == 0 {
			continue
		}
		tag, err := c.LegacyTag(t.Digest, lg.suffix)
		if err != nil {
			return err
		}
		found = true
		fmt.Fprintf(out, "└── %s: %s\n", lg.label, tag.String())
		printLayers(out, layers)
	}
	if opts.ExperimentalOCI11 || opts.Registry.ReferrersMode == flags.ReferrersModeOCI11 {
		refs, err := c.Referrers(ctx, t.Digest, "")
		if err != nil {
			return fmt.Errorf("getting referrers of %s: %w", opts.Image, err)
		}
		for _, r := range refs {
			kind := ArtifactKind(r)
			if kind == "" {
				continue
			}
			found = true
			fmt.Fprintf(out, "└── 🔗 %s artifacts via OCI referrer: %s\n", kind, t.Digest.Context().Digest(r.Descriptor.Digest.String()).String())
			printLayers(out, r.Layers)
		}
	}
	if !found {
		fmt.Fprintf(out, "No Supply Chain Security Related Artifacts found for image %s,\n start creating one with simply running$ cosign sign <img>", ref.String())
	}
	return nil
}

// ArtifactKind is what tree shows for a referrer: for a Sigstore bundle
// its predicate type (as cosign v3 does), else its artifact type; ""
// hides an untyped referrer, as cosign does.
func ArtifactKind(r oci.Referrer) string {
	at := r.Descriptor.ArtifactType
	if at == "" && r.Manifest != nil {
		at = r.Manifest.ArtifactType
	}
	if at == oci.BundleMediaType && r.Manifest != nil {
		if pt := r.Manifest.Annotations[oci.AnnotationBundlePredicateType]; pt != "" {
			return pt
		}
	}
	return at
}

func printLayers(w io.Writer, layers []oci.Layer) {
	for i, l := range layers {
		sym := "   ├──"
		if i == len(layers)-1 {
			sym = "   └──"
		}
		fmt.Fprintf(w, "%s 🍒 %s\n", sym, l.Digest)
	}
}
