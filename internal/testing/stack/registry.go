package stack

import (
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// ReferrersRegistry starts an in-process OCI registry that serves the OCI
// 1.1 referrers API, for the duration of the test, and returns its
// host:port. It listens on 127.0.0.1, so a cosign subprocess reaches it,
// and ggcr and cosign talk plain HTTP to it without flags. The stack's own
// registry (Env.Registry, crane's) has no referrers API: the two cover
// both ways cosign v3 stores a bundle (referrer listing, or the sha256-<hex>
// fallback tag).
func (e *Env) ReferrersRegistry(t testing.TB) string {
	t.Helper()
	srv := httptest.NewServer(registry.New(registry.WithReferrersSupport(true),
		registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// platforms are the ones PushRandomIndex gives its children, in order.
var platforms = []v1.Platform{
	{OS: "linux", Architecture: "amd64"}, {OS: "linux", Architecture: "arm64", Variant: "v8"},
	{OS: "linux", Architecture: "arm", Variant: "v7"}, {OS: "linux", Architecture: "s390x"},
	{OS: "linux", Architecture: "ppc64le"}, {OS: "windows", Architecture: "amd64"},
}

// PushRandomImageTo pushes a one-layer image of random content to
// host/repo:latest (host: Env.Registry, a ReferrersRegistry, or any
// loopback registry) and returns its digest reference (host/repo@sha256:…).
func (e *Env) PushRandomImageTo(t testing.TB, host, repo string) string {
	t.Helper()
	img, err := random.Image(1024, 1)
	if err != nil {
		t.Fatal(err)
	}
	return pushTagged(t, host+"/"+repo+":latest", img)
}

// PushRandomIndex pushes a multi-arch OCI image index of n random images
// (n at most 6, one platform each: linux/amd64, linux/arm64/v8, …) to
// host/repo:latest. It returns the index's digest reference and its
// children's, in platform order.
func (e *Env) PushRandomIndex(t testing.TB, host, repo string, n int) (string, []string) {
	t.Helper()
	if n < 1 || n > len(platforms) {
		t.Fatalf("PushRandomIndex: %d children, want 1 to %d", n, len(platforms))
	}
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	var children []string
	for i := range n {
		img, err := random.Image(512, 1)
		if err != nil {
			t.Fatal(err)
		}
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		p := platforms[i]
		cf.OS, cf.Architecture, cf.Variant = p.OS, p.Architecture, p.Variant
		if img, err = mutate.ConfigFile(img, cf); err != nil {
			t.Fatal(err)
		}
		d, err := img.Digest()
		if err != nil {
			t.Fatal(err)
		}
		children = append(children, host+"/"+repo+"@"+d.String())
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &p}})
	}
	return pushTagged(t, host+"/"+repo+":latest", idx), children
}

// pushTagged writes an image or index (with its children) at tag and
// returns its digest reference.
func pushTagged(t testing.TB, tag string, m remote.Taggable) string {
	t.Helper()
	ref, err := name.NewTag(tag)
	if err != nil {
		t.Fatal(err)
	}
	switch v := m.(type) {
	case v1.ImageIndex:
		err = remote.WriteIndex(ref, v)
	case v1.Image:
		err = remote.Write(ref, v)
	default:
		err = fmt.Errorf("cannot push a %T", m)
	}
	if err != nil {
		t.Fatalf("pushing %s: %v", tag, err)
	}
	d, err := m.(interface{ Digest() (v1.Hash, error) }).Digest()
	if err != nil {
		t.Fatal(err)
	}
	return ref.Context().Name() + "@" + d.String()
}

// Tags lists the tags of host/repo (none if the repository does not
// exist).
func (e *Env) Tags(t testing.TB, repo string) []string {
	t.Helper()
	r, err := name.NewRepository(repo)
	if err != nil {
		t.Fatal(err)
	}
	tags, err := remote.List(r)
	var terr *transport.Error
	if errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound {
		return nil
	}
	if err != nil {
		t.Fatalf("listing tags of %s: %v", repo, err)
	}
	return tags
}

// Referrers lists the manifests that name digestRef (host/repo@sha256:…)
// as their subject, through the referrers API or, where the registry has
// none, the sha256-<hex> fallback tag.
func (e *Env) Referrers(t testing.TB, digestRef string) []v1.Descriptor {
	t.Helper()
	d, err := name.NewDigest(digestRef)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := remote.Referrers(d)
	if err != nil {
		t.Fatalf("referrers of %s: %v", digestRef, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	return im.Manifests
}

// Resolve returns the digest reference (host/repo@sha256:…) of ref, a tag
// or digest reference.
func (e *Env) Resolve(t testing.TB, ref string) string {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	desc, err := remote.Head(r)
	if err != nil {
		t.Fatalf("resolving %s: %v", ref, err)
	}
	return r.Context().Name() + "@" + desc.Digest.String()
}
