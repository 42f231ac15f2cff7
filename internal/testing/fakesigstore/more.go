package fakesigstore

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"testing"
	"time"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/testing/ca"
	"github.com/sigstore/sigstore-go/pkg/tlog"
	"github.com/sigstore/sigstore-go/pkg/verify"

	"github.com/signetdev/signet/pkg/rekorlookup"
)

// Attest signs payload (an in-toto statement, or anything a test needs
// signed) in a DSSE envelope of type application/vnd.in-toto+json as
// identity from issuer. The bundle is v0.1 (a SET only) or, with
// InclusionProof, v0.2 (a SET and an inclusion proof with a checkpoint).
func (s *Sigstore) Attest(t testing.TB, identity, issuer string, payload []byte, o SignOptions) *bundle.Bundle {
	t.Helper()
	it := o.IntegratedTime
	if it.IsZero() {
		it = time.Now()
	}
	ent, err := s.vs.AttestAtTime(identity, issuer, payload, it, o.InclusionProof)
	if err != nil {
		t.Fatal(err)
	}
	cert, sc, tle := s.parts(t, ent, "dsse")
	env := sc.EnvelopeContent().RawEnvelope()
	sig, err := base64.StdEncoding.DecodeString(env.Signatures[0].Sig)
	if err != nil {
		t.Fatal(err)
	}
	pb := &protobundle.Bundle{
		MediaType:            "application/vnd.dev.sigstore.bundle+json;version=0.1",
		VerificationMaterial: certMaterial(cert, tle),
		Content: &protobundle.Bundle_DsseEnvelope{DsseEnvelope: &protodsse.Envelope{
			Payload:     payload,
			PayloadType: env.PayloadType,
			Signatures:  []*protodsse.Signature{{Sig: sig}},
		}},
	}
	if o.InclusionProof {
		pb.MediaType = "application/vnd.dev.sigstore.bundle+json;version=0.2"
	}
	s.addTimestamps(t, pb, sig, o.TSATimes)
	b, err := bundle.NewBundle(pb)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// parts unpacks a VirtualSigstore entity: its certificate, its signature
// and its one log entry, completed with a SET.
func (s *Sigstore) parts(t testing.TB, ent *ca.TestEntity, kind string) (*x509.Certificate, verify.SignatureContent, *protorekor.TransparencyLogEntry) {
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
	return vc.Certificate(), sc, s.withSET(t, entries[0], kind, "0.0.1")
}

// withSET completes a VirtualSigstore entry as Rekor returns it: its kind
// and version, and a SET over it.
func (s *Sigstore) withSET(t testing.TB, e *tlog.Entry, kind, version string) *protorekor.TransparencyLogEntry {
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
	tle.KindVersion = &protorekor.KindVersion{Kind: kind, Version: version}
	tle.InclusionPromise = &protorekor.InclusionPromise{SignedEntryTimestamp: set}
	return tle
}

// withInclusionProof re-logs a hashedrekord entry (which the
// VirtualSigstore logs without a proof) as the one entry of a tree, with
// an inclusion proof, a checkpoint and a fresh SET.
func (s *Sigstore) withInclusionProof(t testing.TB, tle *protorekor.TransparencyLogEntry) *protorekor.TransparencyLogEntry {
	t.Helper()
	proof, err := s.vs.GetInclusionProof(tle.GetCanonicalizedBody())
	if err != nil {
		t.Fatal(err)
	}
	e, err := tlog.NewEntry(tle.GetCanonicalizedBody(), tle.GetIntegratedTime(), *proof.LogIndex, tle.GetLogId().GetKeyId(), nil, proof) //nolint:staticcheck
	if err != nil {
		t.Fatal(err)
	}
	return s.withSET(t, e, tle.GetKindVersion().GetKind(), tle.GetKindVersion().GetVersion())
}

func (s *Sigstore) addTimestamps(t testing.TB, pb *protobundle.Bundle, sig []byte, at []time.Time) {
	if len(at) == 0 {
		return
	}
	tvd := &protobundle.TimestampVerificationData{}
	for _, ts := range at {
		tvd.Rfc3161Timestamps = append(tvd.Rfc3161Timestamps, &protocommon.RFC3161SignedTimestamp{SignedTimestamp: s.timestamp(t, sig, ts)})
	}
	pb.VerificationMaterial.TimestampVerificationData = tvd
}

// LogHashedRekord records a hashedrekord entry in the instance's log: sig
// over the SHA-256 digest, verified by pubPEM (a PEM public key or
// certificate), at time it, and returns it with its SET (no inclusion
// proof). It lets a test log what the VirtualSigstore cannot: key-signed
// entries, or entries for a signature it made itself.
func (s *Sigstore) LogHashedRekord(t testing.TB, sig, pubPEM, digest []byte, it time.Time) *protorekor.TransparencyLogEntry {
	t.Helper()
	body, err := json.Marshal(map[string]any{
		"apiVersion": "0.0.1", "kind": "hashedrekord",
		"spec": map[string]any{
			"data":      map[string]any{"hash": map[string]any{"algorithm": "sha256", "value": hex.EncodeToString(digest)}},
			"signature": map[string]any{"content": sig, "publicKey": map[string]any{"content": pubPEM}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	logID, err := hex.DecodeString(s.logID(t))
	if err != nil {
		t.Fatal(err)
	}
	e, err := tlog.NewEntry(body, it.Unix(), s.nextIndex.Add(1), logID, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s.withSET(t, e, "hashedrekord", "0.0.1")
}

// LogBody records body, as given, in the instance's log with a valid
// SET: for entries Rekor's own parser would refuse (malformed bodies a
// hostile log or bundle may carry).
func (s *Sigstore) LogBody(t testing.TB, body []byte, kind, version string, it time.Time) *protorekor.TransparencyLogEntry {
	t.Helper()
	logID := s.logID(t)
	raw, err := hex.DecodeString(logID)
	if err != nil {
		t.Fatal(err)
	}
	index := s.nextIndex.Add(1)
	set, err := s.vs.RekorSignPayload(tlog.RekorPayload{
		Body: base64.StdEncoding.EncodeToString(body), IntegratedTime: it.Unix(), LogIndex: index, LogID: logID,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &protorekor.TransparencyLogEntry{
		LogIndex: index, LogId: &protocommon.LogId{KeyId: raw}, IntegratedTime: it.Unix(),
		KindVersion:       &protorekor.KindVersion{Kind: kind, Version: version},
		InclusionPromise:  &protorekor.InclusionPromise{SignedEntryTimestamp: set},
		CanonicalizedBody: body,
	}
}

func (s *Sigstore) logID(t testing.TB) string {
	id, err := s.vs.RekorLogID()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// LegacyJSON writes a v0.1 bundle in cosign's legacy bundle format
// (sign-blob --bundle before v3): base64Signature (the signature, or the
// DSSE envelope as cosign v2 attest-blob wrote it), cert and rekorBundle.
func LegacyJSON(t testing.TB, b *bundle.Bundle) []byte {
	t.Helper()
	var sig []byte
	if env := b.GetDsseEnvelope(); env != nil {
		var err error
		sig, err = json.Marshal(map[string]any{
			"payloadType": env.GetPayloadType(),
			"payload":     env.GetPayload(),
			"signatures":  []map[string]any{{"keyid": "", "sig": env.GetSignatures()[0].GetSig()}},
		})
		if err != nil {
			t.Fatal(err)
		}
	} else {
		sig = b.GetMessageSignature().GetSignature()
	}
	out := map[string]any{"base64Signature": base64.StdEncoding.EncodeToString(sig)}
	if certs := b.GetVerificationMaterial().GetX509CertificateChain().GetCertificates(); len(certs) > 0 {
		out["cert"] = base64.StdEncoding.EncodeToString(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: certs[0].GetRawBytes()}))
	}
	if tl := b.GetVerificationMaterial().GetTlogEntries(); len(tl) > 0 {
		out["rekorBundle"] = json.RawMessage(RekorBundle(t, tl[0]))
	}
	data, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// RekorBundle is cosign's Rekor bundle for a log entry: the legacy
// bundle's rekorBundle, the dev.sigstore.cosign/bundle annotation of an
// image signature layer.
func RekorBundle(t testing.TB, e *protorekor.TransparencyLogEntry) []byte {
	t.Helper()
	data, err := rekorlookup.LegacyBundleJSON(e)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// CA is a private certificate hierarchy (root, intermediate) whose leaf
// certificates the test shapes freely: extensions, validity. Signatures
// it makes carry RFC 3161 timestamps from the instance's TSA and no log
// entry (verify with the log ignored).
type CA struct {
	s            *Sigstore
	Root, Inter  *x509.Certificate
	interKey     *ecdsa.PrivateKey
	validityFrom time.Time
}

// NewCA makes a root valid for ten years around now and an intermediate
// valid from interFrom to interTo.
func (s *Sigstore) NewCA(t testing.TB, interFrom, interTo time.Time) *CA {
	t.Helper()
	rootKey := newKey(t)
	rootTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(10), Subject: pkix.Name{CommonName: "private root"},
		NotBefore: time.Now().Add(-5 * 365 * 24 * time.Hour), NotAfter: time.Now().Add(5 * 365 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	rootCert := create(t, rootTmpl, rootTmpl, rootKey.Public(), rootKey)
	interKey := newKey(t)
	interTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(11), Subject: pkix.Name{CommonName: "private intermediate"},
		NotBefore: interFrom, NotAfter: interTo,
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
	}
	inter := create(t, interTmpl, rootCert, interKey.Public(), rootKey)
	return &CA{s: s, Root: rootCert, Inter: inter, interKey: interKey, validityFrom: rootTmpl.NotBefore}
}

// SignBlob issues a leaf from leaf (a template: subject, SANs, extensions,
// validity), signs artifact with it and returns a v0.3 bundle with
// timestamps at tsaTimes.
func (ca *CA) SignBlob(t testing.TB, leaf *x509.Certificate, artifact []byte, tsaTimes []time.Time) *bundle.Bundle {
	t.Helper()
	key := newKey(t)
	leaf.SerialNumber = big.NewInt(time.Now().UnixNano())
	leaf.KeyUsage = x509.KeyUsageDigitalSignature
	leaf.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}
	cert := create(t, leaf, ca.Inter, key.Public(), ca.interKey)
	digest := sha256.Sum256(artifact)
	sig, err := ecdsa.SignASN1(rand.Reader, key, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	pb := &protobundle.Bundle{
		MediaType: "application/vnd.dev.sigstore.bundle.v0.3+json",
		VerificationMaterial: &protobundle.VerificationMaterial{
			Content: &protobundle.VerificationMaterial_Certificate{Certificate: &protocommon.X509Certificate{RawBytes: cert.Raw}},
		},
		Content: &protobundle.Bundle_MessageSignature{MessageSignature: &protocommon.MessageSignature{
			MessageDigest: &protocommon.HashOutput{Algorithm: protocommon.HashAlgorithm_SHA2_256, Digest: digest[:]},
			Signature:     sig,
		}},
	}
	ca.s.addTimestamps(t, pb, sig, tsaTimes)
	b, err := bundle.NewBundle(pb)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TrustedRootJSON is a trusted_root.json trusting this hierarchy as the
// Fulcio CA, with the instance's Rekor log, CT logs and TSA.
func (ca *CA) TrustedRootJSON(t testing.TB) []byte {
	t.Helper()
	tr, err := root.NewTrustedRoot(root.TrustedRootMediaType01,
		[]root.CertificateAuthority{&root.FulcioCertificateAuthority{
			Root: ca.Root, Intermediates: []*x509.Certificate{ca.Inter},
			ValidityPeriodStart: ca.validityFrom.UTC().Truncate(time.Second), URI: "https://private-ca.test",
		}},
		rawLogIDs(ca.s.vs.CTLogs()), []root.TimestampingAuthority{ca.s.tsa}, rawLogIDs(ca.s.vs.RekorLogs()))
	if err != nil {
		t.Fatal(err)
	}
	b, err := tr.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func create(t testing.TB, tmpl, parent *x509.Certificate, pub crypto.PublicKey, key crypto.Signer) *x509.Certificate {
	t.Helper()
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// certMaterial is a v0.1 bundle's verification material: the leaf
// certificate and one logged entry.
func certMaterial(cert *x509.Certificate, tle *protorekor.TransparencyLogEntry) *protobundle.VerificationMaterial {
	return &protobundle.VerificationMaterial{
		Content: &protobundle.VerificationMaterial_X509CertificateChain{X509CertificateChain: &protocommon.X509CertificateChain{
			Certificates: []*protocommon.X509Certificate{{RawBytes: cert.Raw}},
		}},
		TlogEntries: []*protorekor.TransparencyLogEntry{tle},
	}
}

// BundleJSON is b in the Sigstore bundle's JSON form.
func BundleJSON(t testing.TB, b *bundle.Bundle) []byte {
	t.Helper()
	data, err := b.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// EditJSON decodes a JSON document (a bundle, a legacy bundle), lets f
// mutate it, and encodes it again: how advisory tests forge input.
func EditJSON(t testing.TB, data []byte, f func(doc map[string]any)) []byte {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	f(doc)
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// V03JSON rewrites a v0.2 bundle's JSON as v0.3: the leaf alone, as
// certificate, in place of the chain.
func V03JSON(t testing.TB, data []byte) []byte {
	t.Helper()
	return EditJSON(t, data, func(doc map[string]any) {
		doc["mediaType"] = "application/vnd.dev.sigstore.bundle.v0.3+json"
		vm := doc["verificationMaterial"].(map[string]any)
		chain := vm["x509CertificateChain"].(map[string]any)["certificates"].([]any)
		delete(vm, "x509CertificateChain")
		vm["certificate"] = chain[0]
	})
}

// Format is one of the forms a signing reaches a verifier in.
type Format struct {
	Name string
	Data []byte
}

// Formats are one signing in every bundle form: cosign's legacy bundle,
// and Sigstore bundles v0.1, v0.2 and v0.3. sign makes the signing, with
// or without an inclusion proof (v0.1 and legacy have none).
func Formats(t testing.TB, sign func(SignOptions) *bundle.Bundle) []Format {
	t.Helper()
	v01 := sign(SignOptions{})
	v02 := BundleJSON(t, sign(SignOptions{InclusionProof: true}))
	return []Format{
		{"legacy", LegacyJSON(t, v01)},
		{"v0.1", BundleJSON(t, v01)},
		{"v0.2", v02},
		{"v0.3", V03JSON(t, v02)},
	}
}
