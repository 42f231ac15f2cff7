package verify_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/bundle"

	"github.com/signetdev/signet/internal/testing/clitest"
	"github.com/signetdev/signet/internal/testing/fakesigstore"
	"github.com/signetdev/signet/internal/testing/regtest"
	"github.com/signetdev/signet/pkg/imagesig"
	"github.com/signetdev/signet/pkg/oci"
)

// The image advisory tests (TestAdvisory_*_ImageVerbs) replay published
// advisories through verify and verify-attestation: real keyless
// signatures from an in-memory Sigstore, stored in a loopback registry as
// cosign stores them (legacy .sig/.att layers and bundle referrers, v0.1
// to v0.3), mutated as the advisory says, then verified from the registry
// and from a `save`d copy (--local-image), each with --trusted-root and
// through a TUF repository on loopback (no --trusted-root).

const (
	advIdentity = "ci@example.com"
	advIssuer   = "https://issuer.example"
	vulnType    = "https://cosign.sigstore.dev/attestation/vuln/v1"
)

// keyless are the identity flags the in-memory Sigstore's certificates
// satisfy (they carry no SCT).
var keyless = []string{"--certificate-identity", advIdentity, "--certificate-oidc-issuer", advIssuer, "--insecure-ignore-sct"}

// imgEnv is a registry, an in-memory Sigstore and the ways to trust it.
type imgEnv struct {
	fs     *fakesigstore.Sigstore
	host   string
	client *oci.Client
	modes  []clitest.TrustMode
	n      int // images pushed, to name repositories
	// saved are the places of each image, until its signatures change.
	saved map[string][]place
	dir   string // lives as long as the env
}

func newImgEnv(t *testing.T) *imgEnv {
	t.Helper()
	fs := fakesigstore.New(t)
	e := &imgEnv{fs: fs, host: regtest.Registry(t, true), client: oci.New(oci.Options{Transport: http.DefaultTransport}), saved: map[string][]place{}, dir: t.TempDir()}
	e.trust(t, fs.TrustedRootJSON(t))
	return e
}

// trust replaces the trusted root both modes serve.
func (e *imgEnv) trust(t *testing.T, trustedRoot []byte) {
	e.modes = clitest.TrustModes(t, trustedRoot)
	for i := range e.modes {
		e.modes[i].Opts.Transport = http.DefaultTransport // the registry
	}
}

// image pushes a fresh image.
func (e *imgEnv) image(t *testing.T) oci.Target {
	t.Helper()
	e.n++
	_, d := regtest.PushRandom(t, e.host, "app"+strconv.Itoa(e.n))
	tg, err := e.client.Resolve(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

// simpleSigning is the payload cosign signs for an image.
func simpleSigning(t *testing.T, tg oci.Target) []byte {
	t.Helper()
	p, err := imagesig.NewSimpleSigning(tg.Digest.Context().Name(), tg.Descriptor.Digest, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// imageStatement is an in-toto statement about the image.
func imageStatement(t *testing.T, tg oci.Target, predicateType string) []byte {
	t.Helper()
	if predicateType == imagesig.SignPredicateType {
		st, err := imagesig.NewSignStatement(tg.Descriptor.Digest, nil)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	st, err := json.Marshal(map[string]any{
		"_type":         "https://in-toto.io/Statement/v1",
		"subject":       []map[string]any{{"name": tg.Digest.Context().Name(), "digest": map[string]string{"sha256": tg.Descriptor.Digest.Hex}}},
		"predicateType": predicateType, "predicate": map[string]any{"scanner": "x"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// legacyLayer stores a bundle as cosign's legacy .sig layer (a message
// signature over payload) or .att layer (a DSSE envelope): signature,
// certificate, Rekor bundle and RFC 3161 timestamp as annotations.
func legacyLayer(t *testing.T, b *bundle.Bundle, payload []byte) oci.Layer {
	t.Helper()
	var legacy struct {
		Base64Signature string          `json:"base64Signature"`
		RekorBundle     json.RawMessage `json:"rekorBundle"`
	}
	if err := json.Unmarshal(fakesigstore.LegacyJSON(t, b), &legacy); err != nil {
		t.Fatal(err)
	}
	vm := b.GetVerificationMaterial()
	der := vm.GetCertificate().GetRawBytes()
	if certs := vm.GetX509CertificateChain().GetCertificates(); len(certs) > 0 {
		der = certs[0].GetRawBytes()
	}
	ann := map[string]string{
		oci.AnnotationCertificate: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		oci.AnnotationChain:       "",
	}
	if len(legacy.RekorBundle) > 0 {
		ann[oci.AnnotationBundle] = string(legacy.RekorBundle)
	}
	if ts := vm.GetTimestampVerificationData().GetRfc3161Timestamps(); len(ts) > 0 {
		j, _ := json.Marshal(map[string][]byte{"SignedRFC3161Timestamp": ts[0].GetSignedTimestamp()})
		ann[oci.AnnotationTimestamp] = string(j)
	}
	if b.GetDsseEnvelope() != nil {
		env, err := base64.StdEncoding.DecodeString(legacy.Base64Signature)
		if err != nil {
			t.Fatal(err)
		}
		ann[oci.AnnotationSignature] = ""
		return oci.Layer{MediaType: oci.DSSEMediaType, Data: env, Annotations: ann}
	}
	ann[oci.AnnotationSignature] = legacy.Base64Signature
	return oci.Layer{MediaType: oci.SimpleSigningMediaType, Data: payload, Annotations: ann}
}

// signLegacy is `cosign sign --new-bundle-format=false`'s .sig layer.
func (e *imgEnv) signLegacy(t *testing.T, tg oci.Target, o fakesigstore.SignOptions) oci.Layer {
	t.Helper()
	p := simpleSigning(t, tg)
	return legacyLayer(t, e.fs.SignBlob(t, advIdentity, advIssuer, p, o), p)
}

// attest signs an in-toto statement about the image.
func (e *imgEnv) attest(t *testing.T, tg oci.Target, predicateType string, o fakesigstore.SignOptions) *bundle.Bundle {
	t.Helper()
	return e.fs.Attest(t, advIdentity, advIssuer, imageStatement(t, tg, predicateType), o)
}

// putLegacy writes the .sig or .att image with exactly these layers.
func (e *imgEnv) putLegacy(t *testing.T, tg oci.Target, suffix string, layers ...oci.Layer) {
	t.Helper()
	delete(e.saved, tg.Digest.String())
	if err := e.client.WriteLegacy(context.Background(), tg.Digest, suffix, layers); err != nil {
		t.Fatal(err)
	}
}

// putReferrer stores data (a bundle's JSON) as a bundle referrer.
func (e *imgEnv) putReferrer(t *testing.T, tg oci.Target, data []byte, predicateType string) {
	t.Helper()
	delete(e.saved, tg.Digest.String())
	ann := map[string]string{oci.AnnotationBundleContent: "dsse-envelope", oci.AnnotationBundlePredicateType: predicateType}
	if _, err := e.client.WriteReferrer(context.Background(), tg, oci.BundleMediaType, []oci.Layer{{MediaType: oci.BundleMediaType, Data: data}}, ann); err != nil {
		t.Fatal(err)
	}
}

// place is where a verb finds the image: the registry, or a saved copy.
type place struct {
	name string
	args []string
	// failCode is the exit code of a refusal: cosign's 12 (none
	// verified) from a registry, 1 for any --local-image failure.
	failCode int
}

// places saves the image as it is now and returns both places.
func (e *imgEnv) places(t *testing.T, tg oci.Target) []place {
	t.Helper()
	if ps, ok := e.saved[tg.Digest.String()]; ok {
		return ps
	}
	tmp, err := os.MkdirTemp(e.dir, "image")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(tmp, "saved")
	if r := clitest.Run(t, clitest.Options{Transport: http.DefaultTransport}, "save", "--dir", dir, tg.Digest.String()); r.Code != 0 {
		t.Fatalf("save: exit %d: %s", r.Code, r.Stderr)
	}
	ps := []place{
		{name: "registry", args: []string{tg.Digest.String()}, failCode: 12},
		{name: "local-image", args: []string{"--local-image", dir}, failCode: 1},
	}
	e.saved[tg.Digest.String()] = ps
	return ps
}

// each runs verb with args on the image in every trust mode and place.
func (e *imgEnv) each(t *testing.T, tg oci.Target, verb string, args []string, check func(t *testing.T, what string, p place, r clitest.Result)) {
	t.Helper()
	for _, p := range e.places(t, tg) {
		for _, m := range e.modes {
			all := append(append(append([]string{verb}, m.Args...), args...), p.args...)
			check(t, verb+" ("+m.Name+", "+p.name+")", p, clitest.Run(t, m.Opts, all...))
		}
	}
}

// pass requires verb to verify the image everywhere.
func (e *imgEnv) pass(t *testing.T, tg oci.Target, verb string, args ...string) {
	t.Helper()
	e.each(t, tg, verb, args, func(t *testing.T, what string, _ place, r clitest.Result) {
		t.Helper()
		if r.Code != 0 || strings.TrimSpace(r.Stdout) == "" {
			t.Errorf("%s %v: exit %d, want 0: %s", what, args, r.Code, r.Stderr)
		}
	})
}

// fail requires verb to refuse the image everywhere: the place's exit
// code, one error line containing want, nothing on stdout.
func (e *imgEnv) fail(t *testing.T, want string, tg oci.Target, verb string, args ...string) {
	t.Helper()
	e.failWith(t, 0, want, tg, verb, args...)
}

// failWith is fail with exit code code (0: the place's) everywhere.
func (e *imgEnv) failWith(t *testing.T, code int, want string, tg oci.Target, verb string, args ...string) {
	t.Helper()
	e.each(t, tg, verb, args, func(t *testing.T, what string, p place, r clitest.Result) {
		t.Helper()
		if code != 0 {
			p.failCode = code
		}
		if r.Code == 0 {
			t.Errorf("%s %v: accepted: %s", what, args, r.Stderr)
			return
		}
		r.CheckErrorLine(t)
		if r.Code != p.failCode {
			t.Errorf("%s: exit %d, want %d: %s", what, r.Code, p.failCode, r.ErrLine())
		}
		if strings.TrimSpace(r.Stdout) != "" {
			t.Errorf("%s: failed but printed %q", what, r.Stdout)
		}
		if p.name == "local-image" && !strings.Contains(r.ErrLine(), "--local-image "+p.args[1]+": ") {
			t.Errorf("%s: error %q does not name the directory", what, r.ErrLine())
		}
		if !strings.Contains(r.ErrLine(), want) {
			t.Errorf("%s: error %q does not say %q", what, r.ErrLine(), want)
		}
		t.Logf("%s: %s", what, r.ErrLine())
	})
}

// edit decodes a JSON document, lets f change it, and encodes it again.
func edit(t *testing.T, data []byte, f func(doc map[string]any)) []byte {
	return fakesigstore.EditJSON(t, data, f)
}

func bundleJSON(t *testing.T, b *bundle.Bundle) []byte { return fakesigstore.BundleJSON(t, b) }

// tlogEntries is a bundle's verificationMaterial.tlogEntries.
func tlogEntries(t *testing.T, data []byte) any {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	return doc["verificationMaterial"].(map[string]any)["tlogEntries"]
}

// keySigned is a .sig layer signed with key over the image's payload;
// logged (with a Rekor bundle annotation) when log is set.
func (e *imgEnv) keySigned(t *testing.T, tg oci.Target, key *ecdsa.PrivateKey, log bool) (oci.Layer, []byte) {
	t.Helper()
	payload := simpleSigning(t, tg)
	sum := sha256.Sum256(payload)
	sig, err := ecdsa.SignASN1(rand.Reader, key, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pub := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	l := oci.Layer{MediaType: oci.SimpleSigningMediaType, Data: payload, Annotations: map[string]string{oci.AnnotationSignature: base64.StdEncoding.EncodeToString(sig)}}
	if log {
		l.Annotations[oci.AnnotationBundle] = string(fakesigstore.RekorBundle(t, e.fs.LogHashedRekord(t, sig, pub, sum[:], time.Now())))
	}
	return l, pub
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
