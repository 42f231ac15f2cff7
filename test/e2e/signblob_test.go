//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/signetdev/signet/internal/testing/clitest"
	"github.com/signetdev/signet/internal/testing/shared"
	"github.com/signetdev/signet/internal/testing/stack"
)

// signetNet runs signet in-process with the real network (the stack is on
// loopback) and only the environment given.
func signetNet(t *testing.T, env clitest.Env, args ...string) clitest.Result {
	t.Helper()
	return clitest.Run(t, clitest.Options{Env: env, Transport: http.DefaultTransport}, args...)
}

func wantOK(t *testing.T, r clitest.Result) {
	t.Helper()
	if r.Code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.Code, r.Stdout, r.Stderr)
	}
}

func noFile(t *testing.T, paths ...string) {
	t.Helper()
	for _, p := range paths {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s was left behind", p)
		}
		// nor a temporary file beside it
		if m, _ := filepath.Glob(filepath.Join(filepath.Dir(p), "."+filepath.Base(p)+".tmp-*")); len(m) > 0 {
			t.Errorf("temporary files left: %v", m)
		}
	}
}

// TestSignetSignsBothVerify: signet sign-blob and attest-blob with a GitLab
// token from SIGSTORE_ID_TOKEN, for Rekor v1 and v2; real cosign v3 and
// signet verify, identity, issuer and SCT enforced.
func TestSignetSignsBothVerify(t *testing.T) {
	env := stack.Get(t)
	env.RequireFull(t)
	cosign := env.RequireCosign(t)
	for _, rc := range rekorCases {
		t.Run(rc.name, func(t *testing.T) {
			req := stack.TokenRequest{ProjectPath: "acme/release", Ref: "main"}
			identity := env.Identity(req)
			tokenEnv := clitest.Env{"SIGSTORE_ID_TOKEN": env.Token(t, req)}
			dir := t.TempDir()
			blob := writeFile(t, dir, "app.tar.gz", "release "+rc.name+"\n")
			bundle := filepath.Join(dir, "app.tar.gz.sigstore.json")
			common := []string{"--yes", "--signing-config", rc.signingConfig(env), "--trusted-root", env.TrustedRoot}

			r := signetNet(t, tokenEnv, append(append([]string{"sign-blob"}, common...), "--bundle", bundle, blob)...)
			wantOK(t, r)
			if strings.TrimSpace(r.Stdout) != "" {
				t.Errorf("with --bundle, stdout should be empty (cosign v3): %q", r.Stdout)
			}
			env.Run(t, cosign, "verify-blob", "--bundle", bundle, "--trusted-root", env.TrustedRoot,
				"--certificate-identity", identity, "--certificate-oidc-issuer", env.OIDCIssuer, blob)
			wantVerified(t, signet(t, "verify-blob", "--bundle", bundle, "--trusted-root", env.TrustedRoot,
				"--certificate-identity", identity, "--certificate-oidc-issuer", env.OIDCIssuer,
				"--certificate-source-repository-ref", "refs/heads/main", blob))

			pred := writeFile(t, dir, "provenance.json", `{"buildDefinition":{"buildType":"https://gitlab.example.com/build"},"runDetails":{"builder":{"id":"https://gitlab.example.com/runner"}}}`)
			att := filepath.Join(dir, "app.tar.gz.att.json")
			wantOK(t, signetNet(t, tokenEnv, append(append([]string{"attest-blob"}, common...), "--predicate", pred, "--type", "slsaprovenance1", "--bundle", att, blob)...))
			env.Run(t, cosign, "verify-blob-attestation", "--bundle", att, "--trusted-root", env.TrustedRoot, "--type", "slsaprovenance1",
				"--certificate-identity", identity, "--certificate-oidc-issuer", env.OIDCIssuer, blob)
			wantVerified(t, signet(t, "verify-blob-attestation", "--bundle", att, "--trusted-root", env.TrustedRoot, "--type", "slsaprovenance1",
				"--certificate-identity", identity, "--certificate-oidc-issuer", env.OIDCIssuer, blob))

			// v2-era outputs beside the v3 bundle (cosign v3 dropped them).
			sig, cert := filepath.Join(dir, "app.sig"), filepath.Join(dir, "app.pem")
			wantOK(t, signetNet(t, tokenEnv, append(append([]string{"sign-blob"}, common...), "--bundle", filepath.Join(dir, "b2.json"), "--output-signature", sig, "--output-certificate", cert, blob)...))
			wantVerified(t, signet(t, "verify-blob", "--signature", sig, "--certificate", cert, "--trusted-root", env.TrustedRoot,
				"--insecure-ignore-tlog", "--certificate-identity", identity, "--certificate-oidc-issuer", env.OIDCIssuer, blob))
		})
	}
}

// TestSignetLegacyBundle: --new-bundle-format=false writes cosign's legacy
// bundle (Rekor v1; the timestamp goes to --rfc3161-timestamp), which
// cosign v3 and signet verify.
func TestSignetLegacyBundle(t *testing.T) {
	env := stack.Get(t)
	env.RequireFull(t)
	cosign := env.RequireCosign(t)
	req := stack.TokenRequest{ProjectPath: "acme/legacy-out", Ref: "main"}
	dir := t.TempDir()
	blob := writeFile(t, dir, "blob", "legacy output\n")
	legacy, ts := filepath.Join(dir, "blob.bundle"), filepath.Join(dir, "blob.tsr.json")
	r := signetNet(t, clitest.Env{"SIGSTORE_ID_TOKEN": env.Token(t, req)}, "sign-blob", "--yes", "--new-bundle-format=false",
		"--signing-config", env.SigningConfigV1, "--trusted-root", env.TrustedRoot, "--bundle", legacy, "--rfc3161-timestamp", ts, blob)
	wantOK(t, r)
	if strings.TrimSpace(r.Stdout) == "" {
		t.Error("legacy mode: cosign v2 printed the base64 signature on stdout")
	}
	data, _ := os.ReadFile(legacy)
	if !bytes.Contains(data, []byte(`"base64Signature"`)) || !bytes.Contains(data, []byte(`"rekorBundle"`)) {
		t.Fatalf("not a legacy bundle: %s", data)
	}
	// cosign takes no --trusted-root with a legacy bundle: its SIGSTORE_*
	// variables name the custom instance's keys instead.
	verify := env.Command(t, context.Background(), cosign, "verify-blob", "--new-bundle-format=false", "--bundle", legacy,
		"--rfc3161-timestamp", ts, "--use-signed-timestamps",
		"--certificate-identity", env.Identity(req), "--certificate-oidc-issuer", env.OIDCIssuer, blob)
	pki := filepath.Join(env.Dir, "pki")
	verify.Env = append(verify.Env,
		"SIGSTORE_ROOT_FILE="+filepath.Join(pki, "fulcio-ca.pem"),
		"SIGSTORE_REKOR_PUBLIC_KEY="+rekorV1PublicKey(t, env),
		"SIGSTORE_CT_LOG_PUBLIC_KEY_FILE="+filepath.Join(pki, "ctlog.pub"),
		"SIGSTORE_TSA_CERTIFICATE_FILE="+filepath.Join(pki, "tsa-chain.pem"))
	if out, err := verify.CombinedOutput(); err != nil || !strings.Contains(string(out), "Verified OK") {
		t.Fatalf("cosign verify-blob of signet's legacy bundle: %v\n%s", err, out)
	}
	wantVerified(t, signet(t, "verify-blob", "--bundle", legacy, "--rfc3161-timestamp", ts, "--trusted-root", env.TrustedRoot,
		"--certificate-identity", env.Identity(req), "--certificate-oidc-issuer", env.OIDCIssuer, blob))
}

// rekorV1PublicKey writes the stack's Rekor v1 key, from its trusted root,
// as the PEM file cosign's SIGSTORE_REKOR_PUBLIC_KEY names.
func rekorV1PublicKey(t *testing.T, env *stack.Env) string {
	t.Helper()
	tr, err := root.NewTrustedRootFromPath(env.TrustedRoot)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range tr.RekorLogs() {
		if l.BaseURL != env.RekorV1URL {
			continue
		}
		der, err := x509.MarshalPKIXPublicKey(l.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(t.TempDir(), "rekor1.pub")
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	t.Fatalf("no Rekor log at %s in the trusted root", env.RekorV1URL)
	return ""
}

// TestSignetKeys: key-based signing with keys made by signet and by
// cosign; both tools verify.
func TestSignetKeys(t *testing.T) {
	env := stack.Get(t)
	env.RequireFull(t)
	cosign := env.RequireCosign(t)
	dir := t.TempDir()
	pw := clitest.Env{"COSIGN_PASSWORD": "e2e-key-password"}
	wantOK(t, signetNet(t, pw, "generate-key-pair", "--output-key-prefix", filepath.Join(dir, "signet")))
	gen := env.Command(t, context.Background(), cosign, "generate-key-pair", "--output-key-prefix", filepath.Join(dir, "cosign"))
	gen.Env = append(gen.Env, "COSIGN_PASSWORD=e2e-key-password")
	if out, err := gen.CombinedOutput(); err != nil {
		t.Fatalf("cosign generate-key-pair: %v\n%s", err, out)
	}
	for _, who := range []string{"signet", "cosign"} {
		t.Run("key by "+who, func(t *testing.T) {
			blob := writeFile(t, dir, who+".txt", "signed with "+who+"'s key\n")
			bundle := blob + ".sigstore.json"
			wantOK(t, signetNet(t, pw, "sign-blob", "--key", filepath.Join(dir, who+".key"), "--signing-config", env.SigningConfigV1,
				"--trusted-root", env.TrustedRoot, "--bundle", bundle, blob))
			pub := filepath.Join(dir, who+".pub")
			env.Run(t, cosign, "verify-blob", "--key", pub, "--bundle", bundle, "--trusted-root", env.TrustedRoot, blob)
			wantVerified(t, signet(t, "verify-blob", "--key", pub, "--bundle", bundle, "--trusted-root", env.TrustedRoot, blob))
		})
	}
}

// TestManyFilesOneCertificate: 50 files signed in one run make exactly one
// Fulcio request, and every bundle verifies alone with cosign.
func TestManyFilesOneCertificate(t *testing.T) {
	env := stack.Get(t)
	env.RequireFull(t)
	cosign := env.RequireCosign(t)
	fulcio := stack.NewFaultProxy(t, env.FulcioURL)
	spec := env.SigningConfigSpec(1)
	spec.FulcioURL = fulcio.URL
	sc := env.WriteSigningConfig(t, spec)

	req := stack.TokenRequest{ProjectPath: "acme/many", Ref: "main"}
	dir := t.TempDir()
	var files []string
	for i := range 50 {
		files = append(files, writeFile(t, dir, fmt.Sprintf("file-%02d.bin", i), fmt.Sprintf("file %d\n", i)))
	}
	args := append([]string{"sign-blob", "--yes", "--signing-config", sc, "--trusted-root", env.TrustedRoot}, files...)
	wantOK(t, signetNet(t, clitest.Env{"SIGSTORE_ID_TOKEN": env.Token(t, req)}, args...))
	if n := fulcio.Requests(); n != 1 {
		t.Errorf("%d Fulcio requests for 50 files, want 1", n)
	}
	for _, f := range files {
		env.Run(t, cosign, "verify-blob", "--bundle", f+".sigstore.json", "--trusted-root", env.TrustedRoot,
			"--certificate-identity", env.Identity(req), "--certificate-oidc-issuer", env.OIDCIssuer, f)
	}
}

// TestSignFailures: bad tokens, an unreachable Fulcio, a failing Rekor and a
// certificate outside the trusted root are each refused with a clear
// message, a non-zero exit, and no output file.
func TestSignFailures(t *testing.T) {
	env := stack.Get(t)
	env.RequireFull(t)
	fulcio := stack.NewFaultProxy(t, env.FulcioURL)
	spec := env.SigningConfigSpec(1)
	spec.FulcioURL = fulcio.URL
	sc := env.WriteSigningConfig(t, spec)
	dir := t.TempDir()
	blob := writeFile(t, dir, "blob", "never signed\n")
	bundle := filepath.Join(dir, "blob.sigstore.json")
	sign := func(t *testing.T, token, signingConfig, trustedRoot string) clitest.Result {
		t.Helper()
		r := signetNet(t, clitest.Env{"SIGSTORE_ID_TOKEN": token}, "sign-blob", "--yes", "--signing-config", signingConfig,
			"--trusted-root", trustedRoot, "--bundle", bundle, blob)
		r.CheckErrorLine(t)
		noFile(t, bundle)
		return r
	}
	good := stack.TokenRequest{ProjectPath: "acme/fail"}
	for name, tc := range map[string]struct {
		token string
		want  string
	}{
		"expired":        {env.Token(t, stack.TokenRequest{TTL: "-1h"}), "expired at"},
		"wrong audience": {env.Token(t, stack.TokenRequest{Audience: "not-sigstore"}), `want "sigstore"`},
		"garbage":        {"this.is-not.a-jwt", "SIGSTORE_ID_TOKEN"},
	} {
		t.Run("token "+name, func(t *testing.T) {
			before := fulcio.Requests()
			r := sign(t, tc.token, sc, env.TrustedRoot)
			if !strings.Contains(r.ErrLine(), tc.want) {
				t.Errorf("error %q does not contain %q", r.ErrLine(), tc.want)
			}
			if fulcio.Requests() != before {
				t.Error("a bad token reached Fulcio")
			}
		})
	}
	t.Run("unreachable Fulcio", func(t *testing.T) {
		s := env.SigningConfigSpec(1)
		s.FulcioURL = "http://127.0.0.1:9" // discard: nothing listens
		r := sign(t, env.Token(t, good), env.WriteSigningConfig(t, s), env.TrustedRoot)
		if !strings.Contains(r.ErrLine(), "Fulcio at http://127.0.0.1:9") {
			t.Errorf("error does not name Fulcio and its URL: %s", r.ErrLine())
		}
	})
	t.Run("Rekor 500", func(t *testing.T) {
		rekor := stack.NewFaultProxy(t, env.RekorV1URL)
		rekor.Set(stack.ServerError)
		rekor.SetStatus(http.StatusInternalServerError)
		s := env.SigningConfigSpec(1)
		s.RekorURL = rekor.URL
		r := sign(t, env.Token(t, good), env.WriteSigningConfig(t, s), env.TrustedRoot)
		if !strings.Contains(r.ErrLine(), "Rekor at "+rekor.URL) || !strings.Contains(r.ErrLine(), "500") {
			t.Errorf("error does not name Rekor, its URL and the status: %s", r.ErrLine())
		}
		if rekor.Requests() < 2 {
			t.Errorf("Rekor was asked %d times: a 500 is retried", rekor.Requests())
		}
	})
	t.Run("certificate outside the trusted root", func(t *testing.T) {
		// The public-good trusted root does not know the stack's Fulcio CA.
		r := sign(t, env.Token(t, good), sc, shared.Path(t, "trust", "production-trusted-root.json"))
		if !strings.Contains(r.ErrLine(), "does not chain to a Fulcio CA of the trusted root") {
			t.Errorf("error: %s", r.ErrLine())
		}
	})
}

// TestSigningSecrets: with --verbose, neither the identity token, nor the
// key password, nor the private key appears in any output.
func TestSigningSecrets(t *testing.T) {
	env := stack.Get(t)
	env.RequireFull(t)
	dir := t.TempDir()
	blob := writeFile(t, dir, "blob", "secret test\n")
	token := env.Token(t, stack.TokenRequest{ProjectPath: "acme/secrets"})
	password := "correct-horse-battery-staple-e2e"
	var outputs []string
	r := signetNet(t, clitest.Env{"SIGSTORE_ID_TOKEN": token}, "--verbose", "sign-blob", "--yes", "--signing-config", env.SigningConfigV1,
		"--trusted-root", env.TrustedRoot, "--bundle", filepath.Join(dir, "a.json"), blob)
	wantOK(t, r)
	outputs = append(outputs, r.Stdout, r.Stderr)
	// A token that fails is still not printed.
	r = signetNet(t, clitest.Env{"SIGSTORE_ID_TOKEN": token + "x"}, "--verbose", "sign-blob", "--yes", "--signing-config", env.SigningConfigV1,
		"--trusted-root", env.TrustedRoot, "--bundle", filepath.Join(dir, "b.json"), blob)
	outputs = append(outputs, r.Stdout, r.Stderr)

	pw := clitest.Env{"COSIGN_PASSWORD": password}
	wantOK(t, signetNet(t, pw, "--verbose", "generate-key-pair", "--output-key-prefix", filepath.Join(dir, "k")))
	r = signetNet(t, pw, "--verbose", "sign-blob", "--key", filepath.Join(dir, "k.key"), "--signing-config", env.SigningConfigV1,
		"--trusted-root", env.TrustedRoot, "--bundle", filepath.Join(dir, "c.json"), blob)
	wantOK(t, r)
	outputs = append(outputs, r.Stdout, r.Stderr)
	r = signetNet(t, clitest.Env{"COSIGN_PASSWORD": "wrong"}, "--verbose", "sign-blob", "--key", filepath.Join(dir, "k.key"),
		"--signing-config", env.SigningConfigV1, "--trusted-root", env.TrustedRoot, "--bundle", filepath.Join(dir, "d.json"), blob)
	outputs = append(outputs, r.Stdout, r.Stderr)

	keyPEM, err := os.ReadFile(filepath.Join(dir, "k.key"))
	if err != nil {
		t.Fatal(err)
	}
	secrets := map[string]string{"token": token, "token signature": token[strings.LastIndex(token, ".")+1:], "password": password}
	for i, line := range strings.Split(string(keyPEM), "\n") {
		if len(line) > 20 && !strings.HasPrefix(line, "-----") {
			secrets[fmt.Sprintf("encrypted key line %d", i)] = line
		}
	}
	all := strings.Join(outputs, "\n")
	for what, s := range secrets {
		if strings.Contains(all, s) {
			t.Errorf("the %s appears in the output", what)
		}
	}
	if !strings.Contains(all, "debug:") {
		t.Error("--verbose printed no debug line: the test would not see a leak")
	}
}

// TestTransientFailuresRetried: a Fulcio answering 503 twice, a Rekor
// resetting the connection once and a TSA answering 429 once do not fail
// the signing run.
func TestTransientFailuresRetried(t *testing.T) {
	env := stack.Get(t)
	env.RequireFull(t)
	cosign := env.RequireCosign(t)
	fulcio, rekor, tsa := stack.NewFaultProxy(t, env.FulcioURL), stack.NewFaultProxy(t, env.RekorV1URL), stack.NewFaultProxy(t, env.TSAURL)
	fulcio.SetFor(stack.ServerError, 2)
	rekor.SetFor(stack.Reset, 1)
	tsa.SetFor(stack.TooManyRequests, 1)
	spec := env.SigningConfigSpec(1)
	spec.FulcioURL, spec.RekorURL = fulcio.URL, rekor.URL
	spec.TSAURL = tsa.URL + tsaPath(t, env.TSAURL)
	req := stack.TokenRequest{ProjectPath: "acme/flaky"}
	dir := t.TempDir()
	blob := writeFile(t, dir, "blob", "retried\n")
	wantOK(t, signetNet(t, clitest.Env{"SIGSTORE_ID_TOKEN": env.Token(t, req)}, "sign-blob", "--yes",
		"--signing-config", env.WriteSigningConfig(t, spec), "--trusted-root", env.TrustedRoot, "--bundle", blob+".json", blob))
	for name, p := range map[string]*stack.FaultProxy{"Fulcio": fulcio, "Rekor": rekor, "TSA": tsa} {
		if p.Faults() == 0 || p.Requests() <= p.Faults() {
			t.Errorf("%s: %d requests, %d faults: the fault was not retried", name, p.Requests(), p.Faults())
		}
	}
	env.Run(t, cosign, "verify-blob", "--bundle", blob+".json", "--trusted-root", env.TrustedRoot,
		"--certificate-identity", env.Identity(req), "--certificate-oidc-issuer", env.OIDCIssuer, blob)
}

// tsaPath is the path part of the stack's TSA URL (the proxy forwards it).
func tsaPath(t *testing.T, u string) string {
	t.Helper()
	i := strings.Index(strings.TrimPrefix(u, "http://"), "/")
	if i < 0 {
		return ""
	}
	return strings.TrimPrefix(u, "http://")[i:]
}
