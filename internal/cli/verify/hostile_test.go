package verify_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/signetdev/signet/internal/testing/clitest"
	"github.com/signetdev/signet/internal/testing/regtest"
)

// TestVerifyHostileRegistry: a registry that serves a .sig image of 5000
// layers, or an endless manifest, makes verify fail at once with one line
// naming the limit, and no signature blob is fetched
// (GHSA-vfp6-jrw2-99g9, GHSA-95pr-fxf5-86gv).
func TestVerifyHostileRegistry(t *testing.T) {
	dir := t.TempDir()
	_, pub := regtest.KeyPair(t, dir, "cosign")
	for _, tc := range []struct {
		name, want string
		serve      func(w http.ResponseWriter)
	}{
		{"5000 layers", "5000 layers", func(w http.ResponseWriter) {
			layers := make([]map[string]any, 5000)
			for i := range layers {
				layers[i] = map[string]any{"mediaType": "application/vnd.dev.cosign.simplesigning.v1+json", "size": 10,
					"digest": fmt.Sprintf("sha256:%064x", i)}
			}
			b, _ := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": types.OCIManifestSchema1,
				"config": map[string]any{"mediaType": "application/vnd.oci.image.config.v1+json", "size": 2, "digest": fmt.Sprintf("sha256:%064x", 0)},
				"layers": layers})
			w.Header().Set("Content-Type", string(types.OCIManifestSchema1))
			w.Write(b)
		}},
		{"endless manifest", "limit", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", string(types.OCIManifestSchema1))
			chunk := []byte(strings.Repeat(" ", 1<<16))
			for i := 0; i < 1<<14; i++ { // 1 GiB unless the client hangs up
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inner := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
			var blobs atomic.Int64
			var sigPath atomic.Value
			sigPath.Store("")
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if strings.Contains(r.URL.Path, "/blobs/") && r.Method == http.MethodGet {
					blobs.Add(1)
				}
				if r.URL.Path == sigPath.Load().(string) {
					tc.serve(w)
					return
				}
				inner.ServeHTTP(w, r)
			}))
			t.Cleanup(srv.Close)
			host := strings.TrimPrefix(srv.URL, "http://")
			_, d := regtest.PushRandom(t, host, "app")
			sigPath.Store("/v2/app/manifests/sha256-" + d.DigestStr()[len("sha256:"):] + ".sig")
			blobs.Store(0)
			start := time.Now()
			r := clitest.Run(t, clitest.Options{Transport: http.DefaultTransport}, "verify", "--key", pub, "--insecure-ignore-tlog", d.String())
			r.CheckErrorLine(t)
			t.Log(r.ErrLine())
			if !strings.Contains(r.ErrLine(), tc.want) {
				t.Errorf("error does not name the limit (%q): %s", tc.want, r.ErrLine())
			}
			if took := time.Since(start); took > 20*time.Second {
				t.Errorf("took %v", took)
			}
			if n := blobs.Load(); n != 0 {
				t.Errorf("%d blobs fetched", n)
			}
		})
	}
}
