package admission

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/signetdev/signet/internal/testing/fakesigstore"
	"github.com/signetdev/signet/pkg/imagesig"
	"github.com/signetdev/signet/pkg/oci"
)

// The published advisories, through the webhook's path: an AdmissionReview
// for a Pod, decoded and judged by the engine against a ClusterImagePolicy,
// over a registry on loopback holding material signed by a fake Sigstore
// (or a key). The engine reuses pkg/imagesig, whose own advisory tests
// hold the rows for verify; these prove the webhook does not undo them.

// admit decodes an AdmissionReview v1 for a Pod of images, as the API
// server sends it, and judges it.
func (w *world) admit(images ...string) Decision {
	w.t.Helper()
	var cs []map[string]string
	for i, im := range images {
		cs = append(cs, map[string]string{"name": fmt.Sprintf("c%d", i), "image": im})
	}
	obj, _ := json.Marshal(map[string]any{"apiVersion": "v1", "kind": "Pod", "metadata": map[string]any{"name": "p", "namespace": "ns"}, "spec": map[string]any{"containers": cs}})
	body, _ := json.Marshal(Review{APIVersion: ReviewAPIVersion, Kind: ReviewKind, Request: &Request{
		UID: "uid", Kind: GroupVersionKind{Version: "v1", Kind: "Pod"}, Resource: GroupVersionResource{Version: "v1", Resource: "pods"},
		Namespace: "ns", Name: "p", Operation: "CREATE", Object: obj}})
	rv, err := DecodeReview(bytes.NewReader(body), MaxReviewSize, false)
	if err != nil {
		w.t.Fatal(err)
	}
	wl, skip, err := ReadWorkload(rv.Request)
	if err != nil || skip {
		w.t.Fatalf("images: skip %v, %v", skip, err)
	}
	return w.e.Validate(context.Background(), rv.Request.Namespace, wl)
}

func wantDenied(t *testing.T, what string, d Decision, parts ...string) {
	t.Helper()
	if d.Allowed {
		t.Fatalf("%s: admitted (warnings %q)", what, d.Warnings)
	}
	mustContain(t, d.Message, parts...)
	t.Logf("%s: %s", what, d.Message)
}

// attestationCIP requires, of a keyless GitLab identity, an attestation
// of predicateType (policy-controller's short names or a URI).
func attestationCIP(name, predicateType string) string {
	return keylessCIP(name, "**", gitlabSubject) + fmt.Sprintf(`    attestations:
    - name: wanted
      predicateType: %s
`, predicateType)
}

// keyCIP requires a signature by the key in pemKey; no transparency log
// (signed with --tlog-upload=false).
func keyCIP(pemKey string) string {
	return `apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata:
  name: release-key
spec:
  images:
  - glob: "**"
  authorities:
  - name: release-key
    key:
      data: |
        ` + strings.ReplaceAll(strings.TrimSpace(pemKey), "\n", "\n        ") + "\n"
}

// GHSA-739f-hw6h-7wq8 (policy-controller 0.2.1): an image with a valid
// attestation of some type, but none of the type the policy requires,
// was admitted. The image carries only a signed vuln attestation: a
// policy requiring spdx, or custom, denies it, naming the type it wanted
// and the one it found; requiring vuln admits it (the control).
func TestAdvisory_GHSA_739f_hw6h_7wq8_WebhookAttestationType(t *testing.T) {
	w := newWorld(t)
	img := w.image("acme/app")
	const vuln = "https://cosign.sigstore.dev/attestation/vuln/v1"
	w.attest(img, gitlabSubject, gitlabIssuer, vuln, `{"scanner":{"uri":"trivy","result":{}}}`)

	w.policy(attestationCIP("vuln", "vuln"), LoadOptions{})
	if d := w.admit(img.String()); !d.Allowed {
		t.Fatalf("control: the vuln attestation is not accepted: %s", d.Message)
	}
	for _, tc := range []struct{ predicateType, uri string }{
		{"spdx", "https://spdx.dev/Document"},
		{"custom", "https://cosign.sigstore.dev/attestation/v1"},
	} {
		w.policy(attestationCIP(tc.predicateType, tc.predicateType), LoadOptions{})
		wantDenied(t, tc.predicateType, w.admit(img.String()),
			"spec.containers[0].image", "attestation wanted ("+tc.uri+")", fmt.Sprintf("expected predicate type %q, found %q", tc.uri, vuln))
	}
}

// GHSA-fgw4-v983-mgp8 (gh attestation): zero matching attestations must
// never read as success. An unsigned image, an image whose only
// attestation fails the policy, and an image whose signatures are by
// another identity are all denied.
func TestAdvisory_GHSA_fgw4_v983_mgp8_WebhookZeroMatchingAttestations(t *testing.T) {
	w := newWorld(t)
	bare, failing, other := w.image("acme/bare"), w.image("acme/failing"), w.image("acme/other")
	w.attest(failing, gitlabSubject, gitlabIssuer, "https://slsa.dev/provenance/v0.2", `{"builder":{"id":"github"}}`)
	w.attest(other, "https://gitlab.example/evil/app//.gitlab-ci.yml@refs/heads/main", gitlabIssuer, "https://slsa.dev/provenance/v0.2", `{"builder":{"id":"gitlab"}}`)
	compile := func(_ context.Context, name, lang string, data []byte) (StatementPolicy, error) {
		return jsonPolicy{strings.TrimSpace(string(data))}, nil
	}
	w.policy(attestationCIP("prov", "slsaprovenance")+`      policy:
        type: cue
        data: gitlab
`, LoadOptions{Compile: compile})
	wantDenied(t, "no attestation", w.admit(bare.String()), "no attestations found")
	wantDenied(t, "failing attestation", w.admit(failing.String()), "policy failed", "conflicting values")
	wantDenied(t, "another identity", w.admit(other.String()), "found https://gitlab.example/evil/app")
	w.policy(keylessCIP("sig", "**", gitlabSubject), LoadOptions{})
	wantDenied(t, "no signature", w.admit(bare.String()), "no signatures found")
}

// keySigned is n signatures of img's payload by key, as legacy layers.
func keySigned(t *testing.T, key *ecdsa.PrivateKey, img name.Digest, n int) []oci.Layer {
	payload, err := imagesig.NewSimpleSigning(img.Context().Name(), hash(img), nil)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]oci.Layer, n)
	for i := range out {
		out[i] = keyLayer(t, key, payload)
	}
	return out
}

// GHSA-vfp6-jrw2-99g9 (cosign 2.2.1): a registry serving endless
// signatures kept the verifier (then an admission controller) busy. The
// webhook verifies at most 100 signatures per image: an image with 100
// valid ones is admitted, one with 101 denied before any is verified,
// well within a webhook's deadline.
func TestAdvisory_GHSA_vfp6_jrw2_99g9_WebhookSignaturesPerImage(t *testing.T) {
	w := newWorld(t)
	key, pemKey := newKey(t)
	w.policy(keyCIP(pemKey), LoadOptions{})
	for _, n := range []int{imagesig.MaxSignatures, imagesig.MaxSignatures + 1} {
		img := w.image(fmt.Sprintf("acme/sigs-%d", n))
		if err := w.client.WriteLegacy(context.Background(), img, oci.SignatureSuffix, keySigned(t, key, img, n)); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		d := w.admit(img.String())
		if n <= imagesig.MaxSignatures && !d.Allowed {
			t.Fatalf("%d signatures: denied: %s", n, d.Message)
		}
		if n > imagesig.MaxSignatures {
			wantDenied(t, fmt.Sprint(n), d, "more than the limit of 100")
		}
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("%d signatures: took %v", n, took)
		}
	}
}

// rawManifest is a manifest pushed as given: layer descriptors need not
// match any blob, as a hostile registry serves them.
type rawManifest struct{ m v1.Manifest }

func (r rawManifest) RawManifest() ([]byte, error) { return json.Marshal(r.m) }

func (r rawManifest) MediaType() (types.MediaType, error) { return types.OCIManifestSchema1, nil }

func (w *world) putSignatureManifest(img name.Digest, layers []v1.Descriptor) {
	w.t.Helper()
	tag, err := w.client.LegacyTag(img, oci.SignatureSuffix)
	if err != nil {
		w.t.Fatal(err)
	}
	m := v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1,
		Config: v1.Descriptor{MediaType: types.OCIConfigJSON, Size: 2, Digest: v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("c", 64)}},
		Layers: layers}
	if err := remote.Put(tag, rawManifest{m}); err != nil {
		w.t.Fatal(err)
	}
}

func descriptors(n int, size int64) []v1.Descriptor {
	out := make([]v1.Descriptor, n)
	for i := range out {
		out[i] = v1.Descriptor{MediaType: oci.SimpleSigningMediaType, Size: size,
			Digest: v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%064x", i+1)}}
	}
	return out
}

// GHSA-95pr-fxf5-86gv (cosign 2.2.4): the count of layers in a signature
// manifest sized allocations. A .sig manifest of 1001 layers (more than
// cosign's 1000) is refused from the manifest, no blob fetched: the image
// is denied at once, naming the limit. (At and past the limit on the
// parser: pkg/oci TestAdvisory_GHSA_95pr_fxf5_86gv_LayerCount.)
func TestAdvisory_GHSA_95pr_fxf5_86gv_WebhookLayerCount(t *testing.T) {
	w := newWorld(t)
	_, pemKey := newKey(t)
	w.policy(keyCIP(pemKey), LoadOptions{})
	img := w.image("acme/layers")
	w.putSignatureManifest(img, descriptors(oci.MaxLayers+1, 100))
	start := time.Now()
	wantDenied(t, "1001 layers", w.admit(img.String()), "1001 layers", "limit")
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("took %v", took)
	}
}

// GHSA-88jx-383q-w4qc (cosign 2.2.4): an attachment was read whole, with
// no size check. A .sig layer whose descriptor claims 1 GB + 42 bytes is
// refused before its blob is fetched: denied at once.
func TestAdvisory_GHSA_88jx_383q_w4qc_WebhookAttachmentSize(t *testing.T) {
	w := newWorld(t)
	_, pemKey := newKey(t)
	w.policy(keyCIP(pemKey), LoadOptions{})
	img := w.image("acme/huge")
	w.putSignatureManifest(img, descriptors(1, 1<<30+42))
	start := time.Now()
	wantDenied(t, "1 GB layer", w.admit(img.String()), "limit")
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("took %v", took)
	}
}

// keylessLayers signs payload twice as the GitLab identity: two legacy
// layers, each with its own Rekor bundle.
func (w *world) keylessLayers(payload []byte, attestation bool) (one, two oci.Layer) {
	w.t.Helper()
	mk := func() oci.Layer {
		var l oci.Layer
		var err error
		if attestation {
			l, err = imagesig.AttestationLayer(w.fs.Attest(w.t, gitlabSubject, gitlabIssuer, payload, fakesigstore.SignOptions{}), "https://cosign.sigstore.dev/attestation/v1", nil)
		} else {
			l, err = imagesig.SignatureLayer(w.fs.SignBlob(w.t, gitlabSubject, gitlabIssuer, payload, fakesigstore.SignOptions{}), payload, nil)
		}
		if err != nil {
			w.t.Fatal(err)
		}
		return l
	}
	return mk(), mk()
}

// GHSA-ccxc-vr6p-4858 (cosign 1.5.2): a Rekor bundle copied from one
// signature onto another was trusted. S1 and S2 sign the same payload;
// the .sig holds only S2, carrying S1's bundle: denied. S2 with its own
// bundle is admitted (the control).
func TestAdvisory_GHSA_ccxc_vr6p_4858_WebhookCopiedRekorBundle(t *testing.T) {
	w := newWorld(t)
	w.policy(keylessCIP("gitlab", "**", gitlabSubject), LoadOptions{})
	control, img := w.image("acme/control"), w.image("acme/copied")
	for _, d := range []name.Digest{control, img} {
		payload, err := imagesig.NewSimpleSigning(d.Context().Name(), hash(d), nil)
		if err != nil {
			t.Fatal(err)
		}
		s1, s2 := w.keylessLayers(payload, false)
		if d == img {
			s2.Annotations[oci.AnnotationBundle] = s1.Annotations[oci.AnnotationBundle]
		}
		if err := w.client.WriteLegacy(context.Background(), d, oci.SignatureSuffix, []oci.Layer{s2}); err != nil {
			t.Fatal(err)
		}
	}
	if d := w.admit(control.String()); !d.Allowed {
		t.Fatalf("control: %s", d.Message)
	}
	wantDenied(t, "copied bundle", w.admit(img.String()), "spec.containers[0].image", "policy gitlab")
}

// GHSA-whqx-f9j3-ch6m (cosign 2.6.2/3.0.4): with a trusted root, a legacy
// signature's Rekor bundle from another signing of the same image by the
// same identity was accepted. Signatures and attestations, with a policy
// that accepts any subject of the issuer: the spliced one is denied.
func TestAdvisory_GHSA_whqx_f9j3_ch6m_WebhookSplicedRekorBundle(t *testing.T) {
	w := newWorld(t)
	anyone := strings.Replace(keylessCIP("anyone", "**", gitlabSubject), "subject: "+gitlabSubject, "subjectRegExp: '.*'", 1)
	for _, attestation := range []bool{false, true} {
		what, suffix, cip := "signature", oci.SignatureSuffix, anyone
		if attestation {
			what, suffix, cip = "attestation", oci.AttestationSuffix, anyone+"    attestations:\n    - name: any\n      predicateType: custom\n"
		}
		t.Run(what, func(t *testing.T) {
			w.policy(cip, LoadOptions{})
			img := w.image("acme/spliced-" + what)
			payload, err := imagesig.NewSimpleSigning(img.Context().Name(), hash(img), nil)
			if attestation {
				payload = []byte(fmt.Sprintf(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":%q,"digest":{"sha256":%q}}],"predicateType":"https://cosign.sigstore.dev/attestation/v1","predicate":{"Data":"x"}}`,
					img.Context().Name(), hash(img).Hex))
			}
			if err != nil {
				t.Fatal(err)
			}
			one, two := w.keylessLayers(payload, attestation)
			if err := w.client.WriteLegacy(context.Background(), img, suffix, []oci.Layer{one}); err != nil {
				t.Fatal(err)
			}
			if d := w.admit(img.String()); !d.Allowed {
				t.Fatalf("control: %s", d.Message)
			}
			one.Annotations[oci.AnnotationBundle] = two.Annotations[oci.AnnotationBundle]
			if err := w.client.WriteLegacy(context.Background(), img, suffix, []oci.Layer{one}); err != nil {
				t.Fatal(err)
			}
			w.e.Cache.Purge() // the control's pass is cached under the same image digest
			wantDenied(t, "spliced", w.admit(img.String()), "policy anyone")
		})
	}
}

// GHSA-52v5-jr5w-gjxr (sigstore-js 4.1.1): a documented certificate
// constraint was dropped and certificates lacking it verified. Every
// constraint a ClusterImagePolicy can set on a keyless identity, with a
// wrong value on an otherwise matching policy, denies; the right values
// admit (the control). The fake Fulcio's certificates carry no GitLab
// extensions, so the extension cases are a constraint the certificate
// lacks, the advisory's case.
func TestAdvisory_GHSA_52v5_jr5w_gjxr_WebhookEveryIdentityConstraint(t *testing.T) {
	w := newWorld(t)
	img := w.image("acme/app")
	w.signKeyless(img, gitlabSubject, gitlabIssuer)
	base := keylessCIP("ids", "**", gitlabSubject)
	w.policy(base, LoadOptions{})
	if d := w.admit(img.String()); !d.Allowed {
		t.Fatalf("control: %s", d.Message)
	}
	swap := func(old, new string) string { return strings.Replace(base, old, new, 1) }
	for _, tc := range []struct{ name, cip string }{
		{"issuer", swap("issuer: "+gitlabIssuer, "issuer: https://gitlab.example.evil")},
		{"subject", swap("subject: "+gitlabSubject, "subject: "+strings.Replace(gitlabSubject, "main", "mainline", 1))},
		{"issuerRegExp", swap("issuer: "+gitlabIssuer, "issuerRegExp: '^https://github[.]example$'")},
		{"subjectRegExp", swap("subject: "+gitlabSubject, "subjectRegExp: '^https://gitlab[.]example/other/'")},
		{"two identities, neither right", swap("      - issuer: "+gitlabIssuer, "      - issuer: https://other.example\n        subject: x\n      - issuer: https://gitlab.example.evil")},
		{"extension annotation", swap("  name: ids\n", "  name: ids\n  annotations:\n    "+IdentityExtensionsAnnotation+": '{\"gitlab\": {\"source-repository-ref\": \"refs/heads/evil\"}}'\n")},
		{"extension annotation, every authority", swap("  name: ids\n", "  name: ids\n  annotations:\n    "+IdentityExtensionsAnnotation+": '{\"*\": {\"build-signer-uri-regexp\": \"^https://gitlab[.]example/\"}}'\n")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w.policy(tc.cip, LoadOptions{})
			wantDenied(t, tc.name, w.admit(img.String()), "policy ids", "authority gitlab")
		})
	}
}

// GHSA-wfqv-66vq-46rm (cosign 3.0.5): only the leaf was checked against
// the verified time, so an intermediate of a private CA that expired
// before the signature was logged was accepted. A keyless authority with
// that CA as ca-cert: the intermediate is valid until T; a signature
// logged at T-30m is admitted, one logged at T+30m denied.
func TestAdvisory_GHSA_wfqv_66vq_46rm_WebhookExpiredIntermediate(t *testing.T) {
	w := newWorld(t)
	// The fake log's key is valid from an hour ago to an hour ahead: both
	// times fall within it, so only the intermediate decides.
	T := time.Now().Add(-10 * time.Minute).Truncate(time.Second)
	ca := w.fs.NewCA(t, T.Add(-10*time.Hour), T)
	issuer, err := asn1.MarshalWithParams(gitlabIssuer, "utf8")
	if err != nil {
		t.Fatal(err)
	}
	san, _ := url.Parse(gitlabSubject)
	caPEM := strings.TrimSpace(string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Root.Raw})) +
		string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Inter.Raw})))
	w.policy(strings.Replace(keylessCIP("private-ca", "**", gitlabSubject), "      insecureIgnoreSCT: true\n",
		"      insecureIgnoreSCT: true\n      ca-cert:\n        data: |\n          "+strings.ReplaceAll(caPEM, "\n", "\n          ")+"\n", 1), LoadOptions{})
	for _, tc := range []struct {
		logged time.Time
		ok     bool
	}{{T.Add(-30 * time.Minute), true}, {T.Add(30 * time.Minute), false}} {
		img := w.image("acme/private-ca")
		payload, err := imagesig.NewSimpleSigning(img.Context().Name(), hash(img), nil)
		if err != nil {
			t.Fatal(err)
		}
		leaf := &x509.Certificate{NotBefore: T.Add(-3 * time.Hour), NotAfter: T.Add(48 * time.Hour), URIs: []*url.URL{san},
			ExtraExtensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 8}, Value: issuer}}}
		b := ca.SignBlob(t, leaf, payload, nil)
		cert := b.VerificationMaterial.GetCertificate().GetRawBytes()
		digest := sha256.Sum256(payload)
		tle := w.fs.LogHashedRekord(t, b.GetMessageSignature().GetSignature(), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert}), digest[:], tc.logged)
		b.VerificationMaterial.TlogEntries = append(b.VerificationMaterial.TlogEntries, tle)
		l, err := imagesig.SignatureLayer(b, payload, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.client.WriteLegacy(context.Background(), img, oci.SignatureSuffix, []oci.Layer{l}); err != nil {
			t.Fatal(err)
		}
		d := w.admit(img.String())
		if tc.ok {
			if !d.Allowed {
				t.Fatalf("logged at T-30m, while the intermediate was valid: %s", d.Message)
			}
			continue
		}
		wantDenied(t, "logged at T+30m", d, "policy private-ca", "certificate chain check failed")
		if strings.Contains(d.Message, "log public key not valid") {
			t.Errorf("denied for the log's key, not the intermediate: %s", d.Message)
		}
	}
}
