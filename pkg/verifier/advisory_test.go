package verifier_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore/pkg/signature"
	"google.golang.org/protobuf/proto"

	"github.com/signetdev/signet/internal/testing/fakesigstore"
	"github.com/signetdev/signet/pkg/artifact"
	"github.com/signetdev/signet/pkg/verifier"
)

const (
	advID     = "ci@example.com"
	advIssuer = "https://issuer.example"
)

func advPolicy() verifier.Policy {
	return verifier.Policy{Identity: exactIdentity(advID, advIssuer), IgnoreSCTUnsafe: true}
}

func contentArtifact(content []byte) artifact.Artifact {
	return artifact.Artifact{Name: "blob", Open: func() (ioReadCloser, error) { return nopCloser(content), nil }}
}

// reparse round-trips a modified bundle through JSON and ParseBundle, as
// a file would arrive.
func reparse(t *testing.T, pb *protobundle.Bundle) (*bundle.Bundle, error) {
	t.Helper()
	data, err := (&bundle.Bundle{Bundle: pb}).MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := verifier.ParseBundle(data, false)
	return b, err
}

// GHSA-cq38-jh5f-37mq (sigstore-go 0.6.1): a bundle stuffed with tlog
// entries, timestamps, subjects or digests made verification burn CPU and
// memory. At the caps (32 entries, 32 timestamps) a bundle still
// verifies; one past, it is refused quickly with "too many".
func TestAdvisory_GHSA_cq38_jh5f_37mq_EndlessData(t *testing.T) {
	fs := fakesigstore.New(t)
	content := []byte("stuffed")
	b := fs.SignBlob(t, advID, advIssuer, content, fakesigstore.SignOptions{TSATimes: []time.Time{time.Now()}})
	check := func(name string, n int, mutate func(pb *protobundle.Bundle, n int), ok bool) {
		t.Run(fmt.Sprintf("%s %d", name, n), func(t *testing.T) {
			pb := proto.Clone(b.Bundle).(*protobundle.Bundle)
			mutate(pb, n)
			start := time.Now()
			nb, err := reparse(t, pb)
			if err == nil {
				_, err = verifier.Verify(context.Background(), nb, contentArtifact(content), advPolicy(), fs.TrustedMaterial())
			}
			if ok != (err == nil) {
				t.Fatalf("%d: err %v, want ok=%v", n, err, ok)
			}
			if !ok && !strings.Contains(err.Error(), "too many") {
				t.Errorf("error %q does not say too many", err)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
	// Distinct entries for the same signature (sigstore-go refuses
	// duplicates before counting).
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: b.GetVerificationMaterial().GetX509CertificateChain().GetCertificates()[0].GetRawBytes()})
	digest := sha256.Sum256(content)
	var logged []*protorekor.TransparencyLogEntry
	for i := 0; i < 33; i++ {
		logged = append(logged, fs.LogHashedRekord(t, b.GetMessageSignature().GetSignature(), certPEM, digest[:], time.Now().Add(time.Duration(i)*time.Second)))
	}
	entries := func(pb *protobundle.Bundle, n int) {
		pb.VerificationMaterial.TlogEntries = logged[:n]
	}
	timestamps := func(pb *protobundle.Bundle, n int) {
		tvd := pb.VerificationMaterial.TimestampVerificationData
		for len(tvd.Rfc3161Timestamps) < n {
			tvd.Rfc3161Timestamps = append(tvd.Rfc3161Timestamps, proto.Clone(tvd.Rfc3161Timestamps[0]).(*protocommon.RFC3161SignedTimestamp))
		}
	}
	check("tlog entries", 32, entries, true)
	check("tlog entries", 33, entries, false)
	check("timestamps", 32, timestamps, true)
	check("timestamps", 33, timestamps, false)

	// Subjects and digests: a statement of 1025 subjects, or a subject
	// with 33 digests, signed and logged.
	sum := sha256.Sum256(content)
	stmt := func(subjects, digests int) []byte {
		var subs []map[string]any
		for i := 0; i < subjects; i++ {
			d := map[string]string{"sha256": fmt.Sprintf("%064x", i+1)}
			if i == 0 {
				d["sha256"] = hex.EncodeToString(sum[:])
				for j := 1; j < digests; j++ {
					d[fmt.Sprintf("alg%d", j)] = fmt.Sprintf("%064x", j)
				}
			}
			subs = append(subs, map[string]any{"name": fmt.Sprint(i), "digest": d})
		}
		out, _ := json.Marshal(map[string]any{"_type": "https://in-toto.io/Statement/v1", "subject": subs,
			"predicateType": "https://cosign.sigstore.dev/attestation/v1", "predicate": map[string]any{}})
		return out
	}
	for _, tc := range []struct {
		name              string
		subjects, digests int
		ok                bool
	}{
		{"subjects", 1024, 1, true}, {"subjects", 1025, 1, false},
		{"digests of a subject", 1, 32, true}, {"digests of a subject", 1, 33, false},
	} {
		t.Run(fmt.Sprintf("%s %d/%d", tc.name, tc.subjects, tc.digests), func(t *testing.T) {
			ab := fs.Attest(t, advID, advIssuer, stmt(tc.subjects, tc.digests), fakesigstore.SignOptions{})
			p := advPolicy()
			p.PredicateType = "https://cosign.sigstore.dev/attestation/v1"
			_, err := verifier.Verify(context.Background(), ab, contentArtifact(content), p, fs.TrustedMaterial())
			if tc.ok != (err == nil) {
				t.Fatalf("err %v, want ok=%v", err, tc.ok)
			}
			if err != nil && !strings.Contains(err.Error(), "too many") {
				t.Errorf("error %q does not say too many", err)
			}
		})
	}
}

// GHSA-jfc7-64v2-mr8c (@sigstore/core 3.2.1): DSSE PAE encoded the
// payload type as Latin-1 with a UTF-16 length, so look-alike characters
// kept a signature valid. Go's PAE uses UTF-8 bytes and byte lengths; the
// envelope with the look-alike type must fail.
func TestAdvisory_GHSA_jfc7_64v2_mr8c_PAEPayloadType(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sv, err := signature.LoadECDSASignerVerifier(key, crypto256)
	if err != nil {
		t.Fatal(err)
	}
	// The advisory's pair: Go's PAE of the two differs.
	if bytes.Equal(dsse.PAE("text/plain", []byte("p")), dsse.PAE("\u0174\u0165\u0178\u0174/\u0170\u016c\u0161\u0169\u016e", []byte("p"))) {
		t.Fatal("PAE of text/plain equals PAE of its look-alike")
	}
	// End to end with the type signet accepts: in-toto, and its look-alike
	// (each letter moved up by U+0100, the same Latin-1 byte).
	signed := "application/vnd.in-toto+json"
	lookalike := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' {
			return r + 0x100
		}
		return r
	}, signed)
	payload := []byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a","digest":{"sha256":"00"}}],"predicateType":"x","predicate":{}}`)
	sig, err := sv.SignMessage(bytes.NewReader(dsse.PAE(signed, payload)))
	if err != nil {
		t.Fatal(err)
	}
	verifyAs := func(payloadType string) error {
		b, err := bundle.NewBundle(&protobundle.Bundle{
			MediaType: "application/vnd.dev.sigstore.bundle.v0.3+json",
			VerificationMaterial: &protobundle.VerificationMaterial{
				Content: &protobundle.VerificationMaterial_PublicKey{PublicKey: &protocommon.PublicKeyIdentifier{}},
			},
			Content: &protobundle.Bundle_DsseEnvelope{DsseEnvelope: &protodsse.Envelope{
				Payload: payload, PayloadType: payloadType, Signatures: []*protodsse.Signature{{Sig: sig}},
			}},
		})
		if err != nil {
			t.Fatal(err)
		}
		p := verifier.Policy{Key: sv, IgnoreTlogUnsafe: true, SkipArtifactUnsafe: true}
		_, err = verifier.Verify(context.Background(), b, artifact.Artifact{}, p, &root.BaseTrustedMaterial{})
		return err
	}
	if err := verifyAs(signed); err != nil {
		t.Fatalf("the signed envelope does not verify: %v", err)
	}
	if err := verifyAs(lookalike); err == nil {
		t.Errorf("%s signed, %q verified", signed, lookalike)
	} else {
		t.Logf("look-alike: %v", err)
	}
}

// GHSA-wqqc-jjcq-vfxm (sigstore-go 1.2.1): a key-signed bundle verified
// with a trusted-root key outside its validity window. signet never takes
// a verification key from the trusted material: a key-signed bundle needs
// --key (which, as in cosign, has no validity window); without it, even a
// key the trusted material lists — here one valid only in 1970 — is
// refused.
func TestAdvisory_GHSA_wqqc_jjcq_vfxm_KeyValidityWindow(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sv, err := signature.LoadECDSASignerVerifier(key, crypto256)
	if err != nil {
		t.Fatal(err)
	}
	content := []byte("retired key")
	sig, err := sv.SignMessage(bytes.NewReader(content))
	if err != nil {
		t.Fatal(err)
	}
	pb, err := verifier.Parts{Signature: sig}.Bundle()
	if err != nil {
		t.Fatal(err)
	}
	pb.MediaType = "application/vnd.dev.sigstore.bundle.v0.3+json"
	b, err := bundle.NewBundle(pb)
	if err != nil {
		t.Fatal(err)
	}
	expired := root.NewExpiringKey(sv, time.Unix(0, 0), time.Unix(1, 0))
	tm := root.TrustedMaterialCollection{&root.BaseTrustedMaterial{},
		root.NewTrustedPublicKeyMaterial(func(string) (root.TimeConstrainedVerifier, error) { return expired, nil })}
	p := advPolicy()
	p.IgnoreTlogUnsafe = true
	_, err = verifier.Verify(context.Background(), b, contentArtifact(content), p, tm)
	if err == nil || !strings.Contains(err.Error(), "signed with a key") {
		t.Fatalf("key from the trusted material: %v", err)
	}
}

const crypto256 = crypto.SHA256

// malformedBodies are Rekor entry bodies that crashed Rekor's own types
// (GHSA-frqx-jfcm-6jjr: intoto v0.0.2 with null or partial signatures;
// GHSA-273p-m2cw-6833: cose with an empty message) or that the hardening
// of GHSA-843x-px86-vq42 covers (every kind with missing or null fields).
var malformedBodies = []struct{ name, kind, version, body string }{
	{"intoto 0.0.2 null signature", "intoto", "0.0.2", `{"apiVersion":"0.0.2","kind":"intoto","spec":{"content":{"envelope":{"payloadType":"application/vnd.in-toto+json","signatures":[null]}}}}`},
	{"intoto 0.0.2 no publicKey", "intoto", "0.0.2", `{"apiVersion":"0.0.2","kind":"intoto","spec":{"content":{"envelope":{"payloadType":"x","signatures":[{"sig":"AAAA"}]}}}}`},
	{"intoto 0.0.2 no sig", "intoto", "0.0.2", `{"apiVersion":"0.0.2","kind":"intoto","spec":{"content":{"envelope":{"payloadType":"x","signatures":[{"publicKey":"AAAA"}]}}}}`},
	{"intoto 0.0.2 no envelope", "intoto", "0.0.2", `{"apiVersion":"0.0.2","kind":"intoto","spec":{"content":null}}`},
	{"intoto 0.0.1 null content", "intoto", "0.0.1", `{"apiVersion":"0.0.1","kind":"intoto","spec":{"content":null,"publicKey":null}}`},
	{"cose empty message", "cose", "0.0.1", `{"apiVersion":"0.0.1","kind":"cose","spec":{"message":"","publicKey":"AAAA"}}`},
	{"cose null", "cose", "0.0.1", `{"apiVersion":"0.0.1","kind":"cose","spec":null}`},
	{"hashedrekord null spec", "hashedrekord", "0.0.1", `{"apiVersion":"0.0.1","kind":"hashedrekord","spec":null}`},
	{"hashedrekord no signature", "hashedrekord", "0.0.1", `{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{"data":{"hash":{"algorithm":"sha256","value":"00"}}}}`},
	{"hashedrekord null key", "hashedrekord", "0.0.1", `{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{"data":{},"signature":{"content":"AAAA","publicKey":null}}}`},
	{"dsse null signatures", "dsse", "0.0.1", `{"apiVersion":"0.0.1","kind":"dsse","spec":{"signatures":[null],"envelopeHash":null,"payloadHash":null}}`},
	{"dsse no spec", "dsse", "0.0.1", `{"apiVersion":"0.0.1","kind":"dsse"}`},
	{"rekord null data", "rekord", "0.0.1", `{"apiVersion":"0.0.1","kind":"rekord","spec":{"data":null,"signature":null}}`},
	{"rfc3161 empty", "rfc3161", "0.0.1", `{"apiVersion":"0.0.1","kind":"rfc3161","spec":{"tsr":{}}}`},
	{"unknown kind", "nope", "9.9.9", `{"apiVersion":"9.9.9","kind":"nope","spec":{}}`},
	{"body not an object", "hashedrekord", "0.0.1", `"just a string"`},
}

// TestAdvisory_GHSA_frqx_jfcm_6jjr_RekorEntryNullSignatures: the malformed
// bodies, logged with a valid SET so that parsing is what is tested, in a
// Sigstore bundle and in a legacy bundle: an error, never a panic. The
// same bodies are seeds of FuzzParseBundle.
func TestAdvisory_GHSA_frqx_jfcm_6jjr_RekorEntryNullSignatures(t *testing.T) {
	checkMalformedBodies(t, func(name string) bool { return strings.HasPrefix(name, "intoto") })
}

// TestAdvisory_GHSA_273p_m2cw_6833_CoseEmptyMessage: see above.
func TestAdvisory_GHSA_273p_m2cw_6833_CoseEmptyMessage(t *testing.T) {
	checkMalformedBodies(t, func(name string) bool { return strings.HasPrefix(name, "cose") })
}

// TestAdvisory_GHSA_843x_px86_vq42_MalformedEntries (unconfirmed
// advisory; Rekor's hardening commit): every entry kind with missing or
// null fields.
func TestAdvisory_GHSA_843x_px86_vq42_MalformedEntries(t *testing.T) {
	checkMalformedBodies(t, func(string) bool { return true })
}

func checkMalformedBodies(t *testing.T, which func(string) bool) {
	fs := fakesigstore.New(t)
	content := []byte("malformed entries")
	good := fs.SignBlob(t, advID, advIssuer, content, fakesigstore.SignOptions{})
	n := 0
	for _, mb := range malformedBodies {
		if !which(mb.name) {
			continue
		}
		n++
		t.Run(mb.name, func(t *testing.T) {
			tle := fs.LogBody(t, []byte(mb.body), mb.kind, mb.version, time.Now())
			pb := proto.Clone(good.Bundle).(*protobundle.Bundle)
			pb.VerificationMaterial.TlogEntries = []*protorekor.TransparencyLogEntry{tle}
			data, err := (&bundle.Bundle{Bundle: pb}).MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			var legacy map[string]any
			json.Unmarshal(fakesigstore.LegacyJSON(t, &bundle.Bundle{Bundle: pb}), &legacy)
			legacyJSON, _ := json.Marshal(legacy)
			for format, in := range map[string][]byte{"sigstore": data, "legacy": legacyJSON} {
				b, _, err := verifier.ParseBundle(in, false)
				if err == nil {
					_, err = verifier.Verify(context.Background(), b, contentArtifact(content), advPolicy(), fs.TrustedMaterial())
				}
				if err == nil {
					t.Errorf("%s: accepted", format)
				} else if strings.Contains(err.Error(), "\n") {
					t.Errorf("%s: multi-line error %q", format, err)
				}
			}
		})
	}
	if n == 0 {
		t.Fatal("no bodies")
	}
}
