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
	"encoding/base64"
	"encoding/hex"
	"math/big"
	"testing"
	"time"

	"github.com/digitorus/timestamp"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/testing/ca"
	"github.com/sigstore/sigstore-go/pkg/tlog"
	"github.com/sigstore/sigstore-go/pkg/verify"
)

// Sigstore is a Fulcio CA, a Rekor log and a TSA, all in memory.
type Sigstore struct {
	vs      *ca.VirtualSigstore
	tsa     *root.SigstoreTimestampingAuthority
	tsaKey  *ecdsa.PrivateKey
	created time.Time
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
	vc, sc, tle := s.parts(t, ent)
	tle.KindVersion = &protorekor.KindVersion{Kind: "hashedrekord", Version: "0.0.1"}

	sig := sc.Signature()
	digest := sha256.Sum256(artifact)
	pb := &protobundle.Bundle{
		MediaType: "application/vnd.dev.sigstore.bundle+json;version=0.1",
		VerificationMaterial: &protobundle.VerificationMaterial{
			Content: &protobundle.VerificationMaterial_X509CertificateChain{X509CertificateChain: &protocommon.X509CertificateChain{
				Certificates: []*protocommon.X509Certificate{{RawBytes: vc.Certificate().Raw}},
			}},
			TlogEntries: []*protorekor.TransparencyLogEntry{tle},
		},
		Content: &protobundle.Bundle_MessageSignature{MessageSignature: &protocommon.MessageSignature{
			MessageDigest: &protocommon.HashOutput{Algorithm: protocommon.HashAlgorithm_SHA2_256, Digest: digest[:]},
			Signature:     sig,
		}},
	}
	if len(o.TSATimes) > 0 {
		tvd := &protobundle.TimestampVerificationData{}
		for _, at := range o.TSATimes {
			tvd.Rfc3161Timestamps = append(tvd.Rfc3161Timestamps, &protocommon.RFC3161SignedTimestamp{SignedTimestamp: s.timestamp(t, sig, at)})
		}
		pb.VerificationMaterial.TimestampVerificationData = tvd
	}
	b, err := bundle.NewBundle(pb)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// parts are what a bundle needs of a signed entity: its certificate,
// its signature and its log entry with a SET.
func (s *Sigstore) parts(t testing.TB, ent *ca.TestEntity) (verify.VerificationContent, verify.SignatureContent, *protorekor.TransparencyLogEntry) {
	t.Helper()
	vc, err := ent.VerificationContent()
	if err != nil {
		t.Fatal(err)
	}
	sc, err := ent.SignatureContent()
	if err != nil {
		t.Fatal(err)
	}
	entries, err := ent.TlogEntries()
	if err != nil {
		t.Fatal(err)
	}
	return vc, sc, s.promised(t, entries[0])
}

// promised is the entry with the Rekor SET a v0.1 bundle carries.
func (s *Sigstore) promised(t testing.TB, e *tlog.Entry) *protorekor.TransparencyLogEntry {
	t.Helper()
	tle := e.TransparencyLogEntry()
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

// Attest signs an in-toto statement as identity from issuer: a v0.1
// bundle holding the DSSE envelope, the certificate and a logged entry
// with its SET.
func (s *Sigstore) Attest(t testing.TB, identity, issuer string, statement []byte) *bundle.Bundle {
	t.Helper()
	ent, err := s.vs.Attest(identity, issuer, statement)
	if err != nil {
		t.Fatal(err)
	}
	vc, sc, tle := s.parts(t, ent)
	env := sc.EnvelopeContent().RawEnvelope()
	payload, err := base64.StdEncoding.DecodeString(env.Payload)
	if err != nil {
		t.Fatal(err)
	}
	pe := &protodsse.Envelope{Payload: payload, PayloadType: env.PayloadType}
	for _, sg := range env.Signatures {
		raw, err := base64.StdEncoding.DecodeString(sg.Sig)
		if err != nil {
			t.Fatal(err)
		}
		pe.Signatures = append(pe.Signatures, &protodsse.Signature{Sig: raw, Keyid: sg.KeyID})
	}
	tle.KindVersion = &protorekor.KindVersion{Kind: "dsse", Version: "0.0.1"}
	b, err := bundle.NewBundle(&protobundle.Bundle{
		MediaType: "application/vnd.dev.sigstore.bundle+json;version=0.1",
		VerificationMaterial: &protobundle.VerificationMaterial{
			Content: &protobundle.VerificationMaterial_X509CertificateChain{X509CertificateChain: &protocommon.X509CertificateChain{
				Certificates: []*protocommon.X509Certificate{{RawBytes: vc.Certificate().Raw}},
			}},
			TlogEntries: []*protorekor.TransparencyLogEntry{tle},
		},
		Content: &protobundle.Bundle_DsseEnvelope{DsseEnvelope: pe},
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
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
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
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
		s.vs.FulcioCertificateAuthorities(), rawLogIDs(t, s.vs.CTLogs()),
		[]root.TimestampingAuthority{s.tsa}, rawLogIDs(t, s.vs.RekorLogs()))
	if err != nil {
		t.Fatal(err)
	}
	b, err := tr.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// rawLogIDs fixes the logs' IDs for serialising: VirtualSigstore keeps
// the hex string's bytes as the ID, which a trusted_root.json would
// carry as a log ID no entry names.
func rawLogIDs(t testing.TB, logs map[string]*root.TransparencyLog) map[string]*root.TransparencyLog {
	t.Helper()
	out := map[string]*root.TransparencyLog{}
	for id, l := range logs {
		raw, err := hex.DecodeString(id)
		if err != nil {
			t.Fatal(err)
		}
		c := *l
		c.ID = raw
		out[id] = &c
	}
	return out
}
