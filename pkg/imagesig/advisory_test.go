package imagesig

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore/pkg/signature"

	"github.com/signetdev/signet/pkg/oci"
	"github.com/signetdev/signet/pkg/verifier"
)

// The image halves of the advisories: verify and verify-attestation share
// Verify, whatever the Source (a registry, or an OCI layout for
// --local-image). The CLI halves (exit codes, flags, --trusted-root and
// TUF) are in internal/cli/verify and internal/cli/verifyblob.

// anyIdentity is --certificate-identity-regexp '.*' and
// --certificate-oidc-issuer-regexp '.*'.
func anyIdentity(t *testing.T) verifier.Policy {
	t.Helper()
	san, err := verifier.NewMatcher("certificate-identity", "", ".*")
	if err != nil {
		t.Fatal(err)
	}
	iss, err := verifier.NewMatcher("certificate-oidc-issuer", "", ".*")
	if err != nil {
		t.Fatal(err)
	}
	return verifier.Policy{Identity: verifier.Identity{SAN: san, Issuer: iss}, IgnoreSCTUnsafe: true}
}

func wantNoMatch(t *testing.T, what string, vs []Verified, err error) {
	t.Helper()
	if !errors.Is(err, ErrNoMatchingSignatures) {
		t.Errorf("%s: verified %d, err %v; want ErrNoMatchingSignatures (exit 12)", what, len(vs), err)
		return
	}
	t.Logf("%s: %v", what, err)
}

// GHSA-ccxc-vr6p-4858 (cosign 1.5.2): a Rekor bundle annotation copied
// from a logged signature onto another signature in the .sig image was
// trusted. S1 and S2 sign the same payload; S2 carries S1's bundle and S1
// is gone: no signature verifies.
func TestAdvisory_GHSA_ccxc_vr6p_4858_CopiedRekorBundle(t *testing.T) {
	s := newTestSigstore(t)
	r := request(t, s, KindSignature)
	payload, err := NewSimpleSigning("registry.example/app", hashOf(r.Image), nil)
	if err != nil {
		t.Fatal(err)
	}
	s1, s2 := s.legacySig(t, payload), s.legacySig(t, payload)
	if _, err := Verify(context.Background(), &fakeSource{legacy: map[string][]oci.Layer{".sig": {s2}}}, r); err != nil {
		t.Fatalf("control: S2 with its own bundle: %v", err)
	}
	s2.Annotations[oci.AnnotationBundle] = s1.Annotations[oci.AnnotationBundle]
	for name, p := range map[string]verifier.Policy{"exact identity": keylessPolicy(t), "any identity": anyIdentity(t)} {
		r.Policy = p
		vs, err := Verify(context.Background(), &fakeSource{legacy: map[string][]oci.Layer{".sig": {s2}}}, r)
		wantNoMatch(t, name, vs, err)
	}
}

// GHSA-whqx-f9j3-ch6m (cosign 2.6.2/3.0.4): with a trusted root, a legacy
// signature's Rekor bundle from another signing was accepted, for verify
// and verify-attestation alike. Two signings of the same image by the
// same identity; the first with the second's bundle must fail, also with
// any identity allowed.
func TestAdvisory_GHSA_whqx_f9j3_ch6m_ImageSplicedRekorBundle(t *testing.T) {
	s := newTestSigstore(t)
	for _, kind := range []Kind{KindSignature, KindAttestation} {
		t.Run(kind.plural(), func(t *testing.T) {
			r := request(t, s, kind)
			r.Policy = anyIdentity(t)
			var one, two oci.Layer
			if kind == KindSignature {
				payload, err := NewSimpleSigning("registry.example/app", hashOf(r.Image), nil)
				if err != nil {
					t.Fatal(err)
				}
				one, two = s.legacySig(t, payload), s.legacySig(t, payload)
			} else {
				st := statement(t, hashOf(r.Image).Hex, customType, nil)
				one, two = s.legacyAtt(t, st), s.legacyAtt(t, st)
				r.PredicateType = customType
			}
			src := &fakeSource{legacy: map[string][]oci.Layer{kind.suffix(): {one}}}
			if _, err := Verify(context.Background(), src, r); err != nil {
				t.Fatalf("control: %v", err)
			}
			one.Annotations[oci.AnnotationBundle] = two.Annotations[oci.AnnotationBundle]
			vs, err := Verify(context.Background(), src, r)
			wantNoMatch(t, "spliced", vs, err)
		})
	}
}

// GHSA-vjxv-45g9-9296 (cosign 1.10.1) and GHSA-739f-hw6h-7wq8
// (policy-controller 0.2.1): attestations existed but none of the wanted
// type, and verification passed. An image with only a vuln attestation
// (in the .att tag and as a bundle referrer) has no spdx and no custom
// attestation; the vuln one is still found.
func TestAdvisory_GHSA_vjxv_45g9_9296_ImageAttestationType(t *testing.T) {
	s := newTestSigstore(t)
	r := request(t, s, KindAttestation)
	const vuln = "https://cosign.sigstore.dev/attestation/vuln/v1"
	st := statement(t, hashOf(r.Image).Hex, vuln, nil)
	for name, src := range map[string]*fakeSource{
		".att tag": {legacy: map[string][]oci.Layer{".att": {s.legacyAtt(t, st)}}},
		"referrer": {referrers: []oci.Referrer{s.bundleReferrer(t, st, vuln)}},
	} {
		t.Run(name, func(t *testing.T) {
			r.PredicateType = vuln
			if vs, err := Verify(context.Background(), src, r); err != nil || len(vs) != 1 {
				t.Fatalf("control: %d verified, %v", len(vs), err)
			}
			for _, want := range []string{"https://spdx.dev/Document", customType} {
				r.PredicateType = want
				vs, err := Verify(context.Background(), src, r)
				wantNoMatch(t, want, vs, err)
			}
		})
	}
}

// GHSA-vfp6-jrw2-99g9 (cosign 2.2.1): a registry returning endless
// signatures kept the verifier busy. At most MaxSignatures (cosign's 100)
// per image are verified: 100 pass, 101 fail before any is verified.
func TestAdvisory_GHSA_vfp6_jrw2_99g9_SignaturesPerImage(t *testing.T) {
	key := newKey(t)
	v, err := signature.LoadECDSAVerifier(&key.PublicKey, crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	d := testDigest(t, "image")
	payload, err := NewSimpleSigning("registry.example/app", hashOf(d), nil)
	if err != nil {
		t.Fatal(err)
	}
	layer := keySig(t, key, payload)
	for _, kind := range []Kind{KindSignature, KindAttestation} {
		for _, n := range []int{MaxSignatures, MaxSignatures + 1} {
			t.Run(fmt.Sprintf("%s %d", kind.plural(), n), func(t *testing.T) {
				l := layer
				if kind == KindAttestation {
					l.MediaType = oci.DSSEMediaType
				}
				layers := make([]oci.Layer, n)
				for i := range layers {
					layers[i] = l
				}
				tmCalls := 0
				r := Request{Image: d, Kind: kind, CheckClaims: true, Policy: keyPolicy(v), MaxWorkers: 4,
					TrustedMaterial: func() (root.TrustedMaterial, error) { tmCalls++; return &root.BaseTrustedMaterial{}, nil }}
				start := time.Now()
				vs, err := Verify(context.Background(), &fakeSource{legacy: map[string][]oci.Layer{kind.suffix(): layers}}, r)
				if n > MaxSignatures {
					if err == nil || !strings.Contains(err.Error(), "more than the limit of 100") || len(vs) != 0 || tmCalls != 0 {
						t.Fatalf("%d: verified %d, %d trust loads, err %v", n, len(vs), tmCalls, err)
					}
					t.Log(err)
				} else if kind == KindSignature && (err != nil || len(vs) != n) {
					t.Fatalf("%d: verified %d, err %v", n, len(vs), err)
				}
				if d := time.Since(start); d > 5*time.Second {
					t.Errorf("took %v", d)
				}
			})
		}
	}
}

// The cap counts each kind on its own: 60 signature and 60 attestation
// bundle referrers are under it for both verbs.
func TestSignatureCapCountsEachKind(t *testing.T) {
	var cs []Candidate
	for i := 0; i < 60; i++ {
		cs = append(cs,
			Candidate{Format: FormatBundle, ManifestAnnotations: map[string]string{oci.AnnotationBundlePredicateType: SignPredicateType}},
			Candidate{Format: FormatBundle, ManifestAnnotations: map[string]string{oci.AnnotationBundlePredicateType: customType}})
	}
	cs = append(cs, Candidate{Format: FormatBundle}, Candidate{Format: FormatLegacy})
	if n := countOfKind(cs, KindSignature); n != 62 {
		t.Errorf("signatures: %d", n)
	}
	if n := countOfKind(cs, KindAttestation); n != 62 {
		t.Errorf("attestations: %d", n)
	}
}
