// Package regtest gives CLI tests an in-process OCI registry, random
// images in it, and cosign key pairs.
package regtest

import (
	"io"
	"log"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/signetdev/signet/pkg/keys"
)

// Registry starts go-containerregistry's registry, with or without the
// OCI 1.1 referrers API, for the test's lifetime; it returns host:port
// (plain HTTP on 127.0.0.1, which go-containerregistry and signet use
// without flags).
func Registry(t testing.TB, referrers bool) string {
	t.Helper()
	srv := httptest.NewServer(registry.New(registry.WithReferrersSupport(referrers), registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// PushRandom pushes a random one-layer image as host/repo:v1 and returns
// the tag and the image's digest reference.
func PushRandom(t testing.TB, host, repo string) (name.Tag, name.Digest) {
	t.Helper()
	img, err := random.Image(256, 1)
	if err != nil {
		t.Fatal(err)
	}
	tag, err := name.NewTag(host + "/" + repo + ":v1")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(tag, img); err != nil {
		t.Fatal(err)
	}
	h, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return tag, tag.Context().Digest(h.String())
}

// KeyPair writes a cosign key pair with an empty password as
// dir/prefix.key and dir/prefix.pub (run signet with COSIGN_PASSWORD="").
func KeyPair(t testing.TB, dir, prefix string) (key, pub string) {
	t.Helper()
	kp, err := keys.GenerateKeyPair(func(bool) ([]byte, error) { return nil, nil })
	if err != nil {
		t.Fatal(err)
	}
	key, pub, err = keys.WriteKeyPair(filepath.Join(dir, prefix), kp)
	if err != nil {
		t.Fatal(err)
	}
	return key, pub
}

// PushRandomIndex pushes a random index of n one-layer images as
// host/repo:v1 and returns the tag, the index's digest reference and its
// images' digest references.
func PushRandomIndex(t testing.TB, host, repo string, n int) (name.Tag, name.Digest, []name.Digest) {
	t.Helper()
	idx, err := random.Index(128, 1, int64(n))
	if err != nil {
		t.Fatal(err)
	}
	tag, err := name.NewTag(host + "/" + repo + ":v1")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(tag, idx); err != nil {
		t.Fatal(err)
	}
	h, err := idx.Digest()
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	var children []name.Digest
	for _, m := range im.Manifests {
		children = append(children, tag.Context().Digest(m.Digest.String()))
	}
	return tag, tag.Context().Digest(h.String()), children
}
