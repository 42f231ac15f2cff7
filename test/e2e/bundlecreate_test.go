//go:build e2e

package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signetdev/signet/internal/testing/clitest"
	"github.com/signetdev/signet/internal/testing/stack"
)

// cosignV2Outputs signs blob with cosign v2.6.1 against the stack's Fulcio,
// Rekor v1 and TSA, writing every v2-era output: the legacy bundle, the
// signature, the certificate and the RFC 3161 timestamp file.
func cosignV2Outputs(t *testing.T, env *stack.Env, req stack.TokenRequest, dir, blob string) (legacy, sig, cert, ts string) {
	t.Helper()
	if env.CosignV2 == "" {
		t.Skip("cosign v2 is not installed (it is optional; see the install log)")
	}
	legacy, sig, cert, ts = filepath.Join(dir, "blob.bundle"), filepath.Join(dir, "blob.sig"), filepath.Join(dir, "blob.pem"), filepath.Join(dir, "blob.tsr.json")
	env.Run(t, env.CosignV2, "sign-blob", "--yes", "--fulcio-url", env.FulcioURL, "--rekor-url", env.RekorV1URL,
		"--timestamp-server-url", env.TSAURL, "--rfc3161-timestamp", ts,
		"--identity-token", env.Token(t, req), "--trusted-root", env.TrustedRoot,
		"--bundle", legacy, "--output-signature", sig, "--output-certificate", cert, blob)
	return legacy, sig, cert, ts
}

// TestBundleCreateFromCosignV2: what cosign v2.6.1 wrote beside an
// artifact becomes, through signet bundle create (from the legacy bundle,
// or from the signature and certificate, the entry found in Rekor v1) and
// bundle upgrade, a v0.3 bundle that cosign v3 and signet verify.
func TestBundleCreateFromCosignV2(t *testing.T) {
	env := stack.Get(t)
	env.RequireFull(t)
	cosign := env.RequireCosign(t)
	req := stack.TokenRequest{ProjectPath: "acme/v2-era", Ref: "main"}
	dir := t.TempDir()
	blob := writeFile(t, dir, "release.tar.gz", "made by cosign v2\n")
	legacy, sig, cert, ts := cosignV2Outputs(t, env, req, dir, blob)
	policy := []string{"--trusted-root", env.TrustedRoot, "--certificate-identity", env.Identity(req), "--certificate-oidc-issuer", env.OIDCIssuer}

	cases := map[string][]string{
		"create from legacy bundle":      {"bundle", "create", "--artifact", blob, "--bundle", legacy, "--rfc3161-timestamp", ts, "--rekor-url", env.RekorV1URL},
		"create from signature and cert": {"bundle", "create", "--artifact", blob, "--signature", sig, "--certificate", cert, "--rfc3161-timestamp", ts, "--rekor-url", env.RekorV1URL},
		"upgrade legacy bundle":          {"bundle", "upgrade", "--rekor-url", env.RekorV1URL, legacy},
	}
	for name, args := range cases {
		t.Run(name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "v03.sigstore.json")
			wantOK(t, signetNet(t, nil, append(args, "--out", out)...))
			data, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(data), `"application/vnd.dev.sigstore.bundle.v0.3+json"`) || !strings.Contains(string(data), `"inclusionProof"`) {
				t.Fatalf("not a v0.3 bundle with an inclusion proof:\n%s", data)
			}
			env.Run(t, cosign, append(append([]string{"verify-blob", "--bundle", out}, policy...), blob)...)
			wantVerified(t, signet(t, append(append([]string{"verify-blob", "--bundle", out}, policy...), blob)...))
		})
	}
}

// TestDetachedSignatureRekorLookup: a v2-era signature and certificate,
// with no bundle, verify once signet finds their entry in Rekor v1 by the
// artifact's hash, as cosign does. This needs the log's search index
// (MariaDB-backed in the local stack); it fails, not skips, without it.
func TestDetachedSignatureRekorLookup(t *testing.T) {
	env := stack.Get(t)
	env.RequireFull(t)
	req := stack.TokenRequest{ProjectPath: "acme/detached", Ref: "main"}
	dir := t.TempDir()
	blob := writeFile(t, dir, "tool", "detached signature\n")
	// signet's own v2-era outputs (cosign v2 is optional in the stack, and
	// this test must not skip): signature and certificate, logged in Rekor v1.
	sig, cert := filepath.Join(dir, "tool.sig"), filepath.Join(dir, "tool.pem")
	wantOK(t, signetNet(t, clitest.Env{"SIGSTORE_ID_TOKEN": env.Token(t, req)}, "sign-blob", "--yes", "--new-bundle-format=false",
		"--signing-config", env.SigningConfigV1, "--trusted-root", env.TrustedRoot, "--bundle", filepath.Join(dir, "tool.bundle"),
		"--rfc3161-timestamp", filepath.Join(dir, "tool.tsr"), "--output-signature", sig, "--output-certificate", cert, blob))
	policy := []string{"--trusted-root", env.TrustedRoot, "--certificate-identity", env.Identity(req), "--certificate-oidc-issuer", env.OIDCIssuer}

	r := signetNet(t, clitest.Env{}, append(append([]string{"verify-blob", "--signature", sig, "--certificate", cert, "--rekor-url", env.RekorV1URL}, policy...), blob)...)
	if r.Code != 0 || !strings.HasSuffix(strings.TrimSpace(r.Stderr), "Verified OK") {
		t.Fatalf("verify-blob of a detached signature, entry looked up in Rekor v1 (needs its search index: restart the stack with this branch's hack/local-stack): exit %d\n%s", r.Code, r.Stderr)
	}
	// Another artifact: the log has no entry for it.
	other := writeFile(t, dir, "other", "never signed\n")
	r = signetNet(t, clitest.Env{}, append(append([]string{"verify-blob", "--signature", sig, "--certificate", cert, "--rekor-url", env.RekorV1URL}, policy...), other)...)
	if r.Code == 0 || !strings.Contains(r.ErrLine(), "no matching entry in the transparency log") {
		t.Fatalf("unsigned artifact: exit %d, %q", r.Code, r.ErrLine())
	}
}
