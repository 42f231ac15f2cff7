//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signetdev/signet/internal/testing/clitest"
	"github.com/signetdev/signet/internal/testing/stack"
)

// signet runs signet in-process with a network that refuses every request:
// verification of what cosign made on the stack must be offline.
func signet(t *testing.T, args ...string) clitest.Result {
	t.Helper()
	r := clitest.Run(t, clitest.Options{}, args...)
	if r.NetworkCalls != 0 {
		t.Errorf("signet %s: %d network calls, want none", args[0], r.NetworkCalls)
	}
	return r
}

// wantVerified: exit 0 and "Verified OK" as the only stderr line but for
// the notices of deprecated flags used.
func wantVerified(t *testing.T, r clitest.Result) {
	t.Helper()
	lines := r.StderrLines()
	ok := r.Code == 0 && len(lines) > 0 && lines[len(lines)-1] == "Verified OK"
	for _, l := range lines[:max(len(lines)-1, 0)] {
		ok = ok && strings.HasPrefix(l, "Flag --") && strings.Contains(l, " has been deprecated, ")
	}
	if !ok {
		t.Fatalf("exit %d, stderr:\n%s", r.Code, r.Stderr)
	}
}

func wantRejected(t *testing.T, r clitest.Result, msg string) {
	t.Helper()
	r.CheckOneErrorLine(t)
	if !strings.Contains(r.ErrLine(), msg) {
		t.Errorf("error %q does not contain %q", r.ErrLine(), msg)
	}
}

// TestCosignSignsSignetVerifies: keyless blob signatures and attestations
// made by real cosign v3 on the local stack (GitLab identity, real Fulcio,
// CT log, Rekor v1 or v2, TSA) verify with signet, SCT enforced, and the
// GitLab extension flags pin what cosign cannot.
func TestCosignSignsSignetVerifies(t *testing.T) {
	env := stack.Get(t)
	env.RequireFull(t)
	cosign := env.RequireCosign(t)
	for _, rc := range rekorCases {
		t.Run(rc.name, func(t *testing.T) {
			req := stack.TokenRequest{ProjectPath: "acme/verify", Ref: "main"}
			identity := env.Identity(req)
			dir := t.TempDir()
			content := "signed by cosign, verified by signet " + rc.name + "\n"
			blob := writeFile(t, dir, "artifact.txt", content)
			bundle := filepath.Join(dir, "artifact.sigstore.json")
			env.Run(t, cosign, "sign-blob", "--yes", "--signing-config", rc.signingConfig(env), "--trusted-root", env.TrustedRoot,
				"--identity-token", env.Token(t, req), "--bundle", bundle, blob)

			base := []string{"verify-blob", "--bundle", bundle, "--trusted-root", env.TrustedRoot,
				"--certificate-identity", identity, "--certificate-oidc-issuer", env.OIDCIssuer}
			wantVerified(t, signet(t, append(base, blob)...))

			sum := sha256.Sum256([]byte(content))
			wantVerified(t, signet(t, append(base, "sha256:"+hex.EncodeToString(sum[:]))...))

			pinned := append(append([]string{}, base...),
				"--certificate-source-repository-uri", "https://gitlab.example.com/acme/verify",
				"--certificate-source-repository-ref", "refs/heads/main",
				"--certificate-build-config-uri-regexp", `^https://gitlab\.example\.com/acme/verify//\.gitlab-ci\.yml@`,
				"--certificate-run-invocation-uri-regexp", `^https://gitlab\.example\.com/acme/verify/-/jobs/`)
			wantVerified(t, signet(t, append(pinned, blob)...))

			wantRejected(t, signet(t, append(append(append([]string{}, base...), "--certificate-source-repository-ref", "refs/heads/dev"), blob)...),
				`expected --certificate-source-repository-ref (1.3.6.1.4.1.57264.1.14) "refs/heads/dev", certificate has "refs/heads/main"`)
			wantRejected(t, signet(t, "verify-blob", "--bundle", bundle, "--trusted-root", env.TrustedRoot,
				"--certificate-identity", env.Identity(stack.TokenRequest{ProjectPath: "acme/other"}), "--certificate-oidc-issuer", env.OIDCIssuer, blob),
				"certificate identity mismatch")
			wantRejected(t, signet(t, append(base, writeFile(t, dir, "other.txt", "tampered\n"))...), "artifact digest mismatch")

			// The attestation path: cosign attest-blob, signet verify-blob-attestation.
			predicate := writeFile(t, dir, "predicate.json", `{"buildDefinition":{"buildType":"https://example.com/build"},"runDetails":{"builder":{"id":"https://gitlab.example.com"}}}`)
			att := filepath.Join(dir, "artifact.att.sigstore.json")
			env.Run(t, cosign, "attest-blob", "--yes", "--signing-config", rc.signingConfig(env), "--trusted-root", env.TrustedRoot,
				"--identity-token", env.Token(t, req), "--predicate", predicate, "--type", "slsaprovenance1", "--bundle", att, blob)
			vba := []string{"verify-blob-attestation", "--bundle", att, "--trusted-root", env.TrustedRoot,
				"--certificate-identity", identity, "--certificate-oidc-issuer", env.OIDCIssuer}
			wantVerified(t, signet(t, append(append(vba, "--type", "slsaprovenance1"), blob)...))
			wantRejected(t, signet(t, append(append(vba, "--type", "spdxjson"), blob)...), "attestation type mismatch")
			wantRejected(t, signet(t, append(append(vba, "--type", "slsaprovenance1"), filepath.Join(dir, "other.txt"))...), "not a subject of the attestation")
		})
	}
}

// TestCosignLegacyBundleAndKeys: cosign's legacy bundle format
// (--new-bundle-format=false, what cosign v2 wrote) and key-based signing,
// with keys and bundles made by cosign.
func TestCosignLegacyBundleAndKeys(t *testing.T) {
	env := stack.Get(t)
	env.RequireFull(t)
	cosign := env.RequireCosign(t)
	dir := t.TempDir()
	blob := writeFile(t, dir, "artifact.txt", "legacy and keys\n")

	t.Run("legacy keyless", func(t *testing.T) {
		req := stack.TokenRequest{ProjectPath: "acme/legacy", Ref: "main"}
		bundle := filepath.Join(dir, "legacy.bundle")
		env.Run(t, cosign, "sign-blob", "--yes", "--new-bundle-format=false", "--use-signing-config=false",
			"--fulcio-url", env.FulcioURL, "--rekor-url", env.RekorV1URL, "--trusted-root", env.TrustedRoot,
			"--identity-token", env.Token(t, req), "--bundle", bundle, blob)
		data, err := os.ReadFile(bundle)
		if err != nil || !bytes.Contains(data, []byte(`"base64Signature"`)) {
			t.Fatalf("cosign did not write a legacy bundle (%v): %s", err, data)
		}
		wantVerified(t, signet(t, "verify-blob", "--bundle", bundle, "--trusted-root", env.TrustedRoot,
			"--certificate-identity", env.Identity(req), "--certificate-oidc-issuer", env.OIDCIssuer,
			"--certificate-source-repository-ref", "refs/heads/main", blob))
	})

	t.Run("key pair made by cosign", func(t *testing.T) {
		ctx := context.Background()
		gen := env.Command(t, ctx, cosign, "generate-key-pair", "--output-key-prefix", filepath.Join(dir, "cosign"))
		gen.Env = append(gen.Env, "COSIGN_PASSWORD=e2e-password")
		if out, err := gen.CombinedOutput(); err != nil {
			t.Fatalf("generate-key-pair: %v\n%s", err, out)
		}
		bundle := filepath.Join(dir, "key.sigstore.json")
		sign := env.Command(t, ctx, cosign, "sign-blob", "--yes", "--key", filepath.Join(dir, "cosign.key"),
			"--signing-config", env.SigningConfigV1, "--trusted-root", env.TrustedRoot, "--bundle", bundle, blob)
		sign.Env = append(sign.Env, "COSIGN_PASSWORD=e2e-password")
		if out, err := sign.CombinedOutput(); err != nil {
			t.Fatalf("sign-blob --key: %v\n%s", err, out)
		}
		pub := filepath.Join(dir, "cosign.pub")
		wantVerified(t, signet(t, "verify-blob", "--bundle", bundle, "--key", pub, "--trusted-root", env.TrustedRoot, blob))
		// The same key from the environment.
		data, err := os.ReadFile(pub)
		if err != nil {
			t.Fatal(err)
		}
		r := clitest.Run(t, clitest.Options{Env: clitest.Env{"PUB": string(data)}}, "verify-blob", "--bundle", bundle, "--key", "env://PUB", "--trusted-root", env.TrustedRoot, blob)
		wantVerified(t, r)
		wantRejected(t, signet(t, "verify-blob", "--bundle", bundle, "--key", pub, "--trusted-root", env.TrustedRoot,
			writeFile(t, dir, "changed.txt", "changed\n")), "artifact digest mismatch")
	})
}
