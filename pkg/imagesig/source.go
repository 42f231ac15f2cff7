package imagesig

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/signetdev/signet/pkg/oci"
)

// Source is where an image's signatures and attestations are read: a
// registry (*oci.Client) or an OCI layout.
type Source interface {
	// ReadLegacy returns the layers of d's legacy image for suffix (.sig,
	// .att); no such image is (nil, nil).
	ReadLegacy(ctx context.Context, d name.Digest, suffix string) ([]oci.Layer, error)
	// Referrers lists the artifacts whose subject is d ("" for every
	// artifact type).
	Referrers(ctx context.Context, d name.Digest, artifactType string) ([]oci.Referrer, error)
}

// Kind is what a verb accepts: signatures or attestations.
type Kind int

const (
	KindSignature Kind = iota
	KindAttestation
)

func (k Kind) plural() string {
	if k == KindAttestation {
		return "attestations"
	}
	return "signatures"
}

func (k Kind) suffix() string {
	if k == KindAttestation {
		return oci.AttestationSuffix
	}
	return oci.SignatureSuffix
}

// Format says where a candidate was stored.
type Format int

const (
	// FormatLegacy: a layer of the .sig/.att tag, or of a simple-signing
	// referrer; its evidence is in annotations.
	FormatLegacy Format = iota
	// FormatBundle: a Sigstore bundle referrer.
	FormatBundle
)

// Candidate is one stored signature or attestation, not yet verified.
type Candidate struct {
	// Origin names it in messages: the tag and layer, or the referrer.
	Origin string
	Format Format
	Layer  oci.Layer
	// ManifestAnnotations are the referrer manifest's annotations (bundle
	// format); untrusted, used only to skip what cannot match.
	ManifestAnnotations map[string]string
}

// MaxSignatures bounds the signatures (or attestations) of one image that
// are verified, referrers and tag together: cosign's cap since
// GHSA-vfp6-jrw2-99g9, so that a registry cannot keep a verifier (an
// admission controller) busy with endless signatures. oci.MaxLayers (1000)
// still bounds what one manifest may list before anything is fetched.
const MaxSignatures = 100

// collected is what Collect found, and why it may have found less.
type collected struct {
	candidates []Candidate
	// referrersErr is a failed referrers listing: reported, and the tag
	// is still read (cosign complaint #8: a throttled listing must not
	// look like "unsigned").
	referrersErr error
	tag          string
}

// collect gathers the candidates of kind for d: its referrers (bundles,
// and simple-signing referrers for signatures) and the layers of its
// legacy tag. At most MaxSignatures candidates are accepted.
func collect(ctx context.Context, src Source, d name.Digest, kind Kind, warnf func(string, ...any)) (collected, error) {
	var out collected
	refs, err := src.Referrers(ctx, d, "")
	if err != nil {
		if ctx.Err() != nil {
			return out, ctx.Err()
		}
		out.referrersErr = err
		warnf("listing the referrers of %s failed, reading the %s tag only: %v", d, kind.suffix(), err)
	}
	for _, r := range refs {
		at := r.Descriptor.ArtifactType
		if at == "" && r.Manifest != nil {
			at = string(r.Manifest.Config.MediaType)
		}
		var ann map[string]string
		if r.Manifest != nil {
			ann = r.Manifest.Annotations
			if r.Manifest.ArtifactType != "" {
				at = r.Manifest.ArtifactType
			}
		}
		switch {
		case at == oci.BundleMediaType:
			for i, l := range r.Layers {
				if l.MediaType != oci.BundleMediaType {
					continue
				}
				out.candidates = append(out.candidates, Candidate{Origin: fmt.Sprintf("referrer %s layer %d", r.Descriptor.Digest, i+1), Format: FormatBundle, Layer: l, ManifestAnnotations: ann})
			}
		case at == oci.LegacySignatureArtifactType && kind == KindSignature:
			for i, l := range r.Layers {
				if l.MediaType != oci.SimpleSigningMediaType {
					continue
				}
				out.candidates = append(out.candidates, Candidate{Origin: fmt.Sprintf("referrer %s layer %d", r.Descriptor.Digest, i+1), Format: FormatLegacy, Layer: l})
			}
		}
	}
	layers, err := src.ReadLegacy(ctx, d, kind.suffix())
	if err != nil {
		if out.referrersErr != nil {
			return out, fmt.Errorf("reading %s %s: %w (and listing its referrers failed: %v)", d, kind.plural(), err, out.referrersErr)
		}
		return out, fmt.Errorf("reading the %s tag of %s: %w", kind.suffix(), d, err)
	}
	out.tag = strings.Replace(d.DigestStr(), ":", "-", 1) + kind.suffix()
	for i, l := range layers {
		want := oci.SimpleSigningMediaType
		if kind == KindAttestation {
			want = oci.DSSEMediaType
		}
		if l.MediaType != want {
			continue
		}
		out.candidates = append(out.candidates, Candidate{Origin: fmt.Sprintf("tag %s layer %d", out.tag, i+1), Format: FormatLegacy, Layer: l})
	}
	if n := countOfKind(out.candidates, kind); n > MaxSignatures {
		return out, fmt.Errorf("%s has %d stored %s, more than the limit of %d", d, n, kind.plural(), MaxSignatures)
	}
	return out, nil
}

// countOfKind counts the candidates that may be of kind: a bundle
// referrer whose predicate-type annotation names the other kind (a
// signature's sign statement, or an attestation's type) is not, so that
// an image's signatures and attestations each have their own cap.
func countOfKind(cs []Candidate, kind Kind) int {
	n := 0
	for _, c := range cs {
		pt := c.ManifestAnnotations[oci.AnnotationBundlePredicateType]
		if c.Format == FormatBundle && pt != "" && (pt == SignPredicateType) != (kind == KindSignature) {
			continue
		}
		n++
	}
	return n
}
