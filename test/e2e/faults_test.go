//go:build e2e

package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/signetdev/signet/internal/testing/stack"
)

// TestFaultHooks shows the hooks later tests use: a fault proxy in front
// of a service, and stopping/restarting a service.
func TestFaultHooks(t *testing.T) {
	env := stack.Get(t)
	cosign := env.RequireCosign(t)
	blob := writeFile(t, t.TempDir(), "blob", "fault hooks")
	signBlob := func(t *testing.T, signingConfig string) (string, error) {
		_, errOut, err := env.TryRun(t, cosign, "sign-blob", "--yes", "--signing-config", signingConfig,
			"--trusted-root", env.TrustedRoot, "--identity-token", env.Token(t, stack.TokenRequest{}),
			"--bundle", filepath.Join(t.TempDir(), "b.json"), blob)
		return errOut, err
	}

	t.Run("fulcio-503-once-is-retried", func(t *testing.T) {
		proxy := stack.NewFaultProxy(t, env.FulcioURL)
		proxy.SetFor(stack.ServerError, 1)
		spec := env.SigningConfigSpec(2)
		spec.FulcioURL = proxy.URL
		if errOut, err := signBlob(t, env.WriteSigningConfig(t, spec)); err != nil {
			t.Fatalf("sign-blob through a proxy failing once: %v\n%s", err, errOut)
		}
		if proxy.Faults() != 1 || proxy.Requests() < 2 {
			t.Errorf("proxy saw %d requests, %d faults; want a retry after 1 fault", proxy.Requests(), proxy.Faults())
		}
	})

	t.Run("rekor-v2-reset", func(t *testing.T) {
		proxy := stack.NewFaultProxy(t, env.RekorV2URL)
		proxy.Set(stack.Reset)
		spec := env.SigningConfigSpec(2)
		spec.RekorURL = proxy.URL
		start := time.Now()
		if _, err := signBlob(t, env.WriteSigningConfig(t, spec)); err == nil {
			t.Fatal("sign-blob succeeded with every Rekor request reset")
		}
		t.Logf("failed after %v and %d requests", time.Since(start).Round(time.Millisecond), proxy.Requests())
		if proxy.Requests() == 0 {
			t.Error("the proxy saw no request")
		}
	})

	t.Run("tsa-stopped", func(t *testing.T) {
		env.StopServiceForTest(t, stack.TSA) // restarted when this subtest ends
		start := time.Now()
		if _, err := signBlob(t, env.SigningConfigV2); err == nil {
			t.Fatal("sign-blob with Rekor v2 succeeded without a TSA")
		}
		t.Logf("failed after %v", time.Since(start).Round(time.Millisecond))
	})

	t.Run("tsa-back", func(t *testing.T) {
		if errOut, err := signBlob(t, env.SigningConfigV2); err != nil {
			t.Fatalf("sign-blob after the TSA restarted: %v\n%s", err, errOut)
		}
	})
}

// TestSCTEnforced: the certificate's SCT is really checked — verification
// against a trusted root without the CT log fails unless the SCT check is
// turned off.
func TestSCTEnforced(t *testing.T) {
	env := stack.Get(t)
	env.RequireFull(t)
	cosign := env.RequireCosign(t)
	dir := t.TempDir()
	blob, bundle := writeFile(t, dir, "blob", "sct"), filepath.Join(dir, "b.json")
	req := stack.TokenRequest{ProjectPath: "acme/sct"}
	env.Run(t, cosign, "sign-blob", "--yes", "--signing-config", env.SigningConfigV2, "--trusted-root", env.TrustedRoot,
		"--identity-token", env.Token(t, req), "--bundle", bundle, blob)

	var root map[string]any
	data, err := os.ReadFile(env.TrustedRoot)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &root); err != nil {
		t.Fatal(err)
	}
	delete(root, "ctlogs")
	data, _ = json.Marshal(root)
	noCT := writeFile(t, dir, "trusted_root_no_ct.json", string(data))
	verify := []string{"verify-blob", "--bundle", bundle, "--trusted-root", noCT,
		"--certificate-identity", env.Identity(req), "--certificate-oidc-issuer", env.OIDCIssuer}
	expectFail(t, env, cosign, append(verify, blob)...)
	env.Run(t, cosign, append(verify, "--insecure-ignore-sct", blob)...)
}
