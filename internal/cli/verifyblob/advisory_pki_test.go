package verifyblob_test

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/signetdev/signet/internal/testing/clitest"
	"github.com/signetdev/signet/internal/testing/fakesigstore"
	"github.com/signetdev/signet/pkg/verifier"
)

// GHSA-wfqv-66vq-46rm (cosign 3.0.5): only the leaf was checked against
// the verified time, so an intermediate that expired before the signing
// time (private PKI) was accepted. Intermediate valid until T, leaf until
// T+1d: a timestamp at T+30m fails, T−30m passes (the fake TSA's chain
// lives two hours from now, hence T in the near future). With neither log
// nor timestamp the current time dates the chain: an intermediate expired
// an hour ago fails.
func TestAdvisory_GHSA_wfqv_66vq_46rm_ExpiredIntermediate(t *testing.T) {
	fs := fakesigstore.New(t)
	content := []byte("signed under a private CA")
	flags := append([]string{"--insecure-ignore-tlog"}, keyless...)
	leaf := func(from time.Time) *x509.Certificate {
		return fakesigstore.Leaf(t, advIdentity, advIssuer, from, from.Add(48*time.Hour))
	}
	check := func(t *testing.T, T time.Time, at []time.Time, ok bool) {
		ca := fs.NewCA(t, T.Add(-10*time.Hour), T)
		e := &advEnv{fs: fs, dir: t.TempDir(), modes: trustModes(t, ca.TrustedRootJSON(t))}
		args := append(append([]string{"--bundle", e.file(t, "b.json", bundleJSON(t, ca.SignBlob(t, leaf(T.Add(-3*time.Hour)), content, at)))}, flags...), e.file(t, "blob", content))
		if ok {
			e.pass(t, "verify-blob", args...)
		} else {
			e.fail(t, "certificate", "verify-blob", args...)
		}
	}
	T := time.Now().Add(time.Hour).Truncate(time.Second)
	t.Run("timestamp before T", func(t *testing.T) { check(t, T, []time.Time{T.Add(-30 * time.Minute)}, true) })
	t.Run("timestamp after T", func(t *testing.T) { check(t, T, []time.Time{T.Add(30 * time.Minute)}, false) })
	t.Run("current time, intermediate valid", func(t *testing.T) { check(t, T, nil, true) })
	t.Run("current time, intermediate expired", func(t *testing.T) { check(t, time.Now().Add(-time.Hour), nil, false) })
}

// GHSA-52v5-jr5w-gjxr (sigstore-js 4.1.1): a documented certificate
// constraint was dropped before the policy was built, so any certificate
// satisfied it. Every identity flag signet accepts, given a wrong value on
// an otherwise valid bundle, must fail; the right values all together
// pass.
func TestAdvisory_GHSA_52v5_jr5w_gjxr_EveryIdentityFlag(t *testing.T) {
	fs := fakesigstore.New(t)
	ca := fs.NewCA(t, time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour))
	e := &advEnv{fs: fs, dir: t.TempDir(), modes: trustModes(t, ca.TrustedRootJSON(t))}
	content := []byte("a CI build output")
	art := e.file(t, "blob", content)
	b := e.file(t, "b.json", bundleJSON(t, ca.SignBlob(t, fakesigstore.ClaimsLeaf(t), content, []time.Time{time.Now()})))
	base := []string{"--bundle", b, "--insecure-ignore-tlog", "--insecure-ignore-sct"}
	all, wrong := clitest.ClaimFlags()
	e.pass(t, "verify-blob", append(append(append([]string{}, base...), all...), art)...)
	if len(wrong) < 2*len(verifier.Claims) {
		t.Fatalf("only %d cases for %d claims", len(wrong), len(verifier.Claims))
	}
	for name, flags := range wrong {
		t.Run(name, func(t *testing.T) {
			e.fail(t, "", "verify-blob", append(append(append([]string{}, base...), flags...), art)...)
		})
	}
}

// GHSA-xgjw-pm74-86q4 (@sigstore/verify 3.1.1): in a v0.2 bundle (and
// v0.3; signatures and attestations alike), an
// entry with an inclusion proof but no inclusion promise had its unsigned
// integratedTime used as a verified time. Without the SET (and with no
// timestamp) there is no verified time: it must fail, whatever the
// integratedTime says. With the SET it passes.
func TestAdvisory_GHSA_xgjw_pm74_86q4_UnsignedIntegratedTime(t *testing.T) {
	e := newAdvEnv(t)
	content := []byte("v0.2 subject")
	art := e.file(t, "blob", content)
	sum := sha256.Sum256(content)
	stmt := statement(t, "https://cosign.sigstore.dev/attestation/v1", hex.EncodeToString(sum[:]))
	flags := append([]string{}, keyless...)
	for _, verb := range []string{"verify-blob", "verify-blob-attestation"} {
		o := fakesigstore.SignOptions{InclusionProof: true}
		b := e.fs.SignBlob(t, advIdentity, advIssuer, content, o)
		if verb == "verify-blob-attestation" {
			b = e.fs.Attest(t, advIdentity, advIssuer, stmt, o)
		}
		v02 := bundleJSON(t, b)
		for version, data := range map[string][]byte{"v0.2": v02, "v0.3": fakesigstore.V03JSON(t, v02)} {
			e.pass(t, verb, append(append([]string{"--bundle", e.file(t, "good.json", data)}, flags...), art)...)
			for name, it := range map[string]time.Time{"unchanged": {}, "edited into the certificate window": time.Now().Add(2 * time.Minute)} {
				noPromise := edit(t, data, func(d map[string]any) {
					entry := field(d, "verificationMaterial", "tlogEntries", "0").(map[string]any)
					delete(entry, "inclusionPromise")
					if !it.IsZero() {
						entry["integratedTime"] = json.Number(itoa(it.Unix()))
					}
				})
				t.Run(verb+" "+version+" "+name, func(t *testing.T) {
					e.fail(t, "", verb, append(append([]string{"--bundle", e.file(t, "nopromise.json", noPromise)}, flags...), art)...)
				})
			}
		}
	}
}

// GHSA-ccxc-vr6p-4858 (cosign 1.5.2): a Rekor entry (SET) copied from one
// signature onto another was trusted; the logged signature was never
// compared with the one verified. One key signs twice, only S1 is logged;
// S2 with S1's entry must fail. The image half is in pkg/imagesig.
func TestAdvisory_GHSA_ccxc_vr6p_4858_LoggedSignatureMismatch(t *testing.T) {
	e := newAdvEnv(t)
	content := []byte("signed twice")
	art := e.file(t, "blob", content)
	key := newECKey(t)
	pub := pubPEM(t, key)
	digest := sha256.Sum256(content)
	s1, _ := ecdsa.SignASN1(rand.Reader, key, digest[:])
	s2, _ := ecdsa.SignASN1(rand.Reader, key, digest[:])
	tle := e.fs.LogHashedRekord(t, s1, pub, digest[:], time.Now())
	legacy := func(sig []byte) []byte {
		out, _ := json.Marshal(map[string]any{
			"base64Signature": base64.StdEncoding.EncodeToString(sig),
			"rekorBundle":     json.RawMessage(fakesigstore.RekorBundle(t, tle)),
		})
		return out
	}
	keyPath := e.file(t, "key.pub", pub)
	e.pass(t, "verify-blob", "--bundle", e.file(t, "s1.json", legacy(s1)), "--key", keyPath, art)
	e.fail(t, "transparency log", "verify-blob", "--bundle", e.file(t, "s2.json", legacy(s2)), "--key", keyPath, art)
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

// GHSA-8xvp-7hj6-mcj9 (gh 2.93.0): the user's token went to TUF mirror and
// blob-storage hosts. With GITHUB_TOKEN, SIGSTORE_ID_TOKEN, CI token
// variables and Docker-config credentials for the very host:port serving
// the TUF repository and the signature, verify-blob sends no
// Authorization header to any of them.
func TestAdvisory_GHSA_8xvp_7hj6_mcj9_NoCredentialsToTrustHosts(t *testing.T) {
	fs := fakesigstore.New(t)
	dir := t.TempDir()
	content := []byte("fetched over the network")
	art := write(t, dir, "blob", content)
	b := fs.SignBlob(t, advIdentity, advIssuer, content, fakesigstore.SignOptions{})
	trap := clitest.NewCredentialTrap(t, fs.TrustedRootJSON(t), map[string][]byte{
		"/blob.sig": []byte(base64.StdEncoding.EncodeToString(b.GetMessageSignature().GetSignature())),
	})
	env := trap.Env
	env["COSIGN_REPOSITORY"] = strings.TrimPrefix(trap.URL, "http://") + "/sigs"
	cert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: b.GetVerificationMaterial().GetX509CertificateChain().GetCertificates()[0].GetRawBytes()})
	for name, args := range map[string][]string{
		"bundle":        {"--bundle", write(t, dir, "b.json", bundleJSON(t, b))},
		"signature URL": {"--signature", trap.URL + "/blob.sig", "--certificate", write(t, dir, "c.pem", cert), "--insecure-ignore-tlog"},
	} {
		r := clitest.Run(t, clitest.Options{Env: env, Transport: http.DefaultTransport}, append(append(append([]string{"verify-blob"}, args...), keyless...), art)...)
		if r.Code != 0 {
			t.Fatalf("%s: exit %d: %s", name, r.Code, r.Stderr)
		}
	}
	trap.Check(t)
}
