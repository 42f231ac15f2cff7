package verifyblob_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/bundle"

	"github.com/signetdev/signet/internal/testing/clitest"
	"github.com/signetdev/signet/internal/testing/fakesigstore"
)

// GHSA-8gw7-4j42-w388 (cosign 1.12.0): four ways verify-blob --bundle
// accepted what it should not. (4), an invalid entry fetched from Rekor
// online, has no counterpart: signet never looks a signature up in Rekor;
// without a bundle it requires --insecure-ignore-tlog.
func TestAdvisory_GHSA_8gw7_4j42_w388_VerifyBlobBypasses(t *testing.T) {
	e := newAdvEnv(t)
	c1, c2 := []byte("blob one"), []byte("blob two")
	art := e.file(t, "blob", c1)
	b1 := e.fs.SignBlob(t, advIdentity, advIssuer, c1, fakesigstore.SignOptions{})
	b2 := e.fs.SignBlob(t, advIdentity, advIssuer, c2, fakesigstore.SignOptions{})
	legacy1, legacy2 := fakesigstore.LegacyJSON(t, b1), fakesigstore.LegacyJSON(t, b2)
	new1, new2 := bundleJSON(t, b1), bundleJSON(t, b2)
	args := func(bundle []byte, name string, more ...string) []string {
		return append(append([]string{"--bundle", e.file(t, name, bundle)}, more...), art)
	}
	// Controls: both formats verify untouched.
	e.pass(t, "verify-blob", args(legacy1, "legacy1.json", keyless...)...)
	e.pass(t, "verify-blob", args(new1, "new1.json", keyless...)...)

	t.Run("1 rekorBundle of another signing", func(t *testing.T) {
		var other map[string]any
		json.Unmarshal(legacy2, &other)
		spliced := edit(t, legacy1, func(d map[string]any) { d["rekorBundle"] = other["rekorBundle"] })
		e.fail(t, "", "verify-blob", args(spliced, "spliced-legacy.json", keyless...)...)
		json.Unmarshal(new2, &other)
		spliced = edit(t, new1, func(d map[string]any) {
			d["verificationMaterial"].(map[string]any)["tlogEntries"] = field(other, "verificationMaterial", "tlogEntries")
		})
		e.fail(t, "", "verify-blob", args(spliced, "spliced-new.json", keyless...)...)
	})
	t.Run("2 identity flags are checked with a bundle", func(t *testing.T) {
		formats := fakesigstore.Formats(t, func(o fakesigstore.SignOptions) *bundle.Bundle {
			return e.fs.SignBlob(t, advIdentity, advIssuer, c1, o)
		})
		for _, f := range formats {
			e.pass(t, "verify-blob", args(f.Data, f.Name+".json", keyless...)...)
		}
		for name, flags := range clitest.WrongIdentities(advIdentity, advIssuer) {
			t.Run(name, func(t *testing.T) {
				flags = append(flags, "--insecure-ignore-sct")
				for _, f := range formats {
					e.fail(t, "", "verify-blob", args(f.Data, f.Name+".json", flags...)...)
				}
			})
		}
	})
	t.Run("3 invalid rekorBundle", func(t *testing.T) {
		badSET := edit(t, legacy1, func(d map[string]any) {
			rb := d["rekorBundle"].(map[string]any)
			set, _ := base64.StdEncoding.DecodeString(rb["SignedEntryTimestamp"].(string))
			set[len(set)/2] ^= 1
			rb["SignedEntryTimestamp"] = base64.StdEncoding.EncodeToString(set)
		})
		e.fail(t, "signed entry timestamp", "verify-blob", args(badSET, "bad-set.json", keyless...)...)
		// The certificate (valid ten minutes) expired before the entry was
		// integrated: the SET is valid, the time is not.
		late := e.fs.SignBlob(t, advIdentity, advIssuer, c1, fakesigstore.SignOptions{IntegratedTime: time.Now().Add(30 * time.Minute)})
		e.fail(t, "certificate", "verify-blob", args(fakesigstore.LegacyJSON(t, late), "late.json", keyless...)...)
		e.fail(t, "", "verify-blob", args(legacy1[:len(legacy1)/2], "truncated.json", keyless...)...)
		e.fail(t, "", "verify-blob", args(new1[:len(new1)-1], "truncated-new.json", keyless...)...)
	})
	// A detached signature has no log entry of its own: signet looks it up
	// by artifact hash at --rekor-url, as cosign does (issue 11). With the
	// log out of reach the run fails closed, naming the log; it never
	// verifies on the signature and certificate alone.
	t.Run("4 lookup fails closed", func(t *testing.T) {
		cert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: b1.GetVerificationMaterial().GetX509CertificateChain().GetCertificates()[0].GetRawBytes()})
		sig := base64.StdEncoding.EncodeToString(b1.GetMessageSignature().GetSignature())
		m := e.modes[0]
		r := run(t, m, "verify-blob", append([]string{"--signature", sig, "--certificate", e.file(t, "c.pem", cert), "--rekor-url", "https://rekor.example"}, append(keyless, art)...)...)
		r.CheckErrorLine(t)
		if r.Code == 0 || !strings.Contains(r.ErrLine(), "looking the signature up in the Rekor log https://rekor.example") {
			t.Errorf("detached signature without a log entry: %s (%d requests)", r.ErrLine(), r.NetworkCalls)
		}
	})
}

// GHSA-whqx-f9j3-ch6m (cosign 2.6.2/3.0.4), a regression of the above:
// with a trusted root, an old-format bundle's rekorBundle from another
// signing of the same blob was accepted. Same artifact, same identity,
// two signings: bundle 1 with bundle 2's entry must fail, for signatures
// and attestations, legacy and Sigstore bundles v0.1 to v0.3,
// --trusted-root and TUF.
// The image verbs are covered in pkg/imagesig.
func TestAdvisory_GHSA_whqx_f9j3_ch6m_SplicedRekorBundle(t *testing.T) {
	e := newAdvEnv(t)
	content := []byte("the same blob")
	art := e.file(t, "blob", content)
	anyID := []string{"--certificate-identity-regexp", ".*", "--certificate-oidc-issuer-regexp", ".*", "--insecure-ignore-sct"}
	sum := sha256.Sum256(content)
	stmt := statement(t, "https://cosign.sigstore.dev/attestation/v1", hex.EncodeToString(sum[:]))
	for _, verb := range []string{"verify-blob", "verify-blob-attestation"} {
		sign := func(o fakesigstore.SignOptions) *bundle.Bundle {
			if verb == "verify-blob-attestation" {
				return e.fs.Attest(t, advIdentity, advIssuer, stmt, o)
			}
			return e.fs.SignBlob(t, advIdentity, advIssuer, content, o)
		}
		ones, twos := fakesigstore.Formats(t, sign), fakesigstore.Formats(t, sign)
		for i, one := range ones {
			two := twos[i].Data
			t.Run(verb+" "+one.Name, func(t *testing.T) {
				e.pass(t, verb, append([]string{"--bundle", e.file(t, "one.json", one.Data)}, append(anyID, art)...)...)
				var other map[string]any
				json.Unmarshal(two, &other)
				spliced := edit(t, one.Data, func(d map[string]any) {
					if one.Name == "legacy" {
						d["rekorBundle"] = other["rekorBundle"]
						return
					}
					d["verificationMaterial"].(map[string]any)["tlogEntries"] = field(other, "verificationMaterial", "tlogEntries")
				})
				e.fail(t, "", verb, append([]string{"--bundle", e.file(t, "spliced.json", spliced)}, append(anyID, art)...)...)
			})
		}
	}
}

// GHSA-fx35-mq7g-6g98 (cosign 2.6.5/3.1.3): a legacy bundle whose cert
// field held a bare public key was used as the verifier: keyless identity
// checks skipped, --key overridden. signet never takes a key from a
// bundle: keyless, such a bundle has no certificate and is refused;
// with --key, only that key verifies.
func TestAdvisory_GHSA_fx35_mq7g_6g98_LegacyCertIsPublicKey(t *testing.T) {
	e := newAdvEnv(t)
	content := []byte("attacker blob")
	art := e.file(t, "blob", content)
	attacker := newECKey(t)
	good := newECKey(t)
	digest := sha256.Sum256(content)
	sig, err := ecdsa.SignASN1(rand.Reader, attacker, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	attackerPub := pubPEM(t, attacker)
	// Logged, so that the log is not what stops it.
	tle := e.fs.LogHashedRekord(t, sig, attackerPub, digest[:], time.Now())
	legacy, _ := json.Marshal(map[string]any{
		"base64Signature": base64.StdEncoding.EncodeToString(sig),
		"cert":            base64.StdEncoding.EncodeToString(attackerPub),
		"rekorBundle":     json.RawMessage(fakesigstore.RekorBundle(t, tle)),
	})
	bundlePath := e.file(t, "attacker.json", legacy)
	goodPub := e.file(t, "good.pub", pubPEM(t, good))

	// (a) keyless: no certificate, so no identity to check: refused.
	e.fail(t, "signed with a key", "verify-blob", append([]string{"--bundle", bundlePath}, append(keyless, art)...)...)
	// (b) --key good.pub: the bundle's key does not override it.
	e.fail(t, "", "verify-blob", "--bundle", bundlePath, "--key", goodPub, art)
	// Control: the bundle is otherwise valid — with the attacker's own key
	// it verifies, so (b) failed on the key and nothing else.
	e.pass(t, "verify-blob", "--bundle", bundlePath, "--key", e.file(t, "attacker.pub", attackerPub), art)

	// The same for an attestation (cosign v2 attest-blob's legacy bundle
	// holds the DSSE envelope); no log entry, so the log is ignored.
	stmt := statement(t, "https://cosign.sigstore.dev/attestation/v1", hex.EncodeToString(digest[:]))
	env := signEnvelope(t, attacker, "application/vnd.in-toto+json", stmt)
	att, _ := json.Marshal(map[string]any{
		"base64Signature": base64.StdEncoding.EncodeToString(env),
		"cert":            base64.StdEncoding.EncodeToString(attackerPub),
	})
	attPath := e.file(t, "attacker-att.json", att)
	e.fail(t, "signed with a key", "verify-blob-attestation", append([]string{"--bundle", attPath, "--insecure-ignore-tlog"}, append(keyless, art)...)...)
	e.fail(t, "", "verify-blob-attestation", "--bundle", attPath, "--insecure-ignore-tlog", "--key", goodPub, art)
	e.pass(t, "verify-blob-attestation", "--bundle", attPath, "--insecure-ignore-tlog", "--key", e.file(t, "attacker2.pub", attackerPub), art)

	// That sign-blob and attest-blob never write a key into a legacy
	// bundle's cert is TestLegacyBundleNeverHoldsAKey (pkg/signer).
	// cosign 3.1.3 refuses any legacy bundle whose cert is a key, even
	// with --key; signet ignores the field and verifies with --key only,
	// which is as safe and keeps cosign v2 attest-blob bundles verifiable.
}

// GHSA-w6c6-c85g-mmv6 (cosign 2.6.3/3.0.6): with --check-claims=false,
// a validly signed DSSE whose payload does not parse, or whose predicate
// type is not --type, verified. Detached signature, legacy bundle and
// Sigstore bundles v0.1 to v0.3 alike must fail.
func TestAdvisory_GHSA_w6c6_c85g_mmv6_CheckClaimsOff(t *testing.T) {
	e := newAdvEnv(t)
	content := []byte("provenance subject")
	art := e.file(t, "blob", content)
	sum := sha256.Sum256(content)
	for name, payload := range map[string][]byte{
		"not json":   []byte("not json"),
		"other type": statement(t, "https://x/other", hex.EncodeToString(sum[:])),
		"control":    statement(t, "https://slsa.dev/provenance/v0.2", hex.EncodeToString(sum[:])),
	} {
		t.Run(name, func(t *testing.T) {
			b := e.fs.Attest(t, advIdentity, advIssuer, payload, fakesigstore.SignOptions{InclusionProof: true})
			env := b.GetDsseEnvelope()
			envJSON, _ := json.Marshal(map[string]any{"payloadType": env.GetPayloadType(), "payload": env.GetPayload(),
				"signatures": []map[string]any{{"keyid": "", "sig": env.GetSignatures()[0].GetSig()}}})
			cert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: b.GetVerificationMaterial().GetX509CertificateChain().GetCertificates()[0].GetRawBytes()})
			common := append([]string{"--check-claims=false", "--type", "slsaprovenance"}, keyless...)
			v01 := e.fs.Attest(t, advIdentity, advIssuer, payload, fakesigstore.SignOptions{})
			inputs := map[string][]string{
				"bundle v0.1":   {"--bundle", e.file(t, "v01.json", bundleJSON(t, v01))},
				"bundle v0.2":   {"--bundle", e.file(t, "v02.json", bundleJSON(t, b))},
				"bundle v0.3":   {"--bundle", e.file(t, "v03.json", fakesigstore.V03JSON(t, bundleJSON(t, b)))},
				"legacy bundle": {"--bundle", e.file(t, "legacy.json", fakesigstore.LegacyJSON(t, v01))},
				"detached":      {"--signature", e.file(t, "env.json", envJSON), "--certificate", e.file(t, "cert.pem", cert), "--insecure-ignore-tlog"},
			}
			for in, flags := range inputs {
				args := append(append(append([]string{}, flags...), common...), art)
				if name == "control" {
					e.pass(t, "verify-blob-attestation", args...)
					continue
				}
				t.Run(in, func(t *testing.T) { e.fail(t, "", "verify-blob-attestation", args...) })
			}
		})
	}
}

// GHSA-vjxv-45g9-9296 (cosign 1.10.1): verify-attestation --type T passed
// when attestations existed but none of type T; and GHSA-fgw4-v983-mgp8
// (gh 2.67.0): zero matching attestations exited 0. Blob half: the
// image half is in pkg/imagesig and internal/cli/verify.
func TestAdvisory_GHSA_vjxv_45g9_9296_AttestationTypeMismatch(t *testing.T) {
	e := newAdvEnv(t)
	content := []byte("scanned blob")
	art := e.file(t, "blob", content)
	sum := sha256.Sum256(content)
	vuln := statement(t, "https://cosign.sigstore.dev/attestation/vuln/v1", hex.EncodeToString(sum[:]))
	for _, f := range fakesigstore.Formats(t, func(o fakesigstore.SignOptions) *bundle.Bundle {
		return e.fs.Attest(t, advIdentity, advIssuer, vuln, o)
	}) {
		p := e.file(t, f.Name+".json", f.Data)
		base := append([]string{"--bundle", p}, keyless...)
		e.pass(t, "verify-blob-attestation", append(base, "--type", "vuln", art)...)
		e.fail(t, "attestation type mismatch", "verify-blob-attestation", append(base, "--type", "spdx", art)...)
		e.fail(t, "attestation type mismatch", "verify-blob-attestation", append(base, art)...) // default: custom
	}
}

// GHSA-fgw4-v983-mgp8 (gh attestation 2.67.0): with attestations of
// other types only, a reused nil error made the command exit 0. Every
// "zero matching" path of the blob verbs exits non-zero (asserted on the
// exit code, not on stderr).
func TestAdvisory_GHSA_fgw4_v983_mgp8_ZeroMatchingExitCode(t *testing.T) {
	e := newAdvEnv(t)
	content := []byte("sbom subject")
	art := e.file(t, "blob", content)
	sum := sha256.Sum256(content)
	sbom := statement(t, "https://spdx.dev/Document", hex.EncodeToString(sum[:]))
	formats := fakesigstore.Formats(t, func(o fakesigstore.SignOptions) *bundle.Bundle {
		return e.fs.Attest(t, advIdentity, advIssuer, sbom, o)
	})
	for _, m := range e.modes {
		for _, f := range formats {
			p := e.file(t, "sbom-"+f.Name+".json", f.Data)
			for _, typ := range []string{"slsaprovenance1", "https://slsa.dev/provenance/v1", "custom"} {
				r := run(t, m, "verify-blob-attestation", append(append([]string{"--bundle", p, "--type", typ}, keyless...), art)...)
				if r.Code != 1 {
					t.Errorf("%s %s --type %s: exit %d, want 1 (%s)", m.Name, f.Name, typ, r.Code, r.Stderr)
				}
			}
			r := run(t, m, "verify-blob-attestation", append(append([]string{"--bundle", p, "--type", "spdx"}, keyless...), art)...)
			if r.Code != 0 {
				t.Errorf("%s %s control --type spdx: exit %d (%s)", m.Name, f.Name, r.Code, r.Stderr)
			}
		}
		// A plain signature given where an attestation is wanted.
		sb := e.fs.SignBlob(t, advIdentity, advIssuer, content, fakesigstore.SignOptions{})
		r := run(t, m, "verify-blob-attestation", append(append([]string{"--bundle", e.file(t, "plain.json", bundleJSON(t, sb))}, keyless...), art)...)
		if r.Code != 1 {
			t.Errorf("%s plain signature as attestation: exit %d, want 1 (%s)", m.Name, r.Code, r.Stderr)
		}
	}
}

func newECKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func pubPEM(t *testing.T, k *ecdsa.PrivateKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(k.Public())
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// signEnvelope signs payload as a DSSE envelope (JSON) with key.
func signEnvelope(t *testing.T, key *ecdsa.PrivateKey, payloadType string, payload []byte) []byte {
	t.Helper()
	pae := []byte("DSSEv1 " + strconv.Itoa(len(payloadType)) + " " + payloadType + " " + strconv.Itoa(len(payload)) + " ")
	pae = append(pae, payload...)
	d := sha256.Sum256(pae)
	sig, err := ecdsa.SignASN1(rand.Reader, key, d[:])
	if err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(map[string]any{"payloadType": payloadType, "payload": payload, "signatures": []map[string]any{{"keyid": "", "sig": sig}}})
	return out
}
