// Package fakesigstore makes real Sigstore bundles in-process, with the
// Rekor integrated time and the RFC 3161 timestamp time chosen by the
// test, so verification rules about time can be tested without a stack.
// It builds on sigstore-go's VirtualSigstore (Fulcio CA and Rekor log) and
// adds a timestamp authority whose clock the test sets.
package fakesigstore

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"math/big"
	"sync/atomic"
	"testing"
	"time"

	"github.com/digitorus/timestamp"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/testing/ca"
)

// Sigstore is a Fulcio CA, a Rekor log and a TSA, all in memory.
type Sigstore struct {
	vs      *ca.VirtualSigstore
	tsa     *root.SigstoreTimestampingAuthority
	tsaKey  *ecdsa.PrivateKey
	created time.Time
	// nextIndex numbers the entries LogHashedRekord logs.
	nextIndex atomic.Int64
}

// New makes a fresh instance. Certificates it issues are valid for ten
// minutes from now.
func New(t testing.TB) *Sigstore {
	t.Helper()
	vs, err := ca.NewVirtualSigstore()
	if err != nil {
		t.Fatal(err)
	}
	rootCert, rootKey, err := ca.GenerateRootCa()
	if err != nil {
		t.Fatal(err)
	}
	inter, interKey, err := ca.GenerateTSAIntermediate(rootCert, rootKey)
	if err != nil {
		t.Fatal(err)
	}
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := tsaLeaf(leafKey, inter, interKey)
	if err != nil {
		t.Fatal(err)
	}
	return &Sigstore{
		vs:      vs,
		tsa:     &root.SigstoreTimestampingAuthority{Root: rootCert, Intermediates: []*x509.Certificate{inter}, Leaf: leaf, URI: "https://tsa.fake"},
		tsaKey:  leafKey,
		created: time.Now(),
	}
}

// TrustedMaterial is what a verifier must trust for this instance. Its
// certificates carry no SCT: verify with SCTs ignored.
func (s *Sigstore) TrustedMaterial() root.TrustedMaterial {
	return material{s}
}

type material struct{ s *Sigstore }

func (m material) TimestampingAuthorities() []root.TimestampingAuthority {
	return []root.TimestampingAuthority{m.s.tsa}
}
func (m material) FulcioCertificateAuthorities() []root.CertificateAuthority {
	return m.s.vs.FulcioCertificateAuthorities()
}
func (m material) RekorLogs() map[string]*root.TransparencyLog { return m.s.vs.RekorLogs() }
func (m material) CTLogs() map[string]*root.TransparencyLog    { return m.s.vs.CTLogs() }
func (m material) PublicKeyVerifier(id string) (root.TimeConstrainedVerifier, error) {
	return m.s.vs.PublicKeyVerifier(id)
}

// SignOptions choose the evidence of time a bundle carries.
type SignOptions struct {
	// IntegratedTime is the Rekor entry's time (zero: now).
	IntegratedTime time.Time
	// TSATimes are RFC 3161 timestamps to add, at these times.
	TSATimes []time.Time
	// InclusionProof: add an inclusion proof and checkpoint, making a
	// v0.2 bundle.
	InclusionProof bool
}

// SignBlob signs artifact as identity (an email SAN) from issuer and
// returns a v0.1 bundle: certificate chain, Rekor hashedrekord entry with
// a SET, and the requested timestamps.
func (s *Sigstore) SignBlob(t testing.TB, identity, issuer string, artifact []byte, o SignOptions) *bundle.Bundle {
	t.Helper()
	it := o.IntegratedTime
	if it.IsZero() {
		it = time.Now()
	}
	ent, err := s.vs.SignAtTimeWithVersion(identity, issuer, artifact, it, "v0.1")
	if err != nil {
		t.Fatal(err)
	}
	cert, sc, tle := s.parts(t, ent, "hashedrekord")
	mediaType := "application/vnd.dev.sigstore.bundle+json;version=0.1"
	if o.InclusionProof {
		tle = s.withInclusionProof(t, tle)
		mediaType = "application/vnd.dev.sigstore.bundle+json;version=0.2"
	}

	sig := sc.Signature()
	digest := sha256.Sum256(artifact)
	pb := &protobundle.Bundle{
		MediaType:            mediaType,
		VerificationMaterial: certMaterial(cert, tle),
		Content: &protobundle.Bundle_MessageSignature{MessageSignature: &protocommon.MessageSignature{
			MessageDigest: &protocommon.HashOutput{Algorithm: protocommon.HashAlgorithm_SHA2_256, Digest: digest[:]},
			Signature:     sig,
		}},
	}
	s.addTimestamps(t, pb, sig, o.TSATimes)
	b, err := bundle.NewBundle(pb)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Timestamp is this instance's TSA's RFC 3161 timestamp over sig, dated
// at (to add to a bundle another instance made).
func (s *Sigstore) Timestamp(t testing.TB, sig []byte, at time.Time) []byte {
	return s.timestamp(t, sig, at)
}

// timestamp answers an RFC 3161 request over sig, dated at.
func (s *Sigstore) timestamp(t testing.TB, sig []byte, at time.Time) []byte {
	t.Helper()
	req, err := timestamp.CreateRequest(bytes.NewReader(sig), &timestamp.RequestOptions{Hash: crypto.SHA256})
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := timestamp.ParseRequest(req)
	if err != nil {
		t.Fatal(err)
	}
	ts := timestamp.Timestamp{
		HashAlgorithm: parsed.HashAlgorithm,
		HashedMessage: parsed.HashedMessage,
		Time:          at,
		Policy:        asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 2},
	}
	resp, err := ts.CreateResponseWithOpts(s.tsa.Leaf, s.tsaKey, crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// tsaLeaf issues a TSA certificate valid for a day around now (the
// VirtualSigstore helper's lasts ten minutes, too short to date a
// timestamp outside a Fulcio certificate's validity).
func tsaLeaf(key *ecdsa.PrivateKey, parent *x509.Certificate, parentKey crypto.Signer) (*x509.Certificate, error) {
	eku, err := asn1.Marshal([]asn1.ObjectIdentifier{{1, 3, 6, 1, 5, 5, 7, 3, 8}})
	if err != nil {
		return nil, err
	}
	// A random serial, as real CAs give: two instances' TSAs share the
	// intermediate's name, and issuer+serial is how a token names its TSA.
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "fake TSA"},
		NotBefore:    time.Now().Add(-12 * time.Hour),
		NotAfter:     time.Now().Add(12 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtraExtensions: []pkix.Extension{{
			Id: asn1.ObjectIdentifier{2, 5, 29, 37}, Critical: true, Value: eku,
		}},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), parentKey)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

// TrustedRootJSON is the instance's trust material as a trusted_root.json
// (for --trusted-root), its TSA included.
func (s *Sigstore) TrustedRootJSON(t testing.TB) []byte {
	t.Helper()
	tr, err := root.NewTrustedRoot(root.TrustedRootMediaType01,
		s.vs.FulcioCertificateAuthorities(), rawLogIDs(s.vs.CTLogs()),
		[]root.TimestampingAuthority{s.tsa}, rawLogIDs(s.vs.RekorLogs()))
	if err != nil {
		t.Fatal(err)
	}
	b, err := tr.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// rawLogIDs copies the VirtualSigstore's logs with their IDs as raw bytes:
// it stores the hex string's bytes, which a trusted_root.json would carry
// as a different ID, so that no entry would match its log once written.
func rawLogIDs(logs map[string]*root.TransparencyLog) map[string]*root.TransparencyLog {
	out := map[string]*root.TransparencyLog{}
	for id, l := range logs {
		c := *l
		if raw, err := hex.DecodeString(string(l.ID)); err == nil {
			c.ID = raw
		}
		out[id] = &c
	}
	return out
}
