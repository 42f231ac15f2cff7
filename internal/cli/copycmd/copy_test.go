package copycmd_test

import (
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/signetdev/signet/internal/testing/clitest"
	"github.com/signetdev/signet/pkg/oci"
)

// hugeManifests wraps a registry: a GET of a manifest by digest answers
// an endless body (with or without a Content-Length that says so).
type hugeManifests struct {
	next          http.Handler
	contentLength bool
	served        atomic.Int64
}

func (h *hugeManifests) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet || !strings.Contains(r.URL.Path, "/manifests/sha256:") {
		h.next.ServeHTTP(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
	if h.contentLength {
		w.Header().Set("Content-Length", "1073741824")
	}
	chunk := []byte(`{"schemaVersion":2,"annotations":{"x":"` + strings.Repeat("a", 64<<10))
	for i := 0; i < (64<<20)/len(chunk); i++ { // 64 MiB: under ggcr's 100 MiB limit
		n, err := w.Write(chunk)
		h.served.Add(int64(n))
		if err != nil {
			return
		}
	}
}

// TestCopyBoundsManifests: a source registry serving a manifest far over
// oci.MaxManifestSize makes copy fail with the limit named, after reading
// little more than the limit (ggcr alone would read up to 100 MiB).
func TestCopyBoundsManifests(t *testing.T) {
	for _, cl := range []bool{false, true} {
		reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
		hostile := &hugeManifests{next: reg, contentLength: cl}
		srv := httptest.NewServer(hostile)
		defer srv.Close()
		host := strings.TrimPrefix(srv.URL, "http://")
		img, err := random.Image(64, 1)
		if err != nil {
			t.Fatal(err)
		}
		tag, _ := name.NewTag(host + "/src:v1")
		if err := remote.Write(tag, img); err != nil {
			t.Fatal(err)
		}
		r := clitest.Run(t, clitest.Options{Transport: http.DefaultTransport}, "copy", host+"/src:v1", host+"/dst:v1")
		r.CheckErrorLine(t)
		if !strings.Contains(r.ErrLine(), oci.ErrTooLarge.Error()) {
			t.Errorf("Content-Length %v: error does not name the limit: %s", cl, r.ErrLine())
		}
		// The client stops reading; the server may have buffered a little more.
		if got := hostile.served.Load(); got > 3*oci.MaxManifestSize {
			t.Errorf("Content-Length %v: the registry wrote %d bytes before copy gave up", cl, got)
		}
		if _, err := remote.Head(mustRef(t, host+"/dst:v1")); err == nil {
			t.Errorf("Content-Length %v: the destination was written", cl)
		}
	}
}

// TestCopyImageAndSignatures: copy still copies an ordinary image with
// its legacy signature through the bounded transport.
func TestCopyImageAndSignatures(t *testing.T) {
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	img, _ := random.Image(64, 1)
	tag, _ := name.NewTag(host + "/src:v1")
	if err := remote.Write(tag, img); err != nil {
		t.Fatal(err)
	}
	h, _ := img.Digest()
	c := oci.New(oci.Options{Transport: http.DefaultTransport})
	d := tag.Context().Digest(h.String())
	if err := c.AppendLegacy(t.Context(), d, oci.SignatureSuffix, oci.Layer{MediaType: oci.SimpleSigningMediaType, Data: []byte(`{"s":1}`)}, nil); err != nil {
		t.Fatal(err)
	}
	r := clitest.Run(t, clitest.Options{Transport: http.DefaultTransport}, "copy", host+"/src:v1", host+"/dst:v1")
	if r.Code != 0 {
		t.Fatalf("copy: exit %d: %s", r.Code, r.Stderr)
	}
	got, err := remote.Head(mustRef(t, host+"/dst:v1"))
	if err != nil || got.Digest != h {
		t.Fatalf("destination: %v %v", got, err)
	}
	layers, err := c.ReadLegacy(t.Context(), mustRef(t, host+"/dst@"+h.String()).(name.Digest), oci.SignatureSuffix)
	if err != nil || len(layers) != 1 || string(layers[0].Data) != `{"s":1}` {
		t.Fatalf("copied signature: %+v %v", layers, err)
	}
}

func mustRef(t *testing.T, s string) name.Reference {
	t.Helper()
	ref, err := name.ParseReference(s)
	if err != nil {
		t.Fatal(err)
	}
	return ref
}
