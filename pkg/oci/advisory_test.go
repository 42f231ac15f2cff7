package oci

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// GHSA-95pr-fxf5-86gv (cosign 2.2.4): slices were allocated from the
// untrusted count of layers or manifests. The counts are checked on the
// parsed manifest, before anything is fetched or allocated per item: at
// MaxLayers (1000) a .sig manifest is read, one more is refused; the same
// for MaxIndexChildren. TestHostileLayerCount does it through a registry
// serving 5000 layers (no blob fetched); the OCI layout reads manifests
// through the same parseManifest.
func TestAdvisory_GHSA_95pr_fxf5_86gv_LayerCount(t *testing.T) {
	for _, n := range []int{MaxLayers, MaxLayers + 1} {
		raw, _ := json.Marshal(v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1, Config: fakeLayers(1, 2)[0], Layers: fakeLayers(n, 10)})
		_, err := parseManifest(raw, "manifest")
		if n <= MaxLayers && err != nil {
			t.Errorf("%d layers: %v", n, err)
		}
		if n > MaxLayers {
			wantTooLarge(t, err, fmt.Sprintf("%d layers", n))
		}
	}
	for _, n := range []int{MaxIndexChildren, MaxIndexChildren + 1} {
		raw, _ := json.Marshal(v1.IndexManifest{SchemaVersion: 2, Manifests: fakeLayers(n, 10)})
		_, err := parseIndex(raw, MaxIndexChildren, "index")
		if n <= MaxIndexChildren && err != nil {
			t.Errorf("%d manifests: %v", n, err)
		}
		if n > MaxIndexChildren {
			wantTooLarge(t, err, fmt.Sprintf("%d manifests", n))
		}
	}
}

// GHSA-88jx-383q-w4qc (cosign 2.2.4): an attachment was read whole with
// no size check. A layer of exactly COSIGN_MAX_ATTACHMENT_SIZE (1 KiB
// here) is read; one byte more is refused from its descriptor, before
// the blob is fetched; a descriptor of 1 GB+42 likewise with the default
// limit. A layer streaming more than its descriptor says:
// TestHostileLayerSizeLies. The variable itself: internal/cli/flags
// TestRegistryOptions.
func TestAdvisory_GHSA_88jx_383q_w4qc_AttachmentSize(t *testing.T) {
	for _, n := range []int{1 << 10, 1<<10 + 1} {
		reg, img, c := hostileSetup(t, false)
		l := Layer{MediaType: SimpleSigningMediaType, Data: []byte(strings.Repeat("a", n))}
		if err := c.AppendLegacy(context.Background(), img.Digest, SignatureSuffix, l, nil); err != nil {
			t.Fatal(err)
		}
		before := reg.count("GET /v2/app/blobs/")
		layers, err := c.ReadLegacy(context.Background(), img.Digest, SignatureSuffix)
		if n <= 1<<10 {
			if err != nil || len(layers) != 1 || len(layers[0].Data) != n {
				t.Errorf("%d bytes: %d layers, %v", n, len(layers), err)
			}
			continue
		}
		wantTooLarge(t, err, "COSIGN_MAX_ATTACHMENT_SIZE")
		if reg.count("GET /v2/app/blobs/") != before {
			t.Errorf("%d bytes: blob fetched although its descriptor is over the limit", n)
		}
	}

	reg, img, _ := hostileSetup(t, false)
	c := reg.client(Options{})
	reg.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != sigTagPath(img) {
			return false
		}
		serveManifest(w, v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1, Layers: fakeLayers(1, 1_000_000_042)})
		return true
	})
	_, err := c.ReadLegacy(context.Background(), img.Digest, SignatureSuffix)
	wantTooLarge(t, err, "COSIGN_MAX_ATTACHMENT_SIZE")
	if n := reg.count("GET /v2/app/blobs/"); n != 0 {
		t.Errorf("%d blobs fetched", n)
	}
}

// Referrers of one digest: MaxReferrers (1000) over two pages are listed;
// one more is refused before any referrer manifest is fetched.
func TestReferrersAtAndPastTheLimit(t *testing.T) {
	for _, n := range []int{MaxReferrers, MaxReferrers + 1} {
		reg, img, c := hostileSetup(t, true)
		reg.setHook(func(w http.ResponseWriter, r *http.Request) bool {
			if !strings.Contains(r.URL.Path, "/referrers/") {
				return false
			}
			w.Header().Set("Content-Type", string(types.OCIImageIndex))
			count := n / 2
			if r.URL.Query().Get("p") == "" {
				w.Header().Set("Link", `</v2/app/referrers/x?p=2>; rel="next"`)
			} else {
				count = n - n/2
			}
			b, _ := json.Marshal(v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: fakeLayers(count, 10)})
			w.Write(b)
			return true
		})
		repo := img.Digest.Context()
		descs, err := c.listReferrers(context.Background(), repo, img.Digest, "")
		if n <= MaxReferrers {
			if err != nil || len(descs) != n {
				t.Errorf("%d referrers: listed %d, %v", n, len(descs), err)
			}
			continue
		}
		wantTooLarge(t, err, "referrers")
		if k := reg.count("GET /v2/app/manifests/sha256:"); k != 0 {
			t.Errorf("%d referrer manifests fetched before refusing", k)
		}
	}
}
