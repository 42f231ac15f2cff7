package upload_test

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/signetdev/signet/internal/testing/clitest"
	"github.com/signetdev/signet/internal/testing/regtest"
	"github.com/signetdev/signet/pkg/oci"
)

// TestUploadAndGenerate: upload blob/wasm push what cosign pushes (one
// layer with the file, the wasm media types, an index per platform) and
// print the digest reference; generate prints the simple-signing payload.
func TestUploadAndGenerate(t *testing.T) {
	host := regtest.Registry(t, false)
	dir := t.TempDir()
	file := filepath.Join(dir, "tool.sh")
	if err := os.WriteFile(file, []byte("#!/bin/sh\necho hi\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	opts := clitest.Options{Transport: http.DefaultTransport}

	r := clitest.Run(t, opts, "upload", "blob", "-f", file, "-a", "org.example/k=v", host+"/tools:v1")
	if r.Code != 0 {
		t.Fatalf("upload blob: %s", r.Stderr)
	}
	d, err := name.NewDigest(strings.TrimSpace(r.Stdout))
	if err != nil {
		t.Fatalf("stdout %q: %v", r.Stdout, err)
	}
	img, err := remote.Image(d)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := img.Manifest()
	layers, _ := img.Layers()
	if len(layers) != 1 || m.Annotations["org.example/k"] != "v" || !strings.HasPrefix(string(m.Layers[0].MediaType), "text/plain") {
		t.Fatalf("manifest %+v", m)
	}
	rc, _ := layers[0].Uncompressed()
	got, _ := io.ReadAll(rc)
	if string(got) != "#!/bin/sh\necho hi\n" {
		t.Fatalf("layer %q", got)
	}
	if !strings.Contains(r.Stderr, "is deprecated") {
		t.Errorf("no deprecation notice: %s", r.Stderr)
	}

	r = clitest.Run(t, opts, "upload", "blob", "-f", file+":linux/amd64", "-f", file+":darwin/arm64", host+"/tools:multi")
	if r.Code != 0 {
		t.Fatalf("upload blob index: %s", r.Stderr)
	}
	ref, err := name.ParseReference(strings.TrimSpace(r.Stdout))
	if err != nil {
		t.Fatal(err)
	}
	idx, err := remote.Index(ref)
	if err != nil {
		t.Fatal(err)
	}
	im, _ := idx.IndexManifest()
	if len(im.Manifests) != 2 || im.Manifests[1].Platform.OS != "darwin" {
		t.Fatalf("index %+v", im)
	}
	if r := clitest.Run(t, opts, "upload", "blob", "-f", file+":linux", "-f", file, host+"/tools:x"); r.Code == 0 || !strings.Contains(r.ErrLine(), "each needs its platform") {
		t.Errorf("two files, one without platform: %q", r.ErrLine())
	}

	r = clitest.Run(t, opts, "upload", "wasm", "-f", file, host+"/filter:v1")
	if r.Code != 0 {
		t.Fatalf("upload wasm: %s", r.Stderr)
	}
	wref, err := name.ParseReference(strings.TrimSpace(r.Stdout))
	if err != nil {
		t.Fatal(err)
	}
	wimg, err := remote.Image(wref)
	if err != nil {
		t.Fatal(err)
	}
	wm, _ := wimg.Manifest()
	if wm.Config.MediaType != oci.WasmConfigMediaType || wm.Layers[0].MediaType != oci.WasmLayerMediaType {
		t.Fatalf("wasm manifest %+v", wm)
	}

	r = clitest.Run(t, opts, "generate", "-a", "env=prod", d.String())
	if r.Code != 0 || !strings.HasPrefix(r.Stdout, `{"critical":{"identity":{"docker-reference":"`+d.Context().Name()+`"},"image":{"docker-manifest-digest":"`+d.DigestStr()+`"},"type":"cosign container image signature"},"optional":{"env":"prod"}}`) || strings.HasSuffix(r.Stdout, "\n") {
		t.Fatalf("generate: %q %s", r.Stdout, r.Stderr)
	}
}
