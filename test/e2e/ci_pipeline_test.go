//go:build e2e

package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signetdev/signet/internal/testing/stack"
	"github.com/signetdev/signet/internal/testing/stack/localstack"
)

// TestPipelineSignsRelease runs the project's own .gitlab-ci.yml jobs
// build, sbom, sign and verify with gitlab-ci-local in shell mode, on a
// copy of this checkout whose origin is gitlab.example.com/acme/signet,
// against the local stack: the sign job gets a GitLab-shaped token as
// SIGSTORE_ID_TOKEN (what id_tokens gives on GitLab), the verify job checks
// the release with the exact identity, issuer and extensions. Then signet
// and cosign v3 verify what the pipeline signed, here. Only linux/amd64 is
// built (DIST_PLATFORMS) to keep the test short; test, e2e and release
// are not run (the first two are what runs this test; release needs a
// GitLab API).
func TestPipelineSignsRelease(t *testing.T) {
	env := stack.Get(t)
	cosign := env.RequireCosign(t)
	sctFlags, sctVars := minimalSCT(env)
	p := newCIProject(t, env.GitLabHost, "acme/signet", nil)
	req := stack.TokenRequest{ProjectPath: "acme/signet", Ref: "main", Sha: p.SHA}
	identity := env.Identity(req)
	if want := p.URL + "//.gitlab-ci.yml@refs/heads/main"; identity != want {
		t.Fatalf("the stack issues %s, the pipeline expects %s", identity, want)
	}
	token := env.Token(t, req)
	vars := append(goEnvVars(t),
		"DIST_PLATFORMS=linux/amd64",
		"SIGSTORE_ID_TOKEN="+token,
		"COSIGN_SIGNING_CONFIG="+env.SigningConfigV2,
		"COSIGN_TRUSTED_ROOT="+env.TrustedRoot,
		"VERIFY_ISSUER="+env.OIDCIssuer,
		"CYCLONEDX_GOMOD="+cacheTool(t, "cyclonedx-gomod@"+localstack.CycloneDXGomodVersion, "cyclonedx-gomod"),
	)
	if sctVars == nil {
		vars = append(vars, "COSIGN="+cosign) // verify.sh verifies with cosign too
	}
	vars = append(vars, sctVars...)
	log, err := runGitLabCI(t, p, ".gitlab-ci.yml", vars, "build", "sbom", "sign", "verify")
	if err != nil {
		t.Fatalf("gitlab-ci-local: %v\n%s", err, log)
	}
	for _, job := range []string{"build", "sbom", "sign", "verify"} {
		if !strings.Contains(log, "PASS  "+job) {
			t.Errorf("job %s did not pass:\n%s", job, log)
		}
	}
	if strings.Contains(log, token) {
		t.Errorf("a token was printed in the job log")
	}
	if !strings.Contains(log, "verify.sh: 1 archives, checksums.txt, provenance and SBOM verified") {
		t.Errorf("the verify job did not say what it verified:\n%s", log)
	}

	dist := filepath.Join(p.Dir, "dist")
	archive := filepath.Join(dist, "signet_linux_amd64.tar.gz")
	sums := filepath.Join(dist, "checksums.txt")
	policy := append([]string{"--trusted-root", env.TrustedRoot, "--certificate-identity", identity, "--certificate-oidc-issuer", env.OIDCIssuer}, sctFlags...)

	// Everything was signed in one run under one certificate.
	var certs []string
	for _, f := range []string{archive, sums} {
		certs = append(certs, bundleCert(t, f+".sigstore.json"))
		env.Run(t, cosign, append(append([]string{"verify-blob", "--bundle", f + ".sigstore.json"}, policy...), f)...)
		wantVerified(t, signet(t, append(append([]string{"verify-blob", "--bundle", f + ".sigstore.json"}, policy...),
			"--certificate-source-repository-ref", "refs/heads/main", "--certificate-source-repository-digest", p.SHA, f)...))
	}
	if certs[0] == "" || certs[0] != certs[1] {
		t.Errorf("the archive and checksums.txt were not signed under one certificate")
	}
	for _, a := range []struct{ bundle, typ string }{{"provenance.sigstore.json", "slsaprovenance1"}, {"sbom.sigstore.json", "cyclonedx"}} {
		args := append([]string{"verify-blob-attestation", "--bundle", filepath.Join(dist, a.bundle), "--type", a.typ}, policy...)
		env.Run(t, cosign, append(args, archive)...)
		wantVerified(t, signet(t, append(args, archive)...))
	}

	// The provenance names this commit and this pipeline's build job.
	var st struct {
		Predicate struct {
			BuildDefinition struct {
				ExternalParameters struct {
					Source struct {
						URI    string
						Digest map[string]string
					}
				}
			}
			RunDetails struct{ Metadata struct{ InvocationID string } }
		}
	}
	raw, err := os.ReadFile(filepath.Join(dist, "provenance.intoto.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatal(err)
	}
	src := st.Predicate.BuildDefinition.ExternalParameters.Source
	if src.URI != "git+"+p.URL+"@refs/heads/main" || src.Digest["gitCommit"] != p.SHA ||
		!strings.HasPrefix(st.Predicate.RunDetails.Metadata.InvocationID, p.URL+"/-/jobs/") {
		t.Errorf("provenance does not describe this build:\n%s", raw)
	}

	// A tampered archive is refused by both.
	tampered := filepath.Join(t.TempDir(), "signet_linux_amd64.tar.gz")
	data, _ := os.ReadFile(archive)
	data[len(data)/2] ^= 1
	if err := os.WriteFile(tampered, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := env.TryRun(t, cosign, append(append([]string{"verify-blob", "--bundle", archive + ".sigstore.json"}, policy...), tampered)...); err == nil {
		t.Error("cosign accepted a tampered archive")
	}
	if r := signet(t, append(append([]string{"verify-blob", "--bundle", archive + ".sigstore.json"}, policy...), tampered)...); r.Code == 0 {
		t.Error("signet accepted a tampered archive")
	}

	// The GitHub Action installs this release, and refuses a tampered one.
	t.Run("action", func(t *testing.T) { testActionInstall(t, dist, identity, env.OIDCIssuer, env.TrustedRoot, sctVars) })

	// Reproducible: the same commit built here, in a clone in another
	// directory at another time, gives the same archive bytes.
	clone := filepath.Join(t.TempDir(), "clone")
	if out, err := exec.Command("git", "clone", "-q", p.Dir, clone).CombinedOutput(); err != nil {
		t.Fatalf("git clone: %v\n%s", err, out)
	}
	again := filepath.Join(t.TempDir(), "dist")
	cmd := exec.Command("hack/release/build.sh")
	cmd.Dir = clone
	cmd.Env = append(os.Environ(), "DIST_PLATFORMS=linux/amd64", "DIST_DIR="+again)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build.sh again: %v\n%s", err, out)
	}
	a1, _ := os.ReadFile(sums)
	a2, _ := os.ReadFile(filepath.Join(again, "checksums.txt"))
	if len(a1) == 0 || string(a1) != string(a2) {
		t.Errorf("two builds of one commit differ:\n%s\n%s", a1, a2)
	}
}

// bundleCert is the signing certificate of a Sigstore bundle (base64 DER).
func bundleCert(t *testing.T, path string) string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var b struct {
		VerificationMaterial struct {
			Certificate struct{ RawBytes string }
		}
	}
	if err := json.Unmarshal(raw, &b); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return b.VerificationMaterial.Certificate.RawBytes
}
