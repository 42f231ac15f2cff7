package oci

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// The kind annotations of cosign save's index.json. cosign v3 saves no
// referrers; signet adds them under its own kind, which cosign ignores.
const (
	KindAnnotation      = "kind"
	KindImage           = "dev.cosignproject.cosign/image"
	KindImageIndex      = "dev.cosignproject.cosign/imageIndex"
	KindSignatures      = "dev.cosignproject.cosign/sigs"
	KindAttestations    = "dev.cosignproject.cosign/atts"
	KindReferrer        = "dev.sigstore.signet/referrer"
	maxLayoutIndexBytes = MaxManifestSize
)

// Store is what verification reads signatures from: a registry Client or
// a saved Layout.
type Store interface {
	ReadLegacy(ctx context.Context, d name.Digest, suffix string) ([]Layer, error)
	Referrers(ctx context.Context, d name.Digest, artifactType string) ([]Referrer, error)
}

var (
	_ Store = (*Client)(nil)
	_ Store = (*Layout)(nil)
)

// SaveLayout writes t as cosign save does: the image or index, its .sig
// and .att images, and (signet's addition) its referrers.
func SaveLayout(ctx context.Context, c *Client, t Target, dir string) error {
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return fmt.Errorf("save %s: %w", dir, err)
	}
	ro := c.RemoteOptions(ctx)
	kind := func(k string) layout.Option { return layout.WithAnnotations(map[string]string{KindAnnotation: k}) }
	if t.Descriptor.MediaType.IsIndex() {
		idx, err := remote.Index(t.Digest, ro...)
		if err != nil {
			return fmt.Errorf("save %s: %w", t.Digest, mapError(err))
		}
		if err := p.AppendIndex(idx, kind(KindImageIndex)); err != nil {
			return fmt.Errorf("save %s: %w", t.Digest, err)
		}
	} else {
		img, err := remote.Image(t.Digest, ro...)
		if err != nil {
			return fmt.Errorf("save %s: %w", t.Digest, mapError(err))
		}
		if err := p.AppendImage(img, kind(KindImage)); err != nil {
			return fmt.Errorf("save %s: %w", t.Digest, err)
		}
	}
	for suffix, k := range map[string]string{SignatureSuffix: KindSignatures, AttestationSuffix: KindAttestations} {
		tag, m, err := c.legacyManifest(ctx, t.Digest, suffix)
		if err != nil {
			return err
		}
		if m == nil {
			continue
		}
		if err := c.checkLayerSizes(m.Layers, tag.String()); err != nil {
			return err
		}
		img, err := remote.Image(tag, ro...)
		if err != nil {
			return fmt.Errorf("save %s: %w", tag, mapError(err))
		}
		if err := p.AppendImage(img, kind(k)); err != nil {
			return fmt.Errorf("save %s: %w", tag, err)
		}
	}
	repo, err := c.StorageRepository(t.Digest)
	if err != nil {
		return err
	}
	descs, err := c.listReferrers(ctx, repo, t.Digest, "")
	if err != nil {
		return err
	}
	for _, d := range descs {
		if d.MediaType.IsIndex() {
			continue
		}
		ref := repo.Digest(d.Digest.String())
		raw, _, err := c.getManifest(ctx, repo, ref.DigestStr())
		if err != nil {
			return err
		}
		m, err := parseManifest(raw, "referrer "+ref.String())
		if err != nil {
			return err
		}
		if err := c.checkLayerSizes(m.Layers, ref.String()); err != nil {
			return err
		}
		img, err := remote.Image(ref, ro...)
		if err != nil {
			return fmt.Errorf("save %s: %w", ref, mapError(err))
		}
		if err := p.WriteImage(img); err != nil {
			return fmt.Errorf("save %s: %w", ref, err)
		}
		d.Annotations = map[string]string{KindAnnotation: KindReferrer}
		if err := p.AppendDescriptor(d); err != nil {
			return fmt.Errorf("save %s: %w", ref, err)
		}
	}
	return nil
}

func (c *Client) checkLayerSizes(layers []v1.Descriptor, what string) error {
	for _, l := range layers {
		if l.Size > c.maxAttachment() || l.Size < 0 {
			return fmt.Errorf("%s: layer %s of %d bytes, more than the limit of %d (COSIGN_MAX_ATTACHMENT_SIZE): %w", what, l.Digest, l.Size, c.maxAttachment(), ErrTooLarge)
		}
	}
	return nil
}

// LoadLayout pushes a saved layout to ref: the image or index, then its
// .sig/.att images and referrers next to it.
func LoadLayout(ctx context.Context, c *Client, dir string, ref name.Reference) (Target, error) {
	l, err := OpenLayout(dir)
	if err != nil {
		return Target{}, err
	}
	ro := c.RemoteOptions(ctx)
	top, err := l.Subject()
	if err != nil {
		return Target{}, err
	}
	if top.MediaType.IsIndex() {
		idx, err := l.p.ImageIndex()
		if err == nil {
			var sub v1.ImageIndex
			if sub, err = idx.ImageIndex(top.Digest); err == nil {
				err = remote.WriteIndex(ref, sub, ro...)
			}
		}
		if err != nil {
			return Target{}, fmt.Errorf("load %s to %s: %w", dir, ref, mapError(err))
		}
	} else {
		img, err := l.image(top.Digest)
		if err == nil {
			err = remote.Write(ref, img, ro...)
		}
		if err != nil {
			return Target{}, fmt.Errorf("load %s to %s: %w", dir, ref, mapError(err))
		}
	}
	d := ref.Context().Digest(top.Digest.String())
	t := Target{Ref: ref, Digest: d, Descriptor: v1.Descriptor{MediaType: top.MediaType, Size: top.Size, Digest: top.Digest}}
	for _, m := range l.idx.Manifests {
		var dst name.Reference
		switch m.Annotations[KindAnnotation] {
		case KindSignatures:
			dst, err = c.LegacyTag(d, SignatureSuffix)
		case KindAttestations:
			dst, err = c.LegacyTag(d, AttestationSuffix)
		case KindReferrer:
			var repo name.Repository
			repo, err = c.StorageRepository(d)
			dst = repo.Digest(m.Digest.String())
		default:
			continue
		}
		if err != nil {
			return Target{}, err
		}
		img, err := l.image(m.Digest)
		if err != nil {
			return Target{}, err
		}
		if err := remote.Write(dst, img, ro...); err != nil {
			return Target{}, fmt.Errorf("load %s to %s: %w", dir, dst, mapError(err))
		}
	}
	return t, nil
}

// Layout is a directory written by cosign save (or SaveLayout), read with
// the same bounds as a registry.
type Layout struct {
	dir string
	p   layout.Path
	idx *v1.IndexManifest
	max int64
}

// OpenLayout reads dir's index.json.
func OpenLayout(dir string) (*Layout, error) {
	f, err := os.Open(filepath.Join(dir, "index.json"))
	if err != nil {
		return nil, fmt.Errorf("open layout %s: %w", dir, err)
	}
	defer f.Close()
	raw, err := readBounded(f, maxLayoutIndexBytes, "layout "+dir+" index.json")
	if err != nil {
		return nil, err
	}
	idx, err := parseIndex(raw, MaxIndexChildren+MaxReferrers+2, "layout "+dir+" index.json")
	if err != nil {
		return nil, err
	}
	return &Layout{dir: dir, p: layout.Path(dir), idx: idx, max: DefaultMaxAttachmentSize}, nil
}

// WithMaxAttachmentSize sets the per-layer bound (COSIGN_MAX_ATTACHMENT_SIZE).
func (l *Layout) WithMaxAttachmentSize(n int64) *Layout {
	if n > 0 {
		l.max = n
	}
	return l
}

// Subject is the descriptor of the saved image or index.
func (l *Layout) Subject() (v1.Descriptor, error) {
	for _, m := range l.idx.Manifests {
		if k := m.Annotations[KindAnnotation]; k == KindImage || k == KindImageIndex {
			return m, nil
		}
	}
	return v1.Descriptor{}, fmt.Errorf("layout %s: no image (index.json has no kind %s or %s): %w", l.dir, KindImage, KindImageIndex, ErrNotFound)
}

func (l *Layout) blob(h v1.Hash, size, limit int64, what string) ([]byte, error) {
	if size > limit {
		return nil, fmt.Errorf("%s: %d bytes, more than %d: %w", what, size, limit, ErrTooLarge)
	}
	rc, err := l.p.Blob(h)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rc.Close()
	b, err := readBounded(rc, limit, what)
	if err != nil {
		return nil, err
	}
	if err := checkDigest(b, h); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return b, nil
}

func (l *Layout) manifest(d v1.Descriptor) (*v1.Manifest, error) {
	what := fmt.Sprintf("layout %s manifest %s", l.dir, d.Digest)
	raw, err := l.blob(d.Digest, d.Size, MaxManifestSize, what)
	if err != nil {
		return nil, err
	}
	return parseManifest(raw, what)
}

func (l *Layout) layers(m *v1.Manifest) ([]Layer, error) {
	out := make([]Layer, 0, len(m.Layers))
	for _, ld := range m.Layers {
		b, err := l.blob(ld.Digest, ld.Size, l.max, fmt.Sprintf("layout %s layer %s", l.dir, ld.Digest))
		if err != nil {
			return nil, err
		}
		out = append(out, Layer{MediaType: string(ld.MediaType), Data: b, Annotations: ld.Annotations, Digest: ld.Digest})
	}
	return out, nil
}

func (l *Layout) image(h v1.Hash) (v1.Image, error) {
	img, err := l.p.Image(h)
	if err != nil {
		return nil, fmt.Errorf("layout %s image %s: %w", l.dir, h, err)
	}
	return img, nil
}

// ReadLegacy returns the layers of the saved .sig (suffix ".sig") or .att
// image; the layout holds them for its one image, so d must be it.
func (l *Layout) ReadLegacy(_ context.Context, d name.Digest, suffix string) ([]Layer, error) {
	kind := map[string]string{SignatureSuffix: KindSignatures, AttestationSuffix: KindAttestations}[suffix]
	if kind == "" {
		return nil, fmt.Errorf("layout %s: no %s images in a saved layout", l.dir, suffix)
	}
	if err := l.isSubject(d); err != nil {
		return nil, err
	}
	for _, m := range l.idx.Manifests {
		if m.Annotations[KindAnnotation] == kind {
			mf, err := l.manifest(m)
			if err != nil {
				return nil, err
			}
			return l.layers(mf)
		}
	}
	return nil, nil
}

func (l *Layout) isSubject(d name.Digest) error {
	s, err := l.Subject()
	if err != nil {
		return err
	}
	if s.Digest.String() != d.DigestStr() {
		return fmt.Errorf("layout %s holds %s, not %s", l.dir, s.Digest, d.DigestStr())
	}
	return nil
}

// Referrers returns the saved referrers of d of artifactType ("" for all).
func (l *Layout) Referrers(_ context.Context, d name.Digest, artifactType string) ([]Referrer, error) {
	if err := l.isSubject(d); err != nil {
		return nil, err
	}
	var out []Referrer
	for _, desc := range l.idx.Manifests {
		if desc.Annotations[KindAnnotation] != KindReferrer {
			continue
		}
		m, err := l.manifest(desc)
		if err != nil {
			return nil, err
		}
		at := m.ArtifactType
		if at == "" {
			at = string(m.Config.MediaType)
		}
		if m.Subject == nil || m.Subject.Digest.String() != d.DigestStr() || (artifactType != "" && at != artifactType) {
			continue
		}
		layers, err := l.layers(m)
		if err != nil {
			return nil, err
		}
		desc.ArtifactType = at
		desc.Annotations = m.Annotations
		out = append(out, Referrer{Descriptor: desc, Manifest: m, Layers: layers})
	}
	return out, nil
}
