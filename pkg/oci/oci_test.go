package oci

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// fakeRegistry is ggcr's in-process registry behind a hook that can answer
// instead of it, counting requests by method and path.
type fakeRegistry struct {
	t    *testing.T
	host string
	mu   sync.Mutex
	hits map[string]int
	hook func(w http.ResponseWriter, r *http.Request) bool
}

func newFakeRegistry(t *testing.T, referrers bool) *fakeRegistry {
	t.Helper()
	f := &fakeRegistry{t: t, hits: map[string]int{}}
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)), registry.WithReferrersSupport(referrers))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.hits[r.Method+" "+r.URL.Path]++
		hook := f.hook
		f.mu.Unlock()
		if hook != nil && hook(w, r) {
			return
		}
		reg.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	f.host = strings.TrimPrefix(srv.URL, "http://")
	return f
}

func (f *fakeRegistry) setHook(h func(w http.ResponseWriter, r *http.Request) bool) {
	f.mu.Lock()
	f.hook = h
	f.mu.Unlock()
}

func (f *fakeRegistry) count(prefix string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for k, v := range f.hits {
		if strings.HasPrefix(k, prefix) {
			n += v
		}
	}
	return n
}

func (f *fakeRegistry) client(o Options) *Client {
	return New(o)
}

// pushImage pushes a random image to repo:tag and returns its target.
func (f *fakeRegistry) pushImage(repo, tag string) Target {
	f.t.Helper()
	img, err := random.Image(64, 1)
	if err != nil {
		f.t.Fatal(err)
	}
	ref, err := name.ParseReference(fmt.Sprintf("%s/%s:%s", f.host, repo, tag))
	if err != nil {
		f.t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		f.t.Fatal(err)
	}
	d, _ := img.Digest()
	mt, _ := img.MediaType()
	sz, _ := img.Size()
	dig := ref.Context().Digest(d.String())
	return Target{Ref: ref, Digest: dig, Descriptor: v1.Descriptor{MediaType: mt, Size: sz, Digest: d}}
}

func TestResolve(t *testing.T) {
	reg := newFakeRegistry(t, false)
	want := reg.pushImage("app", "v1")
	c := reg.client(Options{})
	ctx := context.Background()
	ref, err := c.ParseReference(reg.host + "/app:v1")
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Resolve(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	if got.Digest != want.Digest || got.Descriptor.Digest != want.Descriptor.Digest || got.Descriptor.Size != want.Descriptor.Size || got.Descriptor.MediaType != want.Descriptor.MediaType {
		t.Errorf("resolve: %+v, want %+v", got, want)
	}
	if reg.count("GET /v2/app/manifests") != 0 {
		t.Errorf("resolve used GET although HEAD answered")
	}
	byDigest, err := c.Resolve(ctx, want.Digest)
	if err != nil || byDigest.Digest != want.Digest {
		t.Errorf("resolve by digest: %v %v", byDigest, err)
	}
	for _, s := range []string{reg.host + "/app:missing", reg.host + "/nope:v1", reg.host + "/app@sha256:" + strings.Repeat("0", 64)} {
		ref, _ := c.ParseReference(s)
		_, err := c.Resolve(ctx, ref)
		if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), s[len(reg.host)+1:]) {
			t.Errorf("resolve %s: %v, want ErrNotFound naming the ref", s, err)
		}
	}
	// A registry that does not answer HEAD is asked with GET.
	reg.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodHead {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return true
		}
		return false
	})
	got, err = c.Resolve(ctx, ref)
	if err != nil || got.Descriptor.Digest != want.Descriptor.Digest {
		t.Errorf("resolve without HEAD: %+v %v", got, err)
	}
}

func TestParseReferenceHTTP(t *testing.T) {
	strict := New(Options{})
	ref, err := strict.ParseReference("registry.example.com/app:v1")
	if err != nil || ref.Context().Scheme() != "https" {
		t.Errorf("strict: %v %v", ref, err)
	}
	loose := New(Options{AllowHTTP: true})
	ref, err = loose.ParseReference("registry.example.com/app:v1")
	if err != nil || ref.Context().Scheme() != "http" {
		t.Errorf("--allow-http-registry: %v %v", ref, err)
	}
	if _, err := strict.ParseReference("UPPER/Case"); err == nil || !strings.Contains(err.Error(), "UPPER/Case") {
		t.Errorf("bad reference: %v", err)
	}
}

func TestChildren(t *testing.T) {
	reg := newFakeRegistry(t, false)
	idx, err := random.Index(32, 1, 3)
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := name.ParseReference(reg.host + "/multi:v1")
	if err := remote.WriteIndex(ref, idx); err != nil {
		t.Fatal(err)
	}
	c := reg.client(Options{})
	tgt, err := c.Resolve(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	kids, err := c.Children(context.Background(), tgt)
	if err != nil {
		t.Fatal(err)
	}
	im, _ := idx.IndexManifest()
	if len(kids) != 3 {
		t.Fatalf("children: %d, want 3", len(kids))
	}
	for i, k := range kids {
		if k.Descriptor.Digest != im.Manifests[i].Digest || k.Digest.DigestStr() != im.Manifests[i].Digest.String() {
			t.Errorf("child %d: %+v", i, k)
		}
	}
	img := reg.pushImage("single", "v1")
	if kids, err := c.Children(context.Background(), img); err != nil || kids != nil {
		t.Errorf("image children: %v %v", kids, err)
	}
}

func TestLegacyRoundTrip(t *testing.T) {
	for _, docker := range []bool{false, true} {
		t.Run(fmt.Sprint("docker=", docker), func(t *testing.T) {
			reg := newFakeRegistry(t, false)
			img := reg.pushImage("app", "v1")
			c := reg.client(Options{DockerMediaTypes: docker})
			ctx := context.Background()
			if got, err := c.ReadLegacy(ctx, img.Digest, SignatureSuffix); err != nil || got != nil {
				t.Fatalf("empty: %v %v", got, err)
			}
			l1 := Layer{MediaType: SimpleSigningMediaType, Data: []byte(`{"a":1}`), Annotations: map[string]string{AnnotationSignature: "c2ln"}}
			l2 := Layer{MediaType: SimpleSigningMediaType, Data: []byte(`{"a":2}`), Annotations: map[string]string{AnnotationSignature: "c2lnMg=="}}
			for _, l := range []Layer{l1, l2, l1} {
				if err := c.AppendLegacy(ctx, img.Digest, SignatureSuffix, l, nil); err != nil {
					t.Fatal(err)
				}
			}
			// Same content, other annotations: a different signature.
			l3 := Layer{MediaType: SimpleSigningMediaType, Data: l1.Data, Annotations: map[string]string{AnnotationSignature: "b3RoZXI="}}
			if err := c.AppendLegacy(ctx, img.Digest, SignatureSuffix, l3, nil); err != nil {
				t.Fatal(err)
			}
			got, err := c.ReadLegacy(ctx, img.Digest, SignatureSuffix)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 3 || string(got[0].Data) != `{"a":1}` || string(got[1].Data) != `{"a":2}` || got[2].Annotations[AnnotationSignature] != "b3RoZXI=" {
				t.Fatalf("layers: %+v", got)
			}
			if got[0].MediaType != SimpleSigningMediaType || got[0].Annotations[AnnotationSignature] != "c2ln" || got[0].Digest.Hex == "" {
				t.Errorf("layer 0: %+v", got[0])
			}
			tag, _ := c.LegacyTag(img.Digest, SignatureSuffix)
			if want := "sha256-" + img.Digest.DigestStr()[7:] + ".sig"; tag.TagStr() != want || tag.Context() != img.Digest.Context() {
				t.Errorf("tag %s, want %s in %s", tag, want, img.Digest.Context())
			}
			checkLegacyImage(t, tag, docker, got)

			// attest --replace drops what replace picks.
			repl := Layer{MediaType: DSSEMediaType, Data: []byte(`{"new":true}`)}
			if err := c.AppendLegacy(ctx, img.Digest, SignatureSuffix, repl, func(l Layer) bool { return strings.Contains(string(l.Data), `"a":1`) }); err != nil {
				t.Fatal(err)
			}
			got, _ = c.ReadLegacy(ctx, img.Digest, SignatureSuffix)
			if len(got) != 2 || string(got[0].Data) != `{"a":2}` || string(got[1].Data) != `{"new":true}` {
				t.Errorf("after replace: %+v", got)
			}

			if err := c.WriteLegacy(ctx, img.Digest, SBOMSuffix, []Layer{{MediaType: "text/spdx+json", Data: []byte("{}")}}); err != nil {
				t.Fatal(err)
			}
			sb, err := c.ReadLegacy(ctx, img.Digest, SBOMSuffix)
			if err != nil || len(sb) != 1 || sb[0].MediaType != "text/spdx+json" {
				t.Errorf("sbom: %+v %v", sb, err)
			}
		})
	}
}

// checkLegacyImage: the manifest and config are what cosign writes.
func checkLegacyImage(t *testing.T, tag name.Tag, docker bool, layers []Layer) {
	t.Helper()
	desc, err := remote.Get(tag)
	if err != nil {
		t.Fatal(err)
	}
	wantMT, wantCfg := types.OCIManifestSchema1, types.OCIConfigJSON
	if docker {
		wantMT, wantCfg = types.DockerManifestSchema2, types.DockerConfigJSON
	}
	if desc.MediaType != wantMT {
		t.Errorf("manifest media type %s, want %s", desc.MediaType, wantMT)
	}
	im, _ := desc.Image()
	m, _ := im.Manifest()
	if m.Config.MediaType != wantCfg {
		t.Errorf("config media type %s", m.Config.MediaType)
	}
	cfg, _ := im.RawConfigFile()
	var cf struct {
		Architecture *string `json:"architecture"`
		RootFS       struct {
			Type    string    `json:"type"`
			DiffIDs []v1.Hash `json:"diff_ids"`
		} `json:"rootfs"`
		History []json.RawMessage `json:"history"`
	}
	if err := json.Unmarshal(cfg, &cf); err != nil {
		t.Fatal(err)
	}
	if cf.RootFS.Type != "layers" || len(cf.RootFS.DiffIDs) != len(layers) || cf.Architecture == nil || len(cf.History) != len(layers) {
		t.Errorf("config %s", cfg)
	}
	for i, l := range layers {
		if cf.RootFS.DiffIDs[i] != l.Digest {
			t.Errorf("diff_id %d: %s, want %s", i, cf.RootFS.DiffIDs[i], l.Digest)
		}
	}
}

func TestLegacyDedupeDoesNotPush(t *testing.T) {
	reg := newFakeRegistry(t, false)
	img := reg.pushImage("app", "v1")
	c := reg.client(Options{})
	ctx := context.Background()
	l := Layer{MediaType: SimpleSigningMediaType, Data: []byte("x"), Annotations: map[string]string{"k": "v"}}
	if err := c.AppendLegacy(ctx, img.Digest, AttestationSuffix, l, nil); err != nil {
		t.Fatal(err)
	}
	puts := reg.count("PUT ")
	if err := c.AppendLegacy(ctx, img.Digest, AttestationSuffix, l, nil); err != nil {
		t.Fatal(err)
	}
	if reg.count("PUT ") != puts {
		t.Errorf("identical layer pushed again")
	}
}

func TestCosignRepository(t *testing.T) {
	reg := newFakeRegistry(t, false)
	img := reg.pushImage("app", "v1")
	c := reg.client(Options{Repository: reg.host + "/sigs/store"})
	ctx := context.Background()
	l := Layer{MediaType: SimpleSigningMediaType, Data: []byte("sig")}
	if err := c.AppendLegacy(ctx, img.Digest, SignatureSuffix, l, nil); err != nil {
		t.Fatal(err)
	}
	tag, _ := c.LegacyTag(img.Digest, SignatureSuffix)
	if tag.RepositoryStr() != "sigs/store" {
		t.Errorf("tag %s not in COSIGN_REPOSITORY", tag)
	}
	if _, err := remote.Head(tag); err != nil {
		t.Errorf("tag not in the storage repository: %v", err)
	}
	own, _ := name.NewTag(img.Digest.Context().Tag(tag.TagStr()).String())
	if _, err := remote.Head(own); err == nil {
		t.Errorf("signature also written to the image's repository")
	}
	if got, err := c.ReadLegacy(ctx, img.Digest, SignatureSuffix); err != nil || len(got) != 1 {
		t.Errorf("read back: %v %v", got, err)
	}
	h, err := c.WriteReferrer(ctx, img, BundleMediaType, []Layer{{MediaType: BundleMediaType, Data: []byte("{}")}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := c.Referrers(ctx, img.Digest, BundleMediaType)
	if err != nil || len(rs) != 1 || rs[0].Descriptor.Digest != h {
		t.Errorf("referrers in COSIGN_REPOSITORY: %+v %v", rs, err)
	}
	if _, err := New(Options{Repository: "Not A Repo"}).StorageRepository(img.Digest); err == nil {
		t.Error("bad COSIGN_REPOSITORY accepted")
	}
}

func TestReferrersRoundTrip(t *testing.T) {
	for _, api := range []bool{false, true} {
		t.Run(fmt.Sprint("api=", api), func(t *testing.T) {
			reg := newFakeRegistry(t, api)
			img := reg.pushImage("app", "v1")
			c := reg.client(Options{})
			ctx := context.Background()
			if rs, err := c.Referrers(ctx, img.Digest, ""); err != nil || len(rs) != 0 {
				t.Fatalf("none yet: %v %v", rs, err)
			}
			ann := map[string]string{AnnotationBundleContent: "dsse-envelope", AnnotationCreated: "2026-01-02T03:04:05Z"}
			bundle := Layer{MediaType: BundleMediaType, Data: []byte(`{"mediaType":"b"}`)}
			h1, err := c.WriteReferrer(ctx, img, BundleMediaType, []Layer{bundle}, ann)
			if err != nil {
				t.Fatal(err)
			}
			h2, err := c.WriteReferrer(ctx, img, LegacySignatureArtifactType, []Layer{{MediaType: SimpleSigningMediaType, Data: []byte("p")}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			rs, err := c.Referrers(ctx, img.Digest, BundleMediaType)
			if err != nil {
				t.Fatal(err)
			}
			if len(rs) != 1 || rs[0].Descriptor.Digest != h1 || string(rs[0].Layers[0].Data) != string(bundle.Data) || rs[0].Descriptor.ArtifactType != BundleMediaType {
				t.Fatalf("bundle referrers: %+v", rs)
			}
			m := rs[0].Manifest
			if m.ArtifactType != BundleMediaType || m.Config.ArtifactType != BundleMediaType || m.Config.MediaType != EmptyMediaType || m.Config.Size != 2 ||
				m.Subject == nil || m.Subject.Digest != img.Descriptor.Digest || m.Subject.MediaType != img.Descriptor.MediaType || m.Annotations[AnnotationBundleContent] != "dsse-envelope" {
				t.Errorf("manifest %+v", m)
			}
			all, err := c.Referrers(ctx, img.Digest, "")
			if err != nil || len(all) != 2 {
				t.Fatalf("all referrers: %d %v", len(all), err)
			}
			_ = h2
			fb := fallbackTag(img.Digest.Context(), img.Digest)
			_, ferr := remote.Head(fb)
			if api == (ferr == nil) {
				t.Errorf("fallback tag present=%v with referrers API=%v", ferr == nil, api)
			}
		})
	}
}

func TestDelete(t *testing.T) {
	reg := newFakeRegistry(t, false)
	img := reg.pushImage("app", "v1")
	c := reg.client(Options{})
	ctx := context.Background()
	if err := c.AppendLegacy(ctx, img.Digest, SignatureSuffix, Layer{MediaType: SimpleSigningMediaType, Data: []byte("s")}, nil); err != nil {
		t.Fatal(err)
	}
	tag, _ := c.LegacyTag(img.Digest, SignatureSuffix)
	if err := c.Delete(ctx, tag); err != nil {
		t.Fatal(err)
	}
	if got, err := c.ReadLegacy(ctx, img.Digest, SignatureSuffix); err != nil || got != nil {
		t.Errorf("after delete: %v %v", got, err)
	}
}
