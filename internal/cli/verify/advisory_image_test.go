package verify_test

import (
	"testing"

	"github.com/signetdev/signet/internal/testing/fakesigstore"
	"github.com/signetdev/signet/pkg/imagesig"
	"github.com/signetdev/signet/pkg/oci"
)

// storage is one way cosign stores a signature or attestation, and the
// bundle version it holds.
type storage struct {
	name    string
	legacy  bool // a .sig/.att layer (v0.1 material); else a bundle referrer
	version string
}

var storages = []storage{
	{name: "legacy tag", legacy: true},
	{name: "bundle v0.1", version: "0.1"},
	{name: "bundle v0.2", version: "0.2"},
	{name: "bundle v0.3", version: "0.3"},
}

// verbKind is verify (signatures) or verify-attestation (vuln
// attestations).
type verbKind struct {
	verb, suffix, predicateType string
	args                        []string
}

var verbKinds = []verbKind{
	{verb: "verify", suffix: oci.SignatureSuffix, predicateType: imagesig.SignPredicateType},
	{verb: "verify-attestation", suffix: oci.AttestationSuffix, predicateType: vulnType, args: []string{"--type", "vuln"}},
}

// signed is one signing of the image in the storage's form: a legacy
// layer, or a bundle's JSON.
func (e *imgEnv) signed(t *testing.T, tg oci.Target, vk verbKind, s storage) (oci.Layer, []byte) {
	t.Helper()
	o := fakesigstore.SignOptions{InclusionProof: s.version == "0.2" || s.version == "0.3"}
	if s.legacy && vk.verb == "verify" {
		return e.signLegacy(t, tg, o), nil
	}
	b := e.attest(t, tg, vk.predicateType, o)
	if s.legacy {
		return legacyLayer(t, b, nil), nil
	}
	data := bundleJSON(t, b)
	if s.version == "0.3" {
		data = toV03(t, data)
	}
	return oci.Layer{}, data
}

// store writes one signing (layer or bundle) for the image.
func (e *imgEnv) store(t *testing.T, tg oci.Target, vk verbKind, l oci.Layer, data []byte) {
	t.Helper()
	if data == nil {
		e.putLegacy(t, tg, vk.suffix, l)
		return
	}
	e.putReferrer(t, tg, data, vk.predicateType)
}

// GHSA-whqx-f9j3-ch6m (cosign 2.6.2/3.0.4), a regression of
// GHSA-8gw7-4j42-w388 (1): with a trusted root, a signature carrying the
// Rekor entry of another signing of the same image, by the same identity,
// was accepted. verify and verify-attestation, every storage and bundle
// version, registry and --local-image, --trusted-root and TUF, with any
// identity allowed: the spliced signature is refused; each untouched
// signing verifies.
func TestAdvisory_GHSA_whqx_f9j3_ch6m_ImageVerbs(t *testing.T) {
	e := newImgEnv(t)
	anyID := []string{"--certificate-identity-regexp", ".*", "--certificate-oidc-issuer-regexp", ".*", "--insecure-ignore-sct"}
	for _, vk := range verbKinds {
		for _, s := range storages {
			t.Run(vk.verb+" "+s.name, func(t *testing.T) {
				good, bad := e.image(t), e.image(t)
				l1, d1 := e.signed(t, good, vk, s)
				e.store(t, good, vk, l1, d1)
				e.pass(t, good, vk.verb, append(anyID, vk.args...)...)

				l1, d1 = e.signed(t, bad, vk, s)
				l2, d2 := e.signed(t, bad, vk, s)
				if s.legacy {
					l1.Annotations[oci.AnnotationBundle] = l2.Annotations[oci.AnnotationBundle]
				} else {
					d1 = edit(t, d1, func(doc map[string]any) {
						doc["verificationMaterial"].(map[string]any)["tlogEntries"] = tlogEntries(t, d2)
					})
				}
				e.store(t, bad, vk, l1, d1)
				e.fail(t, "", bad, vk.verb, append(anyID, vk.args...)...)
			})
		}
	}
}
