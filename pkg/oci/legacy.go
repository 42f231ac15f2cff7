package oci

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// legacyManifest is the manifest at d's legacy tag; nil when there is none.
func (c *Client) legacyManifest(ctx context.Context, d name.Digest, suffix string) (name.Tag, *v1.Manifest, error) {
	tag, err := c.LegacyTag(d, suffix)
	if err != nil {
		return name.Tag{}, nil, err
	}
	raw, _, err := c.getManifest(ctx, tag.Context(), tag.TagStr())
	if errors.Is(err, ErrNotFound) {
		return tag, nil, nil
	}
	if err != nil {
		return tag, nil, err
	}
	m, err := parseManifest(raw, "manifest "+tag.String())
	return tag, m, err
}

// ReadLegacy returns the layers of d's legacy image for suffix, each read
// whole but bounded; no such tag is (nil, nil).
func (c *Client) ReadLegacy(ctx context.Context, d name.Digest, suffix string) ([]Layer, error) {
	tag, m, err := c.legacyManifest(ctx, d, suffix)
	if err != nil || m == nil {
		return nil, err
	}
	return c.readLayers(ctx, tag.Context(), m.Layers)
}

// readLayers fetches layers in order, each bounded by the attachment limit
// and checked against its digest.
func (c *Client) readLayers(ctx context.Context, repo name.Repository, descs []v1.Descriptor) ([]Layer, error) {
	if len(descs) > MaxLayers {
		return nil, fmt.Errorf("%d layers, more than %d: %w", len(descs), MaxLayers, ErrTooLarge)
	}
	out := make([]Layer, 0, len(descs))
	for _, ld := range descs {
		data, err := c.getBlob(ctx, repo, ld, c.maxAttachment())
		if err != nil {
			return nil, err
		}
		out = append(out, Layer{MediaType: string(ld.MediaType), Data: data, Annotations: ld.Annotations, Digest: ld.Digest})
	}
	return out, nil
}

// AppendLegacy adds l to d's legacy image for suffix, creating it when
// missing. An identical layer already there (same content and
// annotations) is not added twice. replace, when non-nil, drops the
// existing layers it returns true for (attest --replace).
func (c *Client) AppendLegacy(ctx context.Context, d name.Digest, suffix string, l Layer, replace func(Layer) bool) error {
	tag, m, err := c.legacyManifest(ctx, d, suffix)
	if err != nil {
		return err
	}
	newLayer := static.NewLayer(l.Data, types.MediaType(l.MediaType))
	h, err := newLayer.Digest()
	if err != nil {
		return err
	}
	var keep []v1.Descriptor
	if m != nil {
		keep = m.Layers
		if replace != nil {
			if keep, err = c.keepLayers(ctx, tag.Context(), m.Layers, replace); err != nil {
				return err
			}
		}
	}
	dup := false
	for _, ld := range keep {
		dup = dup || ld.Digest == h && maps.Equal(ld.Annotations, l.Annotations)
	}
	if dup && len(keep) == len(layersOf(m)) {
		return nil // already there: pushing again would only churn the tag
	}
	if !dup && len(keep)+1 > MaxLayers {
		return fmt.Errorf("append to %s: it already has %d layers, the most cosign reads is %d: %w", tag, len(keep), MaxLayers, ErrTooLarge)
	}
	adds := make([]mutate.Addendum, 0, len(keep)+1)
	for _, ld := range keep {
		adds = append(adds, mutate.Addendum{Layer: descLayer{ld}, Annotations: ld.Annotations})
	}
	if !dup {
		adds = append(adds, mutate.Addendum{Layer: newLayer, Annotations: l.Annotations})
	}
	return c.writeLegacyImage(ctx, tag, adds)
}

func layersOf(m *v1.Manifest) []v1.Descriptor {
	if m == nil {
		return nil
	}
	return m.Layers
}

// keepLayers fetches the existing layers so replace can look at them.
func (c *Client) keepLayers(ctx context.Context, repo name.Repository, descs []v1.Descriptor, replace func(Layer) bool) ([]v1.Descriptor, error) {
	layers, err := c.readLayers(ctx, repo, descs)
	if err != nil {
		return nil, err
	}
	var keep []v1.Descriptor
	for i, l := range layers {
		if !replace(l) {
			keep = append(keep, descs[i])
		}
	}
	return keep, nil
}

// WriteLegacy replaces d's legacy image for suffix with one holding
// exactly layers (attach sbom).
func (c *Client) WriteLegacy(ctx context.Context, d name.Digest, suffix string, layers []Layer) error {
	tag, err := c.LegacyTag(d, suffix)
	if err != nil {
		return err
	}
	if len(layers) > MaxLayers {
		return fmt.Errorf("write %s: %d layers, the most cosign reads is %d: %w", tag, len(layers), MaxLayers, ErrTooLarge)
	}
	adds := make([]mutate.Addendum, 0, len(layers))
	for _, l := range layers {
		adds = append(adds, mutate.Addendum{Layer: static.NewLayer(l.Data, types.MediaType(l.MediaType)), Annotations: l.Annotations})
	}
	return c.writeLegacyImage(ctx, tag, adds)
}

// writeLegacyImage pushes the image cosign builds: ggcr's empty image with
// the layers appended (config rootfs.diff_ids and one history entry per
// layer), in OCI media types unless Docker ones are asked for.
func (c *Client) writeLegacyImage(ctx context.Context, tag name.Tag, adds []mutate.Addendum) error {
	base := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	if c.o.DockerMediaTypes {
		base = mutate.MediaType(empty.Image, types.DockerManifestSchema2)
		base = mutate.ConfigMediaType(base, types.DockerConfigJSON)
	}
	img, err := mutate.Append(base, adds...)
	if err != nil {
		return fmt.Errorf("build %s: %w", tag, err)
	}
	if err := remote.Write(tag, img, c.RemoteOptions(ctx)...); err != nil {
		return fmt.Errorf("push %s: %w", tag, mapError(err))
	}
	return nil
}

// descLayer is a layer already in the registry, known by its descriptor:
// enough to list it in a new manifest, never uploaded again (the push
// finds the blob present).
type descLayer struct{ d v1.Descriptor }

func (l descLayer) Digest() (v1.Hash, error)            { return l.d.Digest, nil }
func (l descLayer) DiffID() (v1.Hash, error)            { return l.d.Digest, nil }
func (l descLayer) Size() (int64, error)                { return l.d.Size, nil }
func (l descLayer) MediaType() (types.MediaType, error) { return l.d.MediaType, nil }
func (l descLayer) Compressed() (io.ReadCloser, error) {
	return nil, fmt.Errorf("layer %s is missing from the repository", l.d.Digest)
}
func (l descLayer) Uncompressed() (io.ReadCloser, error) { return l.Compressed() }
