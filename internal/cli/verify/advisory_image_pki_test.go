package verify_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/signetdev/signet/internal/testing/clitest"
	"github.com/signetdev/signet/internal/testing/fakesigstore"
	"github.com/signetdev/signet/pkg/oci"
	"github.com/signetdev/signet/pkg/verifier"
)

// GHSA-wfqv-66vq-46rm (cosign 3.0.5): only the leaf was checked against
// the verified time, so an intermediate that expired before the signing
// time was accepted (private PKI, notably with the log ignored). A .sig
// layer under a private CA whose intermediate is valid until T: a
// timestamp at T+30m is refused, T−30m passes; with no timestamp the
// current time dates the chain.
func TestAdvisory_GHSA_wfqv_66vq_46rm_ImageVerbs(t *testing.T) {
	e := newImgEnv(t)
	args := append([]string{"--insecure-ignore-tlog"}, keyless...)
	check := func(t *testing.T, T time.Time, at []time.Time, ok bool) {
		ca := e.fs.NewCA(t, T.Add(-10*time.Hour), T)
		e.trust(t, ca.TrustedRootJSON(t))
		tg := e.image(t)
		p := simpleSigning(t, tg)
		b := ca.SignBlob(t, fakesigstore.Leaf(t, advIdentity, advIssuer, T.Add(-3*time.Hour), T.Add(45*time.Hour)), p, at)
		e.putLegacy(t, tg, oci.SignatureSuffix, legacyLayer(t, b, p))
		if ok {
			e.pass(t, tg, "verify", args...)
		} else {
			e.fail(t, "certificate", tg, "verify", args...)
		}
	}
	T := time.Now().Add(time.Hour).Truncate(time.Second)
	t.Run("timestamp before T", func(t *testing.T) { check(t, T, []time.Time{T.Add(-30 * time.Minute)}, true) })
	t.Run("timestamp after T", func(t *testing.T) { check(t, T, []time.Time{T.Add(30 * time.Minute)}, false) })
	t.Run("current time, intermediate valid", func(t *testing.T) { check(t, T, nil, true) })
	t.Run("current time, intermediate expired", func(t *testing.T) { check(t, time.Now().Add(-time.Hour), nil, false) })
}

// GHSA-52v5-jr5w-gjxr (sigstore-js 4.1.1): a certificate constraint was
// dropped before the policy was built. verify with every identity flag
// right passes; each identity flag alone with a wrong value is refused.
func TestAdvisory_GHSA_52v5_jr5w_gjxr_ImageVerbs(t *testing.T) {
	e := newImgEnv(t)
	ca := e.fs.NewCA(t, time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour))
	e.trust(t, ca.TrustedRootJSON(t))
	tg := e.image(t)
	p := simpleSigning(t, tg)
	e.putLegacy(t, tg, oci.SignatureSuffix, legacyLayer(t, ca.SignBlob(t, fakesigstore.ClaimsLeaf(t), p, []time.Time{time.Now()}), p))
	base := []string{"--insecure-ignore-tlog", "--insecure-ignore-sct"}
	all, wrong := clitest.ClaimFlags()
	e.pass(t, tg, "verify", append(base, all...)...)
	if len(wrong) < 2*len(verifier.Claims) {
		t.Fatalf("only %d cases for %d claims", len(wrong), len(verifier.Claims))
	}
	for name, flags := range wrong {
		t.Run(name, func(t *testing.T) {
			e.fail(t, "", tg, "verify", append(append([]string{}, base...), flags...)...)
		})
	}
}

// GHSA-cq38-jh5f-37mq (sigstore-go 0.6.1): a bundle stuffed with log
// entries, timestamps or in-toto subjects made verification burn CPU and
// memory. A vuln attestation stored as a bundle referrer, through
// verify-attestation: at the caps (32 entries, 32 timestamps, 1024
// subjects) it verifies, one past each it is refused with "too many".
func TestAdvisory_GHSA_cq38_jh5f_37mq_ImageVerbs(t *testing.T) {
	e := newImgEnv(t)
	args := append([]string{"--type", "vuln"}, keyless...)
	stuffed := func(t *testing.T, n int, kind string) oci.Target {
		tg := e.image(t)
		st := imageStatement(t, tg, vulnType)
		if kind == "subjects" {
			st = edit(t, st, func(d map[string]any) {
				subs := d["subject"].([]any)
				for i := len(subs); i < n; i++ {
					subs = append(subs, map[string]any{"name": strconv.Itoa(i), "digest": map[string]string{"sha256": fmt.Sprintf("%064x", i)}})
				}
				d["subject"] = subs
			})
		}
		b := e.fs.Attest(t, advIdentity, advIssuer, st, fakesigstore.SignOptions{TSATimes: []time.Time{time.Now()}})
		data := bundleJSON(t, b)
		data = edit(t, data, func(d map[string]any) {
			vm := d["verificationMaterial"].(map[string]any)
			switch kind {
			case "timestamps":
				tvd := vm["timestampVerificationData"].(map[string]any)
				ts := tvd["rfc3161Timestamps"].([]any)
				for len(ts) < n {
					ts = append(ts, ts[0])
				}
				tvd["rfc3161Timestamps"] = ts
			case "log entries":
				// Distinct entries of the same body (duplicates are
				// refused before counting).
				tle := b.GetVerificationMaterial().GetTlogEntries()[0]
				var entries []any
				for i := 0; i < n; i++ {
					logged := e.fs.LogBody(t, tle.GetCanonicalizedBody(), "dsse", "0.0.1", time.Now().Add(time.Duration(i)*time.Second))
					j, err := protojson.Marshal(logged)
					if err != nil {
						t.Fatal(err)
					}
					var entry any
					if err := json.Unmarshal(j, &entry); err != nil {
						t.Fatal(err)
					}
					entries = append(entries, entry)
				}
				vm["tlogEntries"] = entries
			}
		})
		e.putReferrer(t, tg, data, vulnType)
		return tg
	}
	for _, tc := range []struct {
		kind string
		cap  int
	}{{"log entries", 32}, {"timestamps", 32}, {"subjects", 1024}} {
		t.Run(tc.kind, func(t *testing.T) {
			e.pass(t, stuffed(t, tc.cap, tc.kind), "verify-attestation", args...)
			e.fail(t, "too many", stuffed(t, tc.cap+1, tc.kind), "verify-attestation", args...)
		})
	}
}

// GHSA-8xvp-7hj6-mcj9 (gh 2.93.0): the user's token went to TUF mirror
// hosts. verify and verify-attestation of a registry image and of a saved
// one, trusting a TUF mirror, with GITHUB_TOKEN, SIGSTORE_ID_TOKEN, CI
// token variables and Docker-config credentials for the very host:port
// serving the TUF repository: the mirror receives no Authorization.
func TestAdvisory_GHSA_8xvp_7hj6_mcj9_ImageVerbs(t *testing.T) {
	e := newImgEnv(t)
	tg := e.image(t)
	e.putLegacy(t, tg, oci.SignatureSuffix, e.signLegacy(t, tg, fakesigstore.SignOptions{}))
	e.putLegacy(t, tg, oci.AttestationSuffix, legacyLayer(t, e.attest(t, tg, vulnType, fakesigstore.SignOptions{}), nil))
	trap := clitest.NewCredentialTrap(t, e.fs.TrustedRootJSON(t), nil)
	for _, p := range e.places(t, tg) {
		for _, vk := range verbKinds {
			r := clitest.Run(t, clitest.Options{Env: trap.Env, Transport: http.DefaultTransport}, append(append(append([]string{vk.verb}, vk.args...), keyless...), p.args...)...)
			if r.Code != 0 {
				t.Fatalf("%s (%s): exit %d: %s", vk.verb, p.name, r.Code, r.Stderr)
			}
		}
	}
	trap.Check(t)
}
