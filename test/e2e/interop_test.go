//go:build e2e

package e2e

import (
	"path/filepath"
	"testing"

	"github.com/signetdev/signet/internal/testing/stack"
)

// TestCosignV2Interop: cosign v2 verifies what cosign v3 signs (Rekor v1;
// Rekor v2 entries carry no integrated time, so v2 needs
// --use-signed-timestamps), and cosign v3 verifies what cosign v2 signs with
// its v2-era service flags. Skipped when cosign v2 did not build.
func TestCosignV2Interop(t *testing.T) {
	env := stack.Get(t)
	env.RequireFull(t)
	cosign := env.RequireCosign(t)
	if env.CosignV2 == "" {
		t.Skip("cosign v2 is not installed (it is optional; see the install log)")
	}
	req := stack.TokenRequest{ProjectPath: "acme/interop"}
	identity := env.Identity(req)
	dir := t.TempDir()
	blob := writeFile(t, dir, "blob", "interop")
	policy := []string{"--trusted-root", env.TrustedRoot, "--certificate-identity", identity, "--certificate-oidc-issuer", env.OIDCIssuer}

	for _, rc := range rekorCases {
		t.Run("v3-signs-"+rc.name, func(t *testing.T) {
			bundle := filepath.Join(t.TempDir(), "b.json")
			env.Run(t, cosign, "sign-blob", "--yes", "--signing-config", rc.signingConfig(env),
				"--trusted-root", env.TrustedRoot, "--identity-token", env.Token(t, req), "--bundle", bundle, blob)
			args := append([]string{"verify-blob", "--bundle", bundle, "--new-bundle-format"}, policy...)
			if rc.name == "rekor-v2" {
				args = append(args, "--use-signed-timestamps")
			}
			env.Run(t, env.CosignV2, append(args, blob)...)
		})
	}
	t.Run("v2-signs-rekor-v1", func(t *testing.T) {
		bundle := filepath.Join(t.TempDir(), "b.json")
		env.Run(t, env.CosignV2, "sign-blob", "--yes", "--fulcio-url", env.FulcioURL, "--rekor-url", env.RekorV1URL,
			"--identity-token", env.Token(t, req), "--new-bundle-format", "--trusted-root", env.TrustedRoot,
			"--bundle", bundle, blob)
		env.Run(t, cosign, append(append([]string{"verify-blob", "--bundle", bundle}, policy...), blob)...)
	})
}
