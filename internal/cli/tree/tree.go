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
	"github.com/signetdev/signet/internal/cli/output"
	"github.com/signetdev/signet/internal/cli/regcmd"
	"github.com/signetdev/signet/internal/redact"
	"github.com/signetdev/signet/pkg/oci"
)

// Options are the inputs of tree.
type Options struct {
	Registry          flags.Registry
	ExperimentalOCI11 bool
	TagPrefix         string
	Output            output.Format
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
	// cosign's tree has no -o; signet's means what it means on cosign's
	// verify: the output format.
	opts.Output.AddFlag(fs, "output", "o")
	return cmd
}

var legacy = []struct{ suffix, kind, label string }{
	{oci.SignatureSuffix, "signature", "🔐 Signatures for an image tag"},
	{oci.AttestationSuffix, "attestation", "💾 Attestations for an image tag"},
	{oci.SBOMSuffix, "sbom", "📦 SBOMs for an image tag"},
}

// Tree is tree's JSON output (docs/JSON-OUTPUT.md).
type Tree struct {
	Image string `json:"image"`
	// Digest is the image's digest reference.
	Digest    string     `json:"digest"`
	Artifacts []Artifact `json:"artifacts"`
}

// Artifact is one thing stored next to the image.
type Artifact struct {
	// Source is "tag" (cosign's legacy sha256-<hex>.sig/.att/.sbom tags)
	// or "referrer" (an OCI 1.1 referrer).
	Source string `json:"source"`
	// Kind is signature, attestation or sbom for a tag; for a referrer,
	// what tree's text shows: a bundle's predicate type, else the
	// artifact type.
	Kind      string `json:"kind"`
	Reference string `json:"reference"`
	// Layers are the digests of its layers.
	Layers []string `json:"layers"`
	label  string
}

func run(ctx context.Context, f *cli.Factory, opts *Options) error {
	if err := opts.Output.Check(); err != nil {
		return err
	}
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
	if !opts.Output.JSON() {
		// Printed before the lookups, as cosign does.
		fmt.Fprintf(out, "📦 Supply Chain Security Related artifacts for an image: %s\n", ref.String())
	}
	t, err := regcmd.Resolve(ctx, c, opts.Image)
	if err != nil {
		return err
	}
	tree := Tree{Image: ref.String(), Digest: t.Digest.String(), Artifacts: []Artifact{}}
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
		tree.Artifacts = append(tree.Artifacts, Artifact{Source: "tag", Kind: lg.kind, Reference: tag.String(),
			Layers: layerDigests(layers), label: lg.label})
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
			tree.Artifacts = append(tree.Artifacts, Artifact{Source: "referrer", Kind: kind,
				Reference: t.Digest.Context().Digest(r.Descriptor.Digest.String()).String(),
				Layers:    layerDigests(r.Layers), label: "🔗 " + kind + " artifacts via OCI referrer"})
		}
	}
	if opts.Output.JSON() {
		return output.Print(out, tree)
	}
	for _, a := range tree.Artifacts {
		fmt.Fprintf(out, "└── %s: %s\n", a.label, a.Reference)
		printLayers(out, a.Layers)
	}
	if len(tree.Artifacts) == 0 {
		fmt.Fprintf(out, "No Supply Chain Security Related Artifacts found for image %s,\n start creating one with simply running$ cosign sign <img>", ref.String())
	}
	return nil
}

func layerDigests(layers []oci.Layer) []string {
	out := make([]string, len(layers))
	for i, l := range layers {
		out[i] = l.Digest.String()
	}
	return out
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

func printLayers(w io.Writer, layers []string) {
	for i, l := range layers {
		sym := "   ├──"
		if i == len(layers)-1 {
			sym = "   └──"
		}
		fmt.Fprintf(w, "%s 🍒 %s\n", sym, l)
	}
}
