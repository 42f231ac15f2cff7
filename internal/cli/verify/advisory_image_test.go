package verify_test

import (
	"encoding/base64"
	"strconv"
	"testing"
	"time"

	"github.com/signetdev/signet/internal/testing/clitest"
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
		data = fakesigstore.V03JSON(t, data)
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

// GHSA-ccxc-vr6p-4858 (cosign 1.5.2): a Rekor bundle copied from a logged
// signature onto another signature in the .sig image was trusted. One key
// signs the image twice and only S1 is logged; S2 carrying S1's bundle,
// S1 gone, is refused.
func TestAdvisory_GHSA_ccxc_vr6p_4858_ImageVerbs(t *testing.T) {
	e := newImgEnv(t)
	key := newKey(t)
	good, bad := e.image(t), e.image(t)
	s1, pub := e.keySigned(t, good, key, true)
	e.putLegacy(t, good, oci.SignatureSuffix, s1)
	keyPath := writeFile(t, "key.pub", pub)
	e.pass(t, good, "verify", "--key", keyPath)

	s1, _ = e.keySigned(t, bad, key, true)
	s2, _ := e.keySigned(t, bad, key, false)
	s2.Annotations[oci.AnnotationBundle] = s1.Annotations[oci.AnnotationBundle]
	e.putLegacy(t, bad, oci.SignatureSuffix, s2)
	e.fail(t, "transparency log", bad, "verify", "--key", keyPath)
}

// GHSA-vjxv-45g9-9296 (cosign 1.10.1), GHSA-739f-hw6h-7wq8 (its
// policy-controller twin) and GHSA-fgw4-v983-mgp8 (gh 2.67.0: zero
// matching attestations exited 0): an image whose only attestation is a
// vuln one, stored each way. --type vuln verifies; --type spdx and the
// default (custom) are refused with cosign's exit codes, 12 from a
// registry and 1 with --local-image, and print nothing.
func TestAdvisory_GHSA_vjxv_45g9_9296_ImageVerbs(t *testing.T) {
	e := newImgEnv(t)
	vk := verbKinds[1]
	for _, s := range storages {
		t.Run(s.name, func(t *testing.T) {
			tg := e.image(t)
			l, data := e.signed(t, tg, vk, s)
			e.store(t, tg, vk, l, data)
			e.pass(t, tg, "verify-attestation", append([]string{"--type", "vuln"}, keyless...)...)
			for _, typ := range [][]string{{"--type", "spdx"}, {"--type", "https://slsa.dev/provenance/v1"}, nil} {
				e.fail(t, "none of the attestations matched the predicate type", tg, "verify-attestation", append(typ, keyless...)...)
			}
		})
	}
}

// GHSA-8gw7-4j42-w388 (cosign 1.12.0), the bypasses that apply to
// images: (2) identity flags must be checked, (3) an invalid Rekor bundle
// (a corrupt SET, a certificate expired before the entry was integrated,
// truncated JSON) must fail rather than fall through. (1) is
// TestAdvisory_GHSA_whqx_f9j3_ch6m_ImageVerbs; (4) does not apply: the
// image verbs never look an entry up online.
func TestAdvisory_GHSA_8gw7_4j42_w388_ImageVerbs(t *testing.T) {
	e := newImgEnv(t)
	vk := verbKinds[0]
	t.Run("2 identity flags", func(t *testing.T) {
		legacy, bundled := e.image(t), e.image(t)
		l, _ := e.signed(t, legacy, vk, storages[0])
		e.store(t, legacy, vk, l, nil)
		_, data := e.signed(t, bundled, vk, storages[2])
		e.store(t, bundled, vk, oci.Layer{}, data)
		for name, flags := range clitest.WrongIdentities(advIdentity, advIssuer) {
			t.Run(name, func(t *testing.T) {
				for _, tg := range []oci.Target{legacy, bundled} {
					e.fail(t, "", tg, "verify", append(flags, "--insecure-ignore-sct")...)
				}
			})
		}
	})
	t.Run("3 invalid rekor bundle", func(t *testing.T) {
		badSET := e.image(t)
		l := e.signLegacy(t, badSET, fakesigstore.SignOptions{})
		l.Annotations[oci.AnnotationBundle] = string(edit(t, []byte(l.Annotations[oci.AnnotationBundle]), func(d map[string]any) {
			set, _ := base64.StdEncoding.DecodeString(d["SignedEntryTimestamp"].(string))
			set[len(set)/2] ^= 1
			d["SignedEntryTimestamp"] = base64.StdEncoding.EncodeToString(set)
		}))
		e.putLegacy(t, badSET, oci.SignatureSuffix, l)
		e.fail(t, "signed entry timestamp", badSET, "verify", keyless...)

		// The certificate (valid ten minutes) expired before the entry
		// was integrated: the SET is valid, the time is not.
		late := e.image(t)
		e.putLegacy(t, late, oci.SignatureSuffix, e.signLegacy(t, late, fakesigstore.SignOptions{IntegratedTime: time.Now().Add(30 * time.Minute)}))
		e.fail(t, "certificate", late, "verify", keyless...)

		truncated := e.image(t)
		l = e.signLegacy(t, truncated, fakesigstore.SignOptions{})
		l.Annotations[oci.AnnotationBundle] = l.Annotations[oci.AnnotationBundle][:40]
		e.putLegacy(t, truncated, oci.SignatureSuffix, l)
		e.fail(t, "unreadable", truncated, "verify", keyless...)

		truncatedBundle := e.image(t)
		_, data := e.signed(t, truncatedBundle, vk, storages[1])
		e.store(t, truncatedBundle, vk, oci.Layer{}, data[:len(data)-1])
		e.fail(t, "unreadable", truncatedBundle, "verify", keyless...)
	})
}

// GHSA-fx35-mq7g-6g98 (cosign 2.6.5/3.1.3): a legacy signature whose
// certificate field held a bare public key was verified with that key:
// identity checks skipped, --key overridden. The image form is a .sig
// layer whose certificate annotation is the attacker's PUBLIC KEY PEM
// (signature logged, so the log is not what stops it). signet refuses the
// layer whatever the flags, as cosign 3.1.3 does (the annotation is not a
// certificate), where verify-blob ignores such a field and verifies with
// --key only (TestAdvisory_GHSA_fx35_mq7g_6g98_LegacyCertIsPublicKey):
// images have no cosign v2 key-in-cert bundles to keep verifying.
func TestAdvisory_GHSA_fx35_mq7g_6g98_ImageVerbs(t *testing.T) {
	e := newImgEnv(t)
	attacker, good := newKey(t), newKey(t)
	tg, control := e.image(t), e.image(t)
	l, attackerPub := e.keySigned(t, tg, attacker, true)
	l.Annotations[oci.AnnotationCertificate] = string(attackerPub)
	e.putLegacy(t, tg, oci.SignatureSuffix, l)
	goodPub := writeKey(t, good)
	attackerPath := writeFile(t, "attacker.pub", attackerPub)
	e.fail(t, "want CERTIFICATE", tg, "verify", keyless...)
	e.fail(t, "want CERTIFICATE", tg, "verify", "--key", goodPub)
	e.fail(t, "want CERTIFICATE", tg, "verify", "--key", attackerPath)
	// Control: without the key in the certificate annotation the same
	// signature verifies with the attacker's key, and only with it.
	l, _ = e.keySigned(t, control, attacker, true)
	e.putLegacy(t, control, oci.SignatureSuffix, l)
	e.pass(t, control, "verify", "--key", attackerPath)
	e.fail(t, "", control, "verify", "--key", goodPub)
}

// GHSA-xgjw-pm74-86q4 (@sigstore/verify 3.1.1): in a v0.2 (or v0.3)
// bundle, an entry with an inclusion proof but no inclusion promise had
// its unsigned integratedTime used as a verified time. Without the SET
// and with no timestamp there is no verified time: the bundle referrer is
// refused, whatever integratedTime says; with the SET it verifies.
func TestAdvisory_GHSA_xgjw_pm74_86q4_ImageVerbs(t *testing.T) {
	e := newImgEnv(t)
	for _, vk := range verbKinds {
		for _, s := range storages[2:] {
			t.Run(vk.verb+" "+s.name, func(t *testing.T) {
				good := e.image(t)
				_, data := e.signed(t, good, vk, s)
				e.store(t, good, vk, oci.Layer{}, data)
				e.pass(t, good, vk.verb, append(vk.args, keyless...)...)
				for name, it := range map[string]int64{"unchanged": 0, "edited into the certificate window": time.Now().Add(2 * time.Minute).Unix()} {
					t.Run(name, func(t *testing.T) {
						tg := e.image(t)
						_, data := e.signed(t, tg, vk, s)
						data = edit(t, data, func(d map[string]any) {
							entry := tlogEntries(t, data).([]any)[0].(map[string]any)
							delete(entry, "inclusionPromise")
							if it != 0 {
								entry["integratedTime"] = strconv.FormatInt(it, 10)
							}
							d["verificationMaterial"].(map[string]any)["tlogEntries"] = []any{entry}
						})
						e.store(t, tg, vk, oci.Layer{}, data)
						e.fail(t, "", tg, vk.verb, append(vk.args, keyless...)...)
					})
				}
			})
		}
	}
}

// GHSA-w6c6-c85g-mmv6 (cosign 2.6.3/3.0.6): with --check-claims=false, a
// validly signed DSSE whose payload does not parse, or whose predicate
// type is not --type, verified (verify-blob-attestation). The image verb
// with --check-claims=false refuses both too, legacy .att and bundle
// referrer; a vuln statement still verifies.
func TestAdvisory_GHSA_w6c6_c85g_mmv6_ImageVerbs(t *testing.T) {
	e := newImgEnv(t)
	args := append([]string{"--check-claims=false", "--type", "vuln"}, keyless...)
	for _, legacy := range []bool{true, false} {
		for name, payload := range map[string]func(oci.Target) []byte{
			"not json":   func(oci.Target) []byte { return []byte("not json") },
			"other type": func(tg oci.Target) []byte { return imageStatement(t, tg, "https://x/other") },
			"control":    func(tg oci.Target) []byte { return imageStatement(t, tg, vulnType) },
		} {
			t.Run(name+map[bool]string{true: " legacy", false: " bundle"}[legacy], func(t *testing.T) {
				tg := e.image(t)
				b := e.fs.Attest(t, advIdentity, advIssuer, payload(tg), fakesigstore.SignOptions{})
				if legacy {
					e.putLegacy(t, tg, oci.AttestationSuffix, legacyLayer(t, b, nil))
				} else {
					// The manifest annotation claims vuln: it is not trusted.
					e.putReferrer(t, tg, bundleJSON(t, b), vulnType)
				}
				if name == "control" {
					e.pass(t, tg, "verify-attestation", args...)
					return
				}
				e.fail(t, "", tg, "verify-attestation", args...)
			})
		}
	}
}

// GHSA-vfp6-jrw2-99g9 (cosign 2.2.1): a registry returning endless
// signatures kept the verifier busy. Through verify and
// verify-attestation, from a registry and from a saved layout: 100
// key-signed signatures (or attestations) verify, 101 are refused with
// one line naming the limit, before any is verified (exit 1).
func TestAdvisory_GHSA_vfp6_jrw2_99g9_ImageVerbs(t *testing.T) {
	e := newImgEnv(t)
	key := newKey(t)
	keyPath := writeKey(t, key)
	for _, vk := range verbKinds {
		for _, n := range []int{100, 101} {
			t.Run(vk.verb+" "+strconv.Itoa(n), func(t *testing.T) {
				tg := e.image(t)
				layers := make([]oci.Layer, n)
				for i := range layers {
					if vk.verb == "verify" {
						layers[i], _ = e.keySigned(t, tg, key, false)
					} else {
						layers[i] = attLayer(t, key, tg.Digest, vulnType)
					}
				}
				e.putLegacy(t, tg, vk.suffix, layers...)
				args := append([]string{"--key", keyPath, "--insecure-ignore-tlog"}, vk.args...)
				if n == 100 {
					e.pass(t, tg, vk.verb, args...)
					return
				}
				// Not "none verified" (12): nothing was verified.
				e.failWith(t, 1, "more than the limit of 100", tg, vk.verb, args...)
			})
		}
	}
}
