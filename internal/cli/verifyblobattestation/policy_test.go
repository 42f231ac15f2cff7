package verifyblobattestation_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/signetdev/signet/internal/testing/clitest"
	"github.com/signetdev/signet/internal/testing/regtest"
)

// TestPolicy: verify-blob-attestation --policy (beyond cosign) with
// verify-attestation's semantics and lines; the detail names the policy
// file, the attestation (predicate type, bundle, payload digest) and the
// failing path.
func TestPolicy(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string { return clitest.WriteFile(t, dir, name, text) }
	key, pub := regtest.KeyPair(t, dir, "cosign")
	env := clitest.Env{"COSIGN_PASSWORD": ""}
	blob := write("app.tar.gz", "the release")
	pred := write("prov.json", `{"buildDefinition":{"buildType":"https://gitlab.com/gitlab-org/gitlab-runner","externalParameters":{"repository":"https://gitlab.com/acme/app"}},"runDetails":{"builder":{"id":"https://gitlab.com/acme/app/-/runners/12"}}}`)
	bundle := filepath.Join(dir, "app.att.json")
	if r := clitest.Run(t, clitest.Options{Env: env}, "attest-blob", "--yes", "--key", key, "--tlog-upload=false", "--use-signing-config=false",
		"--predicate", pred, "--type", "slsaprovenance1", "--bundle", bundle, blob); r.Code != 0 {
		t.Fatalf("attest-blob: %s", r.Stderr)
	}
	verify := func(policy string) clitest.Result {
		return clitest.Run(t, clitest.Options{Env: env}, "verify-blob-attestation", "--key", pub, "--insecure-ignore-tlog",
			"--bundle", bundle, "--type", "slsaprovenance1", "--policy", policy, blob)
	}
	pass := write("repo.rego", "package signature\n\nimport rego.v1\n\nallow if input.predicate.buildDefinition.externalParameters.repository == \"https://gitlab.com/acme/app\"\n")
	if r := verify(pass); r.Code != 0 || !strings.Contains(r.Stderr, "will be validating against Rego policies: ["+pass+"]\nVerified OK\n") || r.NetworkCalls != 0 {
		t.Errorf("pass: exit %d\n%s", r.Code, r.Stderr)
	}
	fail := write("repo.cue", "predicate: buildDefinition: externalParameters: repository: \"https://gitlab.com/evil/app\"\n")
	r := verify(fail)
	want := "There are 1 number of errors occurred during the validation:\n\n" +
		"- predicate.buildDefinition.externalParameters.repository: conflicting values \"https://gitlab.com/acme/app\" and \"https://gitlab.com/evil/app\"\n" +
		"    policy " + fail + ": predicate.buildDefinition.externalParameters.repository: conflicting values"
	if r.Code != 1 || !strings.Contains(r.Stderr, want) || !strings.Contains(r.Stderr, "(attestation https://slsa.dev/provenance/v1, --bundle "+bundle+", payload sha256:") ||
		strings.Contains(r.Stderr, "Verified OK") || r.ErrLine() != "Error: 1 validation errors occurred" {
		t.Errorf("fail: exit %d\n%s", r.Code, r.Stderr)
	}
}
