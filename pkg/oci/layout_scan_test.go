package oci

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// writeBlob stores b under name (its digest unless given) and returns the hash.
func writeBlob(t testing.TB, dir string, b []byte, name string) v1.Hash {
	t.Helper()
	sum := sha256.Sum256(b)
	h := v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}
	if name == "" {
		name = h.Hex
	}
	if err := os.WriteFile(filepath.Join(dir, "blobs", "sha256", name), b, 0o600); err != nil {
		t.Fatal(err)
	}
	return h
}

// TestLayoutScanFindsOnlyContentAddressedManifests: of the blobs cosign
// save leaves unlisted, only image manifests with a subject whose content
// matches their file name count as referrers.
func TestLayoutScanFindsOnlyContentAddressedManifests(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "blobs", "sha256"), 0o700); err != nil {
		t.Fatal(err)
	}
	subject := `"subject":{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":1,"digest":"sha256:` + strings.Repeat("a", 64) + `"}`
	good := writeBlob(t, dir, []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[],`+subject+`}`), "")
	writeBlob(t, dir, []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[],`+subject+`,"x":1}`), strings.Repeat("b", 64))
	writeBlob(t, dir, []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[],"layers":[],`+subject+`}`), "")
	writeBlob(t, dir, []byte(`{"schemaVersion":2,"layers":[]}`), "")
	writeBlob(t, dir, append([]byte{0x1f, 0x8b}, make([]byte, 100)...), "")
	big := append([]byte(`{"layers":[],`+subject+`,"pad":"`), bytes.Repeat([]byte("p"), MaxManifestSize)...)
	writeBlob(t, dir, append(big, '"', '}'), "")
	if err := os.WriteFile(filepath.Join(dir, "index.json"), []byte(`{"schemaVersion":2,"manifests":[]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := OpenLayout(dir)
	if err != nil {
		t.Fatal(err)
	}
	got, err := l.referrerDescs()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Digest != good {
		t.Fatalf("found %+v, want only %s", got, good)
	}
}

type bodyRT struct{ body []byte }

func (b bodyRT) RoundTrip(*http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: http.StatusOK, ContentLength: -1, Body: io.NopCloser(bytes.NewReader(b.body))}, nil
}

// TestBoundManifests: a manifest body of the limit reads whole; one byte
// more fails with ErrTooLarge instead of being cut short; blobs are not
// bounded by it.
func TestBoundManifests(t *testing.T) {
	for _, c := range []struct {
		path string
		n    int
		want error
	}{
		{"/v2/r/manifests/sha256:x", MaxManifestSize, nil},
		{"/v2/r/manifests/v1", MaxManifestSize + 1, ErrTooLarge},
		{"/v2/r/referrers/sha256:x", MaxManifestSize + 1, ErrTooLarge},
		{"/v2/r/blobs/sha256:x", MaxManifestSize + 1, nil},
	} {
		req, _ := http.NewRequest(http.MethodGet, "http://r.test"+c.path, nil)
		resp, err := boundManifests{bodyRT{make([]byte, c.n)}}.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		if !errors.Is(err, c.want) || (c.want == nil && len(b) != c.n) {
			t.Errorf("%s, %d bytes: read %d, err %v, want %v", c.path, c.n, len(b), err, c.want)
		}
	}
}

// FuzzScanBlob: any blob content is either skipped or a bounded,
// content-addressed manifest descriptor; never a panic.
func FuzzScanBlob(f *testing.F) {
	f.Add([]byte(`{"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[],"subject":{"digest":"sha256:` + strings.Repeat("a", 64) + `"}}`))
	f.Add([]byte(`{"layers":null,"subject":null}`))
	f.Add([]byte(`{`))
	f.Fuzz(func(t *testing.T, b []byte) {
		dir := t.TempDir()
		if err := os.MkdirAll(filepath.Join(dir, "blobs", "sha256"), 0o700); err != nil {
			t.Fatal(err)
		}
		h := writeBlob(t, dir, b, "")
		l := &Layout{dir: dir}
		d, ok, err := l.scanBlob(filepath.Join(dir, "blobs", "sha256", h.Hex), h)
		if err != nil {
			t.Fatal(err)
		}
		if ok && (d.Digest != h || d.Size != int64(len(b)) || d.MediaType.IsIndex()) {
			t.Fatalf("descriptor %+v for %d bytes %s", d, len(b), h)
		}
	})
}
