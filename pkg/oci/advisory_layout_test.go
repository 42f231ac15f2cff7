package oci

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// hostileLayout writes a `cosign save` layout by hand whose .sig manifest
// lists n layers, all the one blob layer (of layerSize bytes, with
// descriptors claiming descSize), and returns it opened and its image.
func hostileLayout(t *testing.T, n int, layerSize, descSize int64) (*Layout, name.Digest) {
	t.Helper()
	dir := t.TempDir()
	put := func(data []byte) v1.Hash {
		sum := sha256.Sum256(data)
		h := v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}
		p := filepath.Join(dir, "blobs", "sha256", h.Hex)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return h
	}
	layer := put([]byte(strings.Repeat("a", int(layerSize))))
	ls := make([]v1.Descriptor, n)
	for i := range ls {
		ls[i] = v1.Descriptor{MediaType: SimpleSigningMediaType, Size: descSize, Digest: layer}
	}
	cfg := put([]byte("{}"))
	m, _ := json.Marshal(v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1, Config: v1.Descriptor{MediaType: EmptyMediaType, Size: 2, Digest: cfg}, Layers: ls})
	sig := put(m)
	image := v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%064x", 1)}
	idx, _ := json.Marshal(v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: []v1.Descriptor{
		{MediaType: types.OCIManifestSchema1, Size: 10, Digest: image, Annotations: map[string]string{KindAnnotation: KindImage}},
		{MediaType: types.OCIManifestSchema1, Size: int64(len(m)), Digest: sig, Annotations: map[string]string{KindAnnotation: KindSignatures}},
	}})
	if err := os.WriteFile(filepath.Join(dir, "index.json"), idx, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := OpenLayout(dir)
	if err != nil {
		t.Fatal(err)
	}
	d, err := name.NewDigest("oci-layout/saved-image@" + image.String())
	if err != nil {
		t.Fatal(err)
	}
	return l, d
}

// GHSA-95pr-fxf5-86gv (cosign 2.2.4) from an OCI layout (--local-image),
// which cosign's fix also covers: a .sig manifest of MaxLayers layers is
// read, one more is refused before any layer is.
func TestAdvisory_GHSA_95pr_fxf5_86gv_LayoutLayerCount(t *testing.T) {
	for _, n := range []int{MaxLayers, MaxLayers + 1} {
		l, d := hostileLayout(t, n, 1, 1)
		layers, err := l.ReadLegacy(context.Background(), d, SignatureSuffix)
		if n <= MaxLayers {
			if err != nil || len(layers) != n {
				t.Errorf("%d layers: read %d, %v", n, len(layers), err)
			}
			continue
		}
		wantTooLarge(t, err, fmt.Sprintf("%d layers", n))
	}
}

// GHSA-88jx-383q-w4qc (cosign 2.2.4) from an OCI layout: a layer of the
// attachment limit (1 KiB here) is read, one byte more is refused from
// its descriptor, and so is a descriptor of 1 GB+42 with the default
// limit; a blob longer than its descriptor says is read no further than
// the limit.
func TestAdvisory_GHSA_88jx_383q_w4qc_LayoutAttachmentSize(t *testing.T) {
	for _, n := range []int64{1 << 10, 1<<10 + 1} {
		l, d := hostileLayout(t, 1, n, n)
		layers, err := l.WithMaxAttachmentSize(1<<10).ReadLegacy(context.Background(), d, SignatureSuffix)
		if n <= 1<<10 {
			if err != nil || len(layers) != 1 || int64(len(layers[0].Data)) != n {
				t.Errorf("%d bytes: %d layers, %v", n, len(layers), err)
			}
			continue
		}
		wantTooLarge(t, err, "more than 1024")
	}
	l, d := hostileLayout(t, 1, 1, 1_000_000_042)
	_, err := l.ReadLegacy(context.Background(), d, SignatureSuffix)
	wantTooLarge(t, err, "1000000042 bytes")
	// The descriptor says 1 KiB, the blob holds 1 KiB + 1.
	l, d = hostileLayout(t, 1, 1<<10+1, 1<<10)
	_, err = l.WithMaxAttachmentSize(1<<10).ReadLegacy(context.Background(), d, SignatureSuffix)
	wantTooLarge(t, err, "more than 1024")
}
