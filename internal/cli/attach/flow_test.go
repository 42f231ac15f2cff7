package attach_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signetdev/signet/internal/testing/clitest"
	"github.com/signetdev/signet/internal/testing/regtest"
)

// TestDetachedSignAttachVerify: the v2-era flow of signing without
// uploading, attaching later, and cleaning up — sign --upload=false with
// the signature and payload to files, attach signature, verify; attest
// --no-upload, attach attestation, verify-attestation; download both;
// clean, after which both verbs find nothing (exit 10).
func TestDetachedSignAttachVerify(t *testing.T) {
	for _, referrers := range []bool{false, true} {
		host := regtest.Registry(t, referrers)
		_, d := regtest.PushRandom(t, host, "app")
		digest := d.String()
		dir := t.TempDir()
		key, pub := regtest.KeyPair(t, dir, "cosign")
		opts := clitest.Options{Env: clitest.Env{"COSIGN_PASSWORD": ""}, Transport: http.DefaultTransport}
		run := func(args ...string) clitest.Result { t.Helper(); return clitest.Run(t, opts, args...) }
		ok := func(r clitest.Result, what string) {
			t.Helper()
			if r.Code != 0 {
				t.Fatalf("referrers=%v: %s: exit %d\n%s", referrers, what, r.Code, r.Stderr)
			}
		}
		noTlog := []string{"--key", key, "--yes", "--use-signing-config=false", "--tlog-upload=false"}
		sig, payload := filepath.Join(dir, "sig"), filepath.Join(dir, "payload.json")
		ok(run(append(append([]string{"sign", "--new-bundle-format=false", "--upload=false", "--output-signature", sig, "--output-payload", payload}, noTlog...), digest)...), "sign --upload=false")
		verify := []string{"--key", pub, "--insecure-ignore-tlog", digest}
		if r := run(append([]string{"verify"}, verify...)...); r.Code != 10 {
			t.Fatalf("referrers=%v: --upload=false uploaded something: verify exit %d", referrers, r.Code)
		}
		ok(run("attach", "signature", "--payload", payload, "--signature", sig, digest), "attach signature")
		ok(run(append([]string{"verify"}, verify...)...), "verify after attach signature")
		r := run("download", "signature", digest)
		ok(r, "download signature")
		b64, _ := os.ReadFile(sig)
		if !strings.Contains(r.Stdout, strings.TrimSpace(string(b64))) {
			t.Errorf("download signature does not print the attached signature:\n%s", r.Stdout)
		}

		pred := filepath.Join(dir, "pred.json")
		os.WriteFile(pred, []byte(`{"k":"v"}`), 0o600)
		r = run(append(append([]string{"attest", "--no-upload", "--predicate", pred}, noTlog...), digest)...)
		ok(r, "attest --no-upload")
		env := filepath.Join(dir, "env.json")
		os.WriteFile(env, []byte(r.Stdout), 0o600)
		ok(run("attach", "attestation", "--attestation", env, digest), "attach attestation")
		ok(run(append([]string{"verify-attestation", "--type", "custom"}, verify...)...), "verify-attestation after attach")
		r = run("download", "attestation", digest)
		ok(r, "download attestation")
		if !strings.Contains(r.Stdout, `"payloadType":"application/vnd.in-toto+json"`) {
			t.Errorf("download attestation:\n%s", r.Stdout)
		}

		ok(run("clean", "--type", "all", "-f", digest), "clean")
		if r := run(append([]string{"verify"}, verify...)...); r.Code != 10 {
			t.Errorf("referrers=%v: after clean, verify exit %d, want 10\n%s", referrers, r.Code, r.Stderr)
		}
		if r := run(append([]string{"verify-attestation"}, verify...)...); r.Code != 10 {
			t.Errorf("referrers=%v: after clean, verify-attestation exit %d, want 10\n%s", referrers, r.Code, r.Stderr)
		}
	}
}
