package imagesig

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/testing/ca"
	"github.com/sigstore/sigstore-go/pkg/tlog"
	"github.com/sigstore/sigstore/pkg/signature"

	"github.com/signetdev/signet/internal/testing/fakesigstore"
	"github.com/signetdev/signet/pkg/oci"
	"github.com/signetdev/signet/pkg/verifier"
)

const (
	testIdentity = "alice@example.com"
	testIssuer   = "https://issuer.example"
)

// testSigstore signs images the way cosign stores them, with a virtual
// Fulcio and Rekor.
type testSigstore struct{ vs *ca.VirtualSigstore }

func newTestSigstore(t testing.TB) testSigstore {
	t.Helper()
	vs, err := ca.NewVirtualSigstore()
	if err != nil {
		t.Fatal(err)
	}
	return testSigstore{vs}
}

func (s testSigstore) material() root.TrustedMaterial { return s.vs }

func certPEM(c *x509.Certificate) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}))
}

// rekorAnnotation is cosign's dev.sigstore.cosign/bundle for an entry.
func rekorAnnotation(t testing.TB, tle *protorekor.TransparencyLogEntry) string {
	return string(fakesigstore.RekorBundle(t, tle))
}

// legacySig is a .sig layer: the payload signed keylessly, logged.
func (s testSigstore) legacySig(t testing.TB, payload []byte) oci.Layer {
	t.Helper()
	ent, err := s.vs.SignAtTimeWithVersion(testIdentity, testIssuer, payload, time.Now(), "v0.1")
	if err != nil {
		t.Fatal(err)
	}
	vc, _ := ent.VerificationContent()
	sc, _ := ent.SignatureContent()
	entries, _ := ent.TlogEntries()
	tle := s.withSET(t, entries[0])
	return oci.Layer{MediaType: oci.SimpleSigningMediaType, Data: payload, Annotations: map[string]string{
		oci.AnnotationSignature:   base64.StdEncoding.EncodeToString(sc.Signature()),
		oci.AnnotationCertificate: certPEM(vc.Certificate()),
		oci.AnnotationChain:       "",
		oci.AnnotationBundle:      rekorAnnotation(t, tle),
	}}
}

// withSET adds the inclusion promise a v0.1 hashedrekord entry lacks.
func (s testSigstore) withSET(t testing.TB, e *tlog.Entry) *protorekor.TransparencyLogEntry {
	t.Helper()
	tle := e.TransparencyLogEntry()
	if tle.GetInclusionPromise() != nil {
		return tle
	}
	set, err := s.vs.RekorSignPayload(tlog.RekorPayload{
		Body:           base64.StdEncoding.EncodeToString(tle.GetCanonicalizedBody()),
		IntegratedTime: tle.GetIntegratedTime(),
		LogIndex:       tle.GetLogIndex(),
		LogID:          hex.EncodeToString(tle.GetLogId().GetKeyId()),
	})
	if err != nil {
		t.Fatal(err)
	}
	tle.InclusionPromise = &protorekor.InclusionPromise{SignedEntryTimestamp: set}
	return tle
}

// attest signs an in-toto statement: the envelope, certificate and entry.
func (s testSigstore) attest(t testing.TB, statement []byte) ([]byte, *x509.Certificate, *protorekor.TransparencyLogEntry) {
	t.Helper()
	ent, err := s.vs.Attest(testIdentity, testIssuer, statement)
	if err != nil {
		t.Fatal(err)
	}
	vc, _ := ent.VerificationContent()
	sc, _ := ent.SignatureContent()
	entries, _ := ent.TlogEntries()
	env := sc.EnvelopeContent().RawEnvelope()
	raw, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	return raw, vc.Certificate(), s.withSET(t, entries[0])
}

// legacyAtt is an .att layer.
func (s testSigstore) legacyAtt(t testing.TB, statement []byte) oci.Layer {
	t.Helper()
	env, cert, tle := s.attest(t, statement)
	return oci.Layer{MediaType: oci.DSSEMediaType, Data: env, Annotations: map[string]string{
		oci.AnnotationSignature:   "",
		oci.AnnotationCertificate: certPEM(cert),
		oci.AnnotationChain:       "",
		oci.AnnotationBundle:      rekorAnnotation(t, tle),
	}}
}

// bundleReferrer is a bundle referrer holding the signed statement.
func (s testSigstore) bundleReferrer(t testing.TB, statement []byte, predicateType string) oci.Referrer {
	t.Helper()
	att := s.legacyAtt(t, statement)
	b, err := LegacyBundle(att)
	if err != nil {
		t.Fatal(err)
	}
	data, err := b.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(data)
	return oci.Referrer{
		Descriptor: v1.Descriptor{ArtifactType: oci.BundleMediaType, Digest: v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(h[:])}},
		Manifest:   &v1.Manifest{Annotations: map[string]string{oci.AnnotationBundlePredicateType: predicateType, oci.AnnotationBundleContent: "dsse-envelope"}},
		Layers:     []oci.Layer{{MediaType: oci.BundleMediaType, Data: data}},
	}
}

// keySig is a .sig layer signed with a key, not logged.
func keySig(t testing.TB, key *ecdsa.PrivateKey, payload []byte) oci.Layer {
	t.Helper()
	h := sha256.Sum256(payload)
	sig, err := ecdsa.SignASN1(rand.Reader, key, h[:])
	if err != nil {
		t.Fatal(err)
	}
	return oci.Layer{MediaType: oci.SimpleSigningMediaType, Data: payload, Annotations: map[string]string{
		oci.AnnotationSignature: base64.StdEncoding.EncodeToString(sig),
	}}
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// fakeSource is an in-memory Source.
type fakeSource struct {
	legacy       map[string][]oci.Layer
	referrers    []oci.Referrer
	referrersErr error
}

func (f *fakeSource) ReadLegacy(_ context.Context, _ name.Digest, suffix string) ([]oci.Layer, error) {
	return f.legacy[suffix], nil
}

func (f *fakeSource) Referrers(context.Context, name.Digest, string) ([]oci.Referrer, error) {
	return f.referrers, f.referrersErr
}

func testDigest(t testing.TB, seed string) name.Digest {
	t.Helper()
	h := sha256.Sum256([]byte(seed))
	d, err := name.NewDigest("registry.example/app@sha256:" + hex.EncodeToString(h[:]))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func keylessPolicy(t testing.TB) verifier.Policy {
	t.Helper()
	san, err := verifier.NewMatcher("certificate-identity", testIdentity, "")
	if err != nil {
		t.Fatal(err)
	}
	iss, err := verifier.NewMatcher("certificate-oidc-issuer", testIssuer, "")
	if err != nil {
		t.Fatal(err)
	}
	return verifier.Policy{Identity: verifier.Identity{SAN: san, Issuer: iss}, IgnoreSCTUnsafe: true}
}

func hashOf(d name.Digest) v1.Hash {
	h, _ := v1.NewHash(d.DigestStr())
	return h
}

func keyPolicy(v signature.Verifier) verifier.Policy {
	return verifier.Policy{Key: v, IgnoreTlogUnsafe: true}
}
