package oci

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Each hostile registry must make the call fail fast with ErrTooLarge (or
// a digest error), naming the ref, without reading what it should not.

func hostileSetup(t *testing.T, referrers bool) (*fakeRegistry, Target, *Client) {
	t.Helper()
	reg := newFakeRegistry(t, referrers)
	img := reg.pushImage("app", "v1")
	return reg, img, reg.client(Options{MaxAttachmentSize: 1 << 10})
}

func sigTagPath(img Target) string {
	return "/v2/app/manifests/sha256-" + img.Digest.DigestStr()[7:] + ".sig"
}

func serveManifest(w http.ResponseWriter, m v1.Manifest) {
	m.Config = fakeLayers(1, 2)[0]
	b, _ := json.Marshal(m)
	w.Header().Set("Content-Type", string(types.OCIManifestSchema1))
	w.Write(b)
}

func fakeLayers(n int, size int64) []v1.Descriptor {
	ls := make([]v1.Descriptor, n)
	for i := range ls {
		ls[i] = v1.Descriptor{MediaType: SimpleSigningMediaType, Size: size, Digest: v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%064x", i)}}
	}
	return ls
}

func wantTooLarge(t *testing.T, err error, mention string) {
	t.Helper()
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), mention) {
		t.Errorf("error %v, want ErrTooLarge naming %q", err, mention)
	}
}

func TestHostileHugeManifest(t *testing.T) {
	for _, chunked := range []bool{false, true} {
		reg, img, c := hostileSetup(t, false)
		var sent atomic.Int64
		reg.setHook(func(w http.ResponseWriter, r *http.Request) bool {
			if r.URL.Path != sigTagPath(img) {
				return false
			}
			if !chunked {
				w.Header().Set("Content-Length", fmt.Sprint(1<<30))
			}
			w.Header().Set("Content-Type", string(types.OCIManifestSchema1))
			chunk := []byte(strings.Repeat(" ", 64<<10))
			for i := 0; i < (1<<30)/len(chunk); i++ {
				n, err := w.Write(chunk)
				sent.Add(int64(n))
				if err != nil {
					return true
				}
			}
			return true
		})
		start := time.Now()
		_, err := c.ReadLegacy(context.Background(), img.Digest, SignatureSuffix)
		wantTooLarge(t, err, "sha256-"+img.Digest.DigestStr()[7:]+".sig")
		if time.Since(start) > 10*time.Second {
			t.Errorf("took %v", time.Since(start))
		}
	}
}

func TestHostileLayerCount(t *testing.T) {
	reg, img, c := hostileSetup(t, false)
	reg.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != sigTagPath(img) {
			return false
		}
		serveManifest(w, v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1, Layers: fakeLayers(5000, 10)})
		return true
	})
	_, err := c.ReadLegacy(context.Background(), img.Digest, SignatureSuffix)
	wantTooLarge(t, err, "5000 layers")
	if n := reg.count("GET /v2/app/blobs/"); n != 0 {
		t.Errorf("%d blobs fetched before refusing", n)
	}
	// Appending to such an image is refused too.
	err = c.AppendLegacy(context.Background(), img.Digest, SignatureSuffix, Layer{MediaType: SimpleSigningMediaType, Data: []byte("x")}, nil)
	wantTooLarge(t, err, "5000 layers")
}

func TestHostileLayerOverCap(t *testing.T) {
	reg, img, c := hostileSetup(t, false)
	big := Layer{MediaType: SimpleSigningMediaType, Data: []byte(strings.Repeat("a", 2<<10))}
	if err := c.AppendLegacy(context.Background(), img.Digest, SignatureSuffix, big, nil); err != nil {
		t.Fatal(err)
	}
	before := reg.count("GET /v2/app/blobs/")
	_, err := c.ReadLegacy(context.Background(), img.Digest, SignatureSuffix)
	wantTooLarge(t, err, "COSIGN_MAX_ATTACHMENT_SIZE")
	if reg.count("GET /v2/app/blobs/") != before {
		t.Error("blob fetched although its descriptor is over the limit")
	}
}

func TestHostileLayerSizeLies(t *testing.T) {
	for _, tc := range []struct {
		name string
		body func(w io.Writer)
		want error
	}{
		{"endless", func(w io.Writer) {
			for i := 0; i < 1<<14; i++ {
				if _, err := w.Write([]byte(strings.Repeat("z", 64<<10))); err != nil {
					return
				}
			}
		}, ErrTooLarge},
		{"same size, other content", func(w io.Writer) { w.Write([]byte("0123456789")) }, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg, img, c := hostileSetup(t, false)
			layers := fakeLayers(1, 10)
			reg.setHook(func(w http.ResponseWriter, r *http.Request) bool {
				switch {
				case r.URL.Path == sigTagPath(img):
					serveManifest(w, v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1, Layers: layers})
				case strings.HasPrefix(r.URL.Path, "/v2/app/blobs/"):
					tc.body(w)
				default:
					return false
				}
				return true
			})
			_, err := c.ReadLegacy(context.Background(), img.Digest, SignatureSuffix)
			if tc.want != nil {
				wantTooLarge(t, err, layers[0].Digest.String())
			} else if err == nil || !strings.Contains(err.Error(), "content has digest") {
				t.Errorf("digest mismatch: %v", err)
			}
		})
	}
}

func TestHostileEndlessReferrers(t *testing.T) {
	reg, img, c := hostileSetup(t, true)
	reg.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.Contains(r.URL.Path, "/referrers/") {
			return false
		}
		page := r.URL.Query().Get("page")
		w.Header().Set("Content-Type", string(types.OCIImageIndex))
		w.Header().Set("Link", fmt.Sprintf(`<%s?page=%s1>; rel="next"`, r.URL.Path, page))
		b, _ := json.Marshal(v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex})
		w.Write(b)
		return true
	})
	_, err := c.Referrers(context.Background(), img.Digest, "")
	wantTooLarge(t, err, img.Digest.String())
	if n := reg.count("GET /v2/app/referrers/"); n != MaxReferrersPages {
		t.Errorf("%d pages fetched, want %d", n, MaxReferrersPages)
	}
}

func TestHostileTooManyReferrers(t *testing.T) {
	reg, img, c := hostileSetup(t, true)
	reg.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.Contains(r.URL.Path, "/referrers/") {
			return false
		}
		w.Header().Set("Content-Type", string(types.OCIImageIndex))
		if r.URL.Query().Get("p") == "" {
			w.Header().Set("Link", `</v2/app/referrers/x?p=2>; rel="next"`)
		}
		b, _ := json.Marshal(v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: fakeLayers(MaxReferrers/2+1, 10)})
		w.Write(b)
		return true
	})
	_, err := c.Referrers(context.Background(), img.Digest, "")
	wantTooLarge(t, err, "referrers")
	if n := reg.count("GET /v2/app/manifests/sha256:"); n != 0 {
		t.Errorf("%d referrer manifests fetched before refusing", n)
	}
}

func TestHostileReferrerSubject(t *testing.T) {
	reg, img, c := hostileSetup(t, false)
	other := reg.pushImage("app", "v2")
	if _, err := c.WriteReferrer(context.Background(), other, BundleMediaType, nil, nil); err != nil {
		t.Fatal(err)
	}
	// Copy other's fallback index to img's tag: the listing lies.
	otherIdx, _, err := c.getManifest(context.Background(), other.Digest.Context(), fallbackTag(other.Digest.Context(), other.Digest).TagStr())
	if err != nil {
		t.Fatal(err)
	}
	reg.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != "/v2/app/manifests/sha256-"+img.Digest.DigestStr()[7:] {
			return false
		}
		w.Header().Set("Content-Type", string(types.OCIImageIndex))
		w.Write(otherIdx)
		return true
	})
	var warned string
	c.o.Warnf = func(f string, a ...any) { warned = fmt.Sprintf(f, a...) }
	rs, err := c.Referrers(context.Background(), img.Digest, "")
	if err != nil || len(rs) != 0 || !strings.Contains(warned, "subject differs") {
		t.Errorf("referrers %v, err %v, warning %q", rs, err, warned)
	}
}

func TestRetryTransient(t *testing.T) {
	reg, img, c := hostileSetup(t, false)
	var failed atomic.Int32
	reg.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		if strings.HasPrefix(r.URL.Path, "/v2/app/manifests/") && failed.Add(1) <= 1 {
			w.WriteHeader(http.StatusInternalServerError)
			return true
		}
		return false
	})
	got, err := c.Resolve(context.Background(), img.Ref)
	if err != nil || got.Digest != img.Digest {
		t.Fatalf("resolve after a 500: %v %v", got, err)
	}
	if failed.Load() < 2 {
		t.Errorf("no retry happened")
	}
	// A registry that keeps failing is reported with the status.
	reg.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		if strings.HasPrefix(r.URL.Path, "/v2/app/manifests/") {
			w.WriteHeader(http.StatusBadGateway)
			return true
		}
		return false
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := c.Resolve(ctx, img.Ref); err == nil || errors.Is(err, ErrNotFound) {
		t.Errorf("resolve against a failing registry: %v", err)
	}
}

func TestNextLink(t *testing.T) {
	req, _ := url.Parse("https://reg.example/v2/app/referrers/sha256:x")
	for h, want := range map[string]string{
		`</v2/app/referrers/sha256:x?n=2>; rel="next"`:                       "https://reg.example/v2/app/referrers/sha256:x?n=2",
		`<https://reg.example/p2>; rel=next`:                                 "https://reg.example/p2",
		`<https://reg.example/prev>; rel="prev", <p3>; type="x"; rel="next"`: "https://reg.example/v2/app/referrers/p3",
		``:                                  "",
		`<https://reg.example/p2>; rel="x"`: "",
	} {
		u, err := nextLink(h, req)
		got := ""
		if u != nil {
			got = u.String()
		}
		if err != nil || got != want {
			t.Errorf("nextLink(%q) = %q, %v; want %q", h, got, err, want)
		}
	}
	if _, err := nextLink(`<https://evil.example/p2>; rel="next"`, req); err == nil {
		t.Error("link to another host followed")
	}
}

func TestParseRegistryError(t *testing.T) {
	e := parseRegistryError(404, []byte(`{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest\nunknown"}]}`))
	if !errors.Is(e, ErrNotFound) || strings.Contains(e.Error(), "\n") || !strings.Contains(e.Error(), "MANIFEST_UNKNOWN") {
		t.Errorf("%v", e)
	}
	if e := parseRegistryError(401, []byte(`<html>`)); errors.Is(e, ErrNotFound) || !strings.Contains(e.Error(), "401") {
		t.Errorf("%v", e)
	}
	if e := parseRegistryError(400, []byte(`{"errors":[{"code":"NAME_UNKNOWN"}]}`)); !errors.Is(e, ErrNotFound) {
		t.Errorf("NAME_UNKNOWN: %v", e)
	}
}

func FuzzParseRegistryError(f *testing.F) {
	f.Add(404, []byte(`{"errors":[{"code":"MANIFEST_UNKNOWN","message":"x"}]}`))
	f.Add(500, []byte(`{"errors":null}`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		e := parseRegistryError(status, body)
		if s := e.Error(); strings.ContainsAny(s, "\n\r") || len(e.Codes) > 8 {
			t.Errorf("error %q", s)
		}
	})
}

func FuzzNextLink(f *testing.F) {
	f.Add(`</v2/a/referrers/sha256:x?n=2>; rel="next"`)
	f.Add(`<//evil/x>; rel=next, <a>;rel="next"`)
	req, _ := url.Parse("https://reg.example/v2/a/referrers/sha256:x")
	f.Fuzz(func(t *testing.T, h string) {
		u, err := nextLink(h, req)
		if err == nil && u != nil && (u.Host != req.Host || u.Scheme != req.Scheme) {
			t.Errorf("%q: followed to %s", h, u)
		}
	})
}

func FuzzParseManifest(f *testing.F) {
	f.Add([]byte(`{"schemaVersion":2,"layers":[{"mediaType":"x","size":1,"digest":"sha256:` + strings.Repeat("a", 64) + `"}]}`))
	f.Add([]byte(`{"schemaVersion":2,"manifests":[]}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		if m, err := parseManifest(raw, "m"); err == nil && len(m.Layers) > MaxLayers {
			t.Errorf("%d layers accepted", len(m.Layers))
		}
		if m, err := parseIndex(raw, 5, "i"); err == nil && len(m.Manifests) > 5 {
			t.Errorf("%d manifests accepted", len(m.Manifests))
		}
	})
}
