package oci

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/signetdev/signet/internal/atomicfile"
)

// The kind annotations of cosign save's index.json. cosign v3 saves no
// referrers; signet adds them under its own kind, which cosign ignores.
const (
	KindAnnotation   = "kind"
	KindImage        = "dev.cosignproject.cosign/image"
	KindImageIndex   = "dev.cosignproject.cosign/imageIndex"
	KindSignatures   = "dev.cosignproject.cosign/sigs"
	KindAttestations = "dev.cosignproject.cosign/atts"
	KindReferrer     = "dev.sigstore.signet/referrer"
	// The .sig/.att images of an index's images, each with
	// AnnotationSubject naming its image.
	KindChildSignatures   = "dev.sigstore.signet/child-sigs"
	KindChildAttestations = "dev.sigstore.signet/child-atts"
	AnnotationSubject     = "dev.sigstore.signet/subject"
	maxLayoutIndexBytes   = MaxManifestSize
	// maxLayoutBlobs bounds the blobs scanned for referrers cosign save
	// leaves out of index.json.
	maxLayoutBlobs = 100000
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
// and .att images, and (signet's addition) its referrers. A new directory
// appears only complete; a failed save leaves none.
func SaveLayout(ctx context.Context, c *Client, t Target, dir string) error {
	return atomicfile.WriteDir(dir, func(tmp string) error { return c.saveLayout(ctx, t, tmp) })
}

func (c *Client) saveLayout(ctx context.Context, t Target, dir string) error {
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
	if err := c.saveSignatures(ctx, p, t.Digest, false); err != nil {
		return err
	}
	if !t.Descriptor.MediaType.IsIndex() {
		return nil
	}
	// The images of an index carry their own signatures (sign -r); cosign
	// save leaves them out. They go under signet's own kinds, which cosign
	// load ignores (it would push every "sigs" image to the index's tag).
	children, err := c.Children(ctx, t)
	if err != nil {
		return fmt.Errorf("save %s: %w", t.Digest, err)
	}
	for _, ch := range children {
		if err := c.saveSignatures(ctx, p, ch.Digest, true); err != nil {
			return err
		}
	}
	return nil
}

// saveSignatures adds d's .sig and .att images and its referrers to the
// layout; child marks them as belonging to an image of the saved index.
func (c *Client) saveSignatures(ctx context.Context, p layout.Path, d name.Digest, child bool) error {
	ro := c.RemoteOptions(ctx)
	kinds := map[string]string{SignatureSuffix: KindSignatures, AttestationSuffix: KindAttestations}
	if child {
		kinds = map[string]string{SignatureSuffix: KindChildSignatures, AttestationSuffix: KindChildAttestations}
	}
	for suffix, k := range kinds {
		tag, m, err := c.legacyManifest(ctx, d, suffix)
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
		ann := map[string]string{KindAnnotation: k}
		if child {
			ann[AnnotationSubject] = d.DigestStr()
		}
		if err := p.AppendImage(img, layout.WithAnnotations(ann)); err != nil {
			return fmt.Errorf("save %s: %w", tag, err)
		}
	}
	repo, err := c.StorageRepository(d)
	if err != nil {
		return err
	}
	descs, err := c.listReferrers(ctx, repo, d, "")
	if err != nil {
		return err
	}
	for _, desc := range descs {
		if desc.MediaType.IsIndex() {
			continue
		}
		ref := repo.Digest(desc.Digest.String())
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
		desc.Annotations = map[string]string{KindAnnotation: KindReferrer}
		if err := p.AppendDescriptor(desc); err != nil {
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
	l.WithMaxAttachmentSize(c.maxAttachment())
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
	refs, err := l.referrerDescs()
	if err != nil {
		return Target{}, err
	}
	for _, m := range append(l.idx.Manifests, refs...) {
		var dst name.Reference
		switch m.Annotations[KindAnnotation] {
		case KindSignatures:
			dst, err = c.LegacyTag(d, SignatureSuffix)
		case KindAttestations:
			dst, err = c.LegacyTag(d, AttestationSuffix)
		case KindChildSignatures, KindChildAttestations:
			suffix := map[string]string{KindChildSignatures: SignatureSuffix, KindChildAttestations: AttestationSuffix}[m.Annotations[KindAnnotation]]
			var h v1.Hash
			if h, err = v1.NewHash(m.Annotations[AnnotationSubject]); err != nil {
				err = fmt.Errorf("layout %s: %s image %s names no valid subject: %w", dir, m.Annotations[KindAnnotation], m.Digest, err)
			} else {
				dst, err = c.LegacyTag(ref.Context().Digest(h.String()), suffix)
			}
		case kindScanned:
			var repo name.Repository
			if repo, err = c.StorageRepository(d); err == nil {
				err = l.pushReferrer(repo, m, ro)
			}
			if err != nil {
				return Target{}, err
			}
			continue
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
	// refs caches referrerDescs.
	refs []v1.Descriptor
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
	descs, err := l.referrerDescs()
	if err != nil {
		return nil, err
	}
	var out []Referrer
	for _, desc := range descs {
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

// kindScanned marks, in memory only, a referrer found by referrerDescs.
const kindScanned = "dev.sigstore.signet/referrer-found"

// referrerDescs are the layout's referrer manifests: those index.json lists
// under signet's kind, and those cosign v3 save writes to blobs/ without
// listing them (cosign's verify --local-image and load find them by
// scanning blobs/sha256 for manifests with a subject; so does this).
func (l *Layout) referrerDescs() ([]v1.Descriptor, error) {
	if l.refs != nil {
		return l.refs, nil
	}
	out := []v1.Descriptor{}
	seen := map[string]bool{}
	for _, m := range l.idx.Manifests {
		seen[m.Digest.Hex] = true
		if m.Annotations[KindAnnotation] == KindReferrer {
			out = append(out, v1.Descriptor{MediaType: m.MediaType, Size: m.Size, Digest: m.Digest, Annotations: map[string]string{KindAnnotation: kindScanned}})
		}
	}
	dir := filepath.Join(l.dir, "blobs", "sha256")
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		return nil, fmt.Errorf("layout %s: %w", l.dir, err)
	}
	if len(entries) > maxLayoutBlobs {
		return nil, fmt.Errorf("layout %s: %d blobs, more than %d: %w", l.dir, len(entries), maxLayoutBlobs, ErrTooLarge)
	}
	for _, e := range entries {
		h, err := v1.NewHash("sha256:" + e.Name())
		if err != nil || seen[h.Hex] || !e.Type().IsRegular() {
			continue
		}
		d, ok, err := l.scanBlob(filepath.Join(dir, e.Name()), h)
		if err != nil {
			return nil, err
		}
		if ok {
			if len(out) >= MaxReferrers {
				return nil, fmt.Errorf("layout %s: more than %d referrers: %w", l.dir, MaxReferrers, ErrTooLarge)
			}
			out = append(out, d)
		}
	}
	l.refs = out
	return out, nil
}

// scanBlob says whether the blob at path is an image manifest with a
// subject. Layers and configs are skipped after a peek or a size check.
func (l *Layout) scanBlob(path string, h v1.Hash) (v1.Descriptor, bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return v1.Descriptor{}, false, fmt.Errorf("layout %s: %w", l.dir, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || fi.Size() > MaxManifestSize || fi.Size() < 2 {
		return v1.Descriptor{}, false, nil
	}
	var first [1]byte
	if _, err := io.ReadFull(f, first[:]); err != nil || first[0] != '{' {
		return v1.Descriptor{}, false, nil
	}
	rest, err := readBounded(f, MaxManifestSize-1, "layout blob "+h.String())
	if err != nil {
		return v1.Descriptor{}, false, err
	}
	raw := append(first[:], rest...)
	if checkDigest(raw, h) != nil {
		return v1.Descriptor{}, false, nil // not content-addressed: not trusted as anything
	}
	var m struct {
		MediaType string          `json:"mediaType"`
		Subject   *v1.Descriptor  `json:"subject"`
		Layers    json.RawMessage `json:"layers"`
	}
	if json.Unmarshal(raw, &m) != nil || m.Subject == nil || m.Layers == nil {
		return v1.Descriptor{}, false, nil
	}
	mt := types.MediaType(m.MediaType)
	if mt == "" {
		mt = types.OCIManifestSchema1
	}
	if mt.IsIndex() {
		return v1.Descriptor{}, false, nil
	}
	return v1.Descriptor{MediaType: mt, Size: int64(len(raw)), Digest: h, Annotations: map[string]string{KindAnnotation: kindScanned}}, true, nil
}

// boundManifests fails a manifest or referrers read past MaxManifestSize
// rather than truncating it.
type boundManifests struct{ rt http.RoundTripper }

func (b boundManifests) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := b.rt.RoundTrip(req)
	if err != nil || req.Method != http.MethodGet || resp.StatusCode != http.StatusOK ||
		!(strings.Contains(req.URL.Path, "/manifests/") || strings.Contains(req.URL.Path, "/referrers/")) {
		return resp, err
	}
	if resp.ContentLength > MaxManifestSize {
		resp.Body.Close()
		return nil, fmt.Errorf("manifest %s: %d bytes, more than %d: %w", req.URL.Path, resp.ContentLength, MaxManifestSize, ErrTooLarge)
	}
	resp.Body = &boundedBody{rc: resp.Body, left: MaxManifestSize, what: req.URL.Path}
	return resp, nil
}

// boundedBody fails a read past its limit instead of truncating, so a
// cut-off manifest is never mistaken for a whole one.
type boundedBody struct {
	rc   io.ReadCloser
	left int64
	what string
}

func (b *boundedBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, fmt.Errorf("manifest %s: more than %d bytes: %w", b.what, MaxManifestSize, ErrTooLarge)
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return 0, fmt.Errorf("manifest %s: more than %d bytes: %w", b.what, MaxManifestSize, ErrTooLarge)
	}
	return n, err
}

func (b *boundedBody) Close() error { return b.rc.Close() }

// pushReferrer pushes a referrer manifest as saved, blobs first: cosign
// save leaves referrers out of index.json, so ggcr's layout cannot open
// them as images.
func (l *Layout) pushReferrer(repo name.Repository, d v1.Descriptor, ro []remote.Option) error {
	what := fmt.Sprintf("layout %s referrer %s", l.dir, d.Digest)
	raw, err := l.blob(d.Digest, d.Size, MaxManifestSize, what)
	if err != nil {
		return err
	}
	m, err := parseManifest(raw, what)
	if err != nil {
		return err
	}
	for _, bd := range append([]v1.Descriptor{m.Config}, m.Layers...) {
		b, err := l.blob(bd.Digest, bd.Size, l.max, fmt.Sprintf("%s blob %s", what, bd.Digest))
		if err != nil {
			return err
		}
		if err := remote.WriteLayer(repo, static.NewLayer(b, bd.MediaType), ro...); err != nil {
			return fmt.Errorf("load %s blob %s to %s: %w", what, bd.Digest, repo, mapError(err))
		}
	}
	mt := m.MediaType
	if mt == "" {
		mt = types.OCIManifestSchema1
	}
	dst := repo.Digest(d.Digest.String())
	if err := remote.Put(dst, rawManifest{raw: raw, mt: mt}, ro...); err != nil {
		return fmt.Errorf("load %s to %s: %w", what, dst, mapError(err))
	}
	return nil
}
