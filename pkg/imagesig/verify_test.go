package imagesig

import (
	"bytes"
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore/pkg/signature"

	"github.com/signetdev/signet/pkg/oci"
)

const customType = "https://cosign.sigstore.dev/attestation/v1"

func statement(t testing.TB, hex, predicateType string, ann map[string]string) []byte {
	t.Helper()
	if ann == nil {
		ann = map[string]string{}
	}
	b, err := json.Marshal(map[string]any{
		"_type":         "https://in-toto.io/Statement/v1",
		"subject":       []any{map[string]any{"digest": map[string]string{"sha256": hex}, "annotations": ann}},
		"predicateType": predicateType,
		"predicate":     map[string]any{},
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func request(t testing.TB, s testSigstore, kind Kind) Request {
	d := testDigest(t, "image")
	return Request{
		Image: d, Kind: kind, CheckClaims: true, Policy: keylessPolicy(t), MaxWorkers: 4,
		TrustedMaterial: func() (root.TrustedMaterial, error) { return s.material(), nil },
	}
}

func TestVerifyLegacySignature(t *testing.T) {
	s := newTestSigstore(t)
	r := request(t, s, KindSignature)
	payload, err := NewSimpleSigning("registry.example/app", hashOf(r.Image), map[string]string{"env": "prod"})
	if err != nil {
		t.Fatal(err)
	}
	src := &fakeSource{legacy: map[string][]oci.Layer{".sig": {s.legacySig(t, payload)}}}
	r.Annotations = map[string]string{"env": "prod"}
	vs, err := Verify(context.Background(), src, r)
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 1 || !vs[0].TlogVerified || vs[0].Claims.Issuer != testIssuer {
		t.Fatalf("verified: %+v", vs)
	}
	var out, errOut bytes.Buffer
	if err := WriteSignatures(&out, &errOut, "json", "registry.example/app:v1", vs); err != nil {
		t.Fatal(err)
	}
	var got []SimpleSigning
	if err := json.Unmarshal(bytes.TrimSpace(out.Bytes()), &got); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	opt := got[0].Optional
	if opt["Subject"] != testIdentity || opt["Issuer"] != testIssuer || opt["1.3.6.1.4.1.57264.1.1"] != nil && opt["1.3.6.1.4.1.57264.1.1"] != testIssuer || opt["Bundle"] == nil || opt["env"] != "prod" {
		t.Fatalf("optional: %v", opt)
	}
	if !strings.HasPrefix(out.String(), "\n[") {
		t.Errorf("cosign prints a blank line first: %q", out.String())
	}
}

func TestVerifyBundleSignatureAndAttestation(t *testing.T) {
	s := newTestSigstore(t)
	r := request(t, s, KindSignature)
	hex := hashOf(r.Image).Hex
	sig := s.bundleReferrer(t, statement(t, hex, SignPredicateType, map[string]string{"env": "prod"}), SignPredicateType)
	att := s.bundleReferrer(t, statement(t, hex, customType, nil), customType)
	src := &fakeSource{referrers: []oci.Referrer{att, sig}}

	vs, err := Verify(context.Background(), src, r)
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 1 || vs[0].Statement.GetPredicateType() != SignPredicateType || vs[0].Annotations["env"] != "prod" {
		t.Fatalf("verify must take the signature only: %+v", vs)
	}
	var out bytes.Buffer
	if err := WriteSignatures(&out, &out, "text", "registry.example/app:v1", vs); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf(`{"critical":{"identity":{"docker-reference":"registry.example/app:v1"},"image":{"docker-manifest-digest":"sha256:%s"},"type":"%s"},"optional":{"env":"prod"}}`+"\n", hex, SignPredicateType)
	if out.String() != want {
		t.Errorf("text output\n got %s\nwant %s", out.String(), want)
	}

	ra := request(t, s, KindAttestation)
	ra.PredicateType = customType
	vs, err = Verify(context.Background(), src, ra)
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 1 || vs[0].Statement.GetPredicateType() != customType {
		t.Fatalf("verify-attestation must take the attestation only: %+v", vs)
	}
	out.Reset()
	if err := WriteAttestations(&out, &out, vs); err != nil {
		t.Fatal(err)
	}
	var env struct {
		PayloadType string `json:"payloadType"`
		Payload     []byte `json:"payload"`
	}
	if err := json.Unmarshal(out.Bytes(), &env); err != nil || env.PayloadType != "application/vnd.in-toto+json" || !strings.HasPrefix(out.String(), `{"payload":`) {
		t.Fatalf("attestation output %q: %v", out.String(), err)
	}
}

func TestVerifyRejects(t *testing.T) {
	s := newTestSigstore(t)
	base := request(t, s, KindSignature)
	hex := hashOf(base.Image).Hex
	other := testDigest(t, "other image")
	payloadOf := func(h string) []byte {
		p, err := NewSimpleSigning("registry.example/app", hashOf(testDigest(t, h)), map[string]string{"env": "dev"})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := s.legacySig(t, payloadOf("image"))
	otherSig := s.legacySig(t, payloadOf("other image"))
	swapped := good
	swapped.Annotations = map[string]string{}
	for k, v := range good.Annotations {
		swapped.Annotations[k] = v
	}
	swapped.Annotations[oci.AnnotationCertificate] = otherSig.Annotations[oci.AnnotationCertificate]
	swapped.Annotations[oci.AnnotationBundle] = otherSig.Annotations[oci.AnnotationBundle]
	legacyAtt := s.legacyAtt(t, statement(t, hex, customType, nil))
	attBundle := s.bundleReferrer(t, statement(t, hex, customType, nil), customType)
	// An attacker labels an attestation as a signature in the manifest.
	mislabelled := s.bundleReferrer(t, statement(t, hex, customType, nil), SignPredicateType)
	otherSubject := s.bundleReferrer(t, statement(t, other.DigestStr()[7:], SignPredicateType, nil), SignPredicateType)

	tests := []struct {
		name   string
		kind   Kind
		typ    string
		ann    map[string]string
		src    *fakeSource
		want   error
		reason string
	}{
		{"payload names another image", KindSignature, "", nil, &fakeSource{legacy: map[string][]oci.Layer{".sig": {otherSig}}}, ErrNoMatchingSignatures, "expected docker-manifest-digest " + base.Image.DigestStr()},
		{"swapped certificate", KindSignature, "", nil, &fakeSource{legacy: map[string][]oci.Layer{".sig": {swapped}}}, ErrNoMatchingSignatures, "tag sha256-" + hex + ".sig layer 1"},
		{"annotation mismatch", KindSignature, "", map[string]string{"env": "prod"}, &fakeSource{legacy: map[string][]oci.Layer{".sig": {good}}}, ErrNoMatchingSignatures, `expected env="prod", found "dev"`},
		{"annotation missing", KindSignature, "", map[string]string{"team": "a"}, &fakeSource{legacy: map[string][]oci.Layer{".sig": {good}}}, ErrNoMatchingSignatures, "has no team"},
		{"attestation offered to verify", KindSignature, "", nil, &fakeSource{referrers: []oci.Referrer{attBundle}}, ErrNoMatchingSignatures, "not a signature"},
		{"mislabelled attestation", KindSignature, "", nil, &fakeSource{referrers: []oci.Referrer{mislabelled}}, ErrNoMatchingSignatures, "not a signature"},
		{"bundle subject is another image", KindSignature, "", nil, &fakeSource{referrers: []oci.Referrer{otherSubject}}, ErrNoMatchingSignatures, "subject"},
		{"wrong --type", KindAttestation, "https://slsa.dev/provenance/v1", nil, &fakeSource{legacy: map[string][]oci.Layer{".att": {legacyAtt}}, referrers: []oci.Referrer{attBundle}}, ErrNoMatchingSignatures, `expected predicate type "https://slsa.dev/provenance/v1", found "` + customType + `"`},
		{"signature offered to verify-attestation", KindAttestation, "", nil, &fakeSource{referrers: []oci.Referrer{s.bundleReferrer(t, statement(t, hex, SignPredicateType, nil), SignPredicateType)}}, ErrNoMatchingSignatures, "not an attestation"},
		{"nothing stored", KindSignature, "", nil, &fakeSource{legacy: map[string][]oci.Layer{".att": {legacyAtt}}}, ErrNoSignatures, "no signatures found for"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := base
			r.Kind, r.PredicateType, r.Annotations = tc.kind, tc.typ, tc.ann
			vs, err := Verify(context.Background(), tc.src, r)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v (%d verified), want %v", err, len(vs), tc.want)
			}
			if !strings.Contains(err.Error(), tc.reason) {
				t.Errorf("error %q does not say %q", err, tc.reason)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
		})
	}
}

// TestCheckClaimsOff: another image's signature is accepted only with a
// warning naming it.
func TestCheckClaimsOff(t *testing.T) {
	s := newTestSigstore(t)
	r := request(t, s, KindSignature)
	p, _ := NewSimpleSigning("registry.example/app", hashOf(testDigest(t, "other")), nil)
	src := &fakeSource{legacy: map[string][]oci.Layer{".sig": {s.legacySig(t, p)}}}
	r.CheckClaims = false
	var warnings []string
	r.Warnf = func(f string, a ...any) { warnings = append(warnings, fmt.Sprintf(f, a...)) }
	vs, err := Verify(context.Background(), src, r)
	if err != nil || len(vs) != 1 || vs[0].ClaimsChecked {
		t.Fatalf("%v %+v", err, vs)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "does not name "+r.Image.DigestStr()) {
		t.Fatalf("warnings: %q", warnings)
	}
}

// TestReferrersFailureIsReported: a failed referrers listing is a
// warning, the tag is still read, and "none found" says the listing failed.
func TestReferrersFailureIsReported(t *testing.T) {
	s := newTestSigstore(t)
	r := request(t, s, KindSignature)
	var warnings []string
	r.Warnf = func(f string, a ...any) { warnings = append(warnings, fmt.Sprintf(f, a...)) }
	p, _ := NewSimpleSigning("registry.example/app", hashOf(r.Image), nil)
	src := &fakeSource{legacy: map[string][]oci.Layer{".sig": {s.legacySig(t, p)}}, referrersErr: errors.New("429 Too Many Requests")}
	if vs, err := Verify(context.Background(), src, r); err != nil || len(vs) != 1 {
		t.Fatalf("%v %d", err, len(vs))
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "429 Too Many Requests") {
		t.Fatalf("warnings %q", warnings)
	}
	src.legacy = nil
	_, err := Verify(context.Background(), src, r)
	if !errors.Is(err, ErrNoSignatures) || !strings.Contains(err.Error(), "listing the referrers failed: 429") {
		t.Fatalf("got %v", err)
	}
}

// TestKeySigned: a key-signed signature verifies with --key, and a keyless
// policy that finds only key-signed ones says so (exit 13); an empty or
// whitespace certificate annotation is no certificate (cosign #4760).
func TestKeySigned(t *testing.T) {
	s := newTestSigstore(t)
	key := newKey(t)
	r := request(t, s, KindSignature)
	p, _ := NewSimpleSigning("registry.example/app", hashOf(r.Image), nil)
	l := keySig(t, key, p)
	l.Annotations[oci.AnnotationCertificate] = " \n"
	src := &fakeSource{legacy: map[string][]oci.Layer{".sig": {l}}}
	_, err := Verify(context.Background(), src, r)
	if !errors.Is(err, ErrNoCertificate) || !errors.Is(err, ErrNoMatchingSignatures) {
		t.Fatalf("keyless: got %v", err)
	}
	v, err := signature.LoadECDSAVerifier(&key.PublicKey, crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	kp := r
	kp.Policy = keyPolicy(v)
	kp.TrustedMaterial = func() (root.TrustedMaterial, error) {
		t.Error("no trust material is needed")
		return nil, errors.New("x")
	}
	vs, err := Verify(context.Background(), src, kp)
	if err != nil || len(vs) != 1 || vs[0].Certificate != nil {
		t.Fatalf("with the key: %v", err)
	}
}
