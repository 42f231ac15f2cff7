package admission

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/signetdev/signet/internal/testing/fakesigstore"
	"github.com/signetdev/signet/internal/testing/regtest"
	"github.com/signetdev/signet/pkg/imagesig"
	"github.com/signetdev/signet/pkg/keys"
	"github.com/signetdev/signet/pkg/oci"
)

const (
	gitlabIssuer  = "https://gitlab.example"
	gitlabSubject = "https://gitlab.example/acme/app//.gitlab-ci.yml@refs/heads/main"
)

// world is a registry on loopback, a fake Sigstore, and an engine over
// them that counts registry reads.
type world struct {
	t      testing.TB
	host   string
	fs     *fakesigstore.Sigstore
	client *oci.Client
	reads  atomic.Int64
	e      *Engine
	ps     []*Policy
}

func newWorld(t testing.TB) *world {
	w := &world{t: t, host: regtest.Registry(t, true), fs: fakesigstore.New(t), client: oci.New(oci.Options{})}
	reg := &Registry{}
	w.e = &Engine{
		Policies: func() []*Policy { return w.ps },
		Source: func(ctx context.Context, src SignatureSource, ns string) (imagesig.Source, error) {
			s, err := reg.Source(ctx, src, ns)
			return countingSource{s, &w.reads}, err
		},
		Resolve:      reg.Resolve,
		Configs:      reg.Configs,
		Trust:        func(context.Context, string) (root.TrustedMaterial, error) { return w.fs.TrustedMaterial(), nil },
		TrustVersion: func() string { return "1" },
		Cache:        NewCache(100, time.Minute, nil),
		NoMatch:      NoMatchDeny,
		Workers:      4,
	}
	return w
}

type countingSource struct {
	imagesig.Source
	n *atomic.Int64
}

func (c countingSource) ReadLegacy(ctx context.Context, d name.Digest, s string) ([]oci.Layer, error) {
	c.n.Add(1)
	return c.Source.ReadLegacy(ctx, d, s)
}

func (c countingSource) Referrers(ctx context.Context, d name.Digest, at string) ([]oci.Referrer, error) {
	c.n.Add(1)
	return c.Source.Referrers(ctx, d, at)
}

func (w *world) image(repo string) name.Digest {
	_, d := regtest.PushRandom(w.t, w.host, repo)
	return d
}

func hash(d name.Digest) v1.Hash {
	h, _ := v1.NewHash(d.DigestStr())
	return h
}

// signKeyless stores a legacy .sig signed as subject from issuer.
func (w *world) signKeyless(d name.Digest, subject, issuer string) {
	payload, err := imagesig.NewSimpleSigning(d.Context().Name(), hash(d), nil)
	if err != nil {
		w.t.Fatal(err)
	}
	l, err := imagesig.SignatureLayer(w.fs.SignBlob(w.t, subject, issuer, payload, fakesigstore.SignOptions{}), payload, nil)
	if err != nil {
		w.t.Fatal(err)
	}
	if err := w.client.AppendLegacy(context.Background(), d, oci.SignatureSuffix, l, nil); err != nil {
		w.t.Fatal(err)
	}
}

// attest stores a legacy .att of predicateType with predicate.
func (w *world) attest(d name.Digest, subject, issuer, predicateType, predicate string) {
	st := fmt.Sprintf(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":%q,"digest":{"sha256":%q}}],"predicateType":%q,"predicate":%s}`,
		d.Context().Name(), hash(d).Hex, predicateType, predicate)
	l, err := imagesig.AttestationLayer(w.fs.Attest(w.t, subject, issuer, []byte(st), fakesigstore.SignOptions{}), predicateType, nil)
	if err != nil {
		w.t.Fatal(err)
	}
	if err := w.client.AppendLegacy(context.Background(), d, oci.AttestationSuffix, l, nil); err != nil {
		w.t.Fatal(err)
	}
}

// signKey stores a legacy .sig signed with key, not logged.
func (w *world) signKey(d name.Digest, key *ecdsa.PrivateKey) {
	payload, err := imagesig.NewSimpleSigning(d.Context().Name(), hash(d), nil)
	if err != nil {
		w.t.Fatal(err)
	}
	if err := w.client.AppendLegacy(context.Background(), d, oci.SignatureSuffix, keyLayer(w.t, key, payload), nil); err != nil {
		w.t.Fatal(err)
	}
}

// keyLayer is a legacy signature layer of payload by key.
func keyLayer(t testing.TB, key *ecdsa.PrivateKey, payload []byte) oci.Layer {
	h := sha256.Sum256(payload)
	sig, err := ecdsa.SignASN1(rand.Reader, key, h[:])
	if err != nil {
		t.Fatal(err)
	}
	return oci.Layer{MediaType: oci.SimpleSigningMediaType, Data: payload, Annotations: map[string]string{oci.AnnotationSignature: base64.StdEncoding.EncodeToString(sig)}}
}

func newKey(t testing.TB) (*ecdsa.PrivateKey, string) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pemKey, err := keys.MarshalPublicKeyPEM(k.Public())
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := pem.Decode(pemKey); p == nil {
		t.Fatal("no PEM")
	}
	return k, string(pemKey)
}

// policy compiles YAML into the world's policy list.
func (w *world) policy(yamlText string, o LoadOptions) {
	w.t.Helper()
	cips, err := ParsePolicyFile([]byte(yamlText))
	if err != nil {
		w.t.Fatal(err)
	}
	w.ps = nil
	for _, c := range cips {
		p, err := Compile(context.Background(), c, o)
		if err != nil {
			w.t.Fatal(err)
		}
		w.ps = append(w.ps, p)
	}
}

// pod is a Pod's workload with these container images.
func pod(images ...string) Workload {
	w := Workload{Resource: GroupVersionResource{Version: "v1", Resource: "pods"}}
	for i, im := range images {
		w.Images = append(w.Images, ContainerImage{Path: fmt.Sprintf("spec.containers[%d].image", i), Pointer: fmt.Sprintf("/spec/containers/%d/image", i), Image: im})
	}
	return w
}

func keylessCIP(name, glob, subject string) string {
	return fmt.Sprintf(`apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata:
  name: %s
spec:
  images:
  - glob: %q
  authorities:
  - name: gitlab
    keyless:
      url: https://fulcio.example
      insecureIgnoreSCT: true
      identities:
      - issuer: %s
        subject: %s
`, name, glob, gitlabIssuer, subject)
}

func mustContain(t testing.TB, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("message %q lacks %q", got, w)
		}
	}
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
