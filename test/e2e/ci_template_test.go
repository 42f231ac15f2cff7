//go:build e2e

package e2e

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/signetdev/signet/internal/testing/stack"
)

// The project a user would write: include the template, build artifacts,
// extend its sign-blob and verify-blob job templates. The docker build is
// replaced by a crane push of a random image (no docker here); the rest of
// the template's jobs run as they are.
const templateUserCI = `include:
  - local: templates/Signet.gitlab-ci.yml

signet-docker-build:
  services: []
  script:
    - head -c 4096 /dev/urandom > layer.bin && tar -cf layer.tar layer.bin
    - '"$CRANE" append --new_layer layer.tar --new_tag "$IMAGE_TAG"'
    - IMAGE_DIGEST="${IMAGE_TAG%:*}@$("$CRANE" digest "$IMAGE_TAG")"
    - echo "IMAGE_DIGEST=$IMAGE_DIGEST" > signet-image.env

build-app:
  stage: build
  script:
    - mkdir -p dist && echo "app $CI_COMMIT_SHA" > dist/app.tar.gz && echo notes > dist/NOTES.txt
  artifacts:
    paths: [dist/]

sign-app:
  stage: test
  extends: .signet-sign-blob
  needs: [build-app]

verify-app:
  stage: deploy
  extends: .signet-verify-blob
  needs: [sign-app]
`

// TestTemplateSignsImageAndBlobs runs the jobs of templates/Signet.gitlab-ci.yml
// with gitlab-ci-local (shell executor) against the local stack: the image
// is signed by the digest its push returned and verified in the deploy
// job; build artifacts are signed in one run and verified; cosign v3 and
// signet verify the image here too. A tag instead of a digest is refused.
func TestTemplateSignsImageAndBlobs(t *testing.T) {
	env := stack.Get(t)
	cosign := env.RequireCosign(t)
	sctFlags, sctVars := minimalSCT(env)
	tmpl, err := os.ReadFile(repoRoot(t) + "/templates/Signet.gitlab-ci.yml")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		".gitlab-ci.yml":                 templateUserCI,
		"templates/Signet.gitlab-ci.yml": string(tmpl),
		"Dockerfile":                     "FROM scratch\n",
	}
	p := newCIProject(t, env.GitLabHost, "acme/app", files)
	req := stack.TokenRequest{ProjectPath: "acme/app", Ref: "main", Sha: p.SHA}
	identity := env.Identity(req)
	token := env.Token(t, req)
	signetBin := buildSignet(t)
	vars := []string{
		"SIGNET=" + signetBin,
		"CRANE=" + env.Crane,
		"IMAGE_TAG=" + env.Registry + "/acme/app:" + p.SHA[:8],
		"SIGSTORE_ID_TOKEN=" + token,
		"COSIGN_SIGNING_CONFIG=" + env.SigningConfigV2,
		"COSIGN_TRUSTED_ROOT=" + env.TrustedRoot,
		"SIGNET_CERTIFICATE_OIDC_ISSUER=" + env.OIDCIssuer,
		"SIGNET_VERIFY_ARGS=--certificate-source-repository-ref refs/heads/main --certificate-source-repository-digest " + p.SHA,
	}
	vars = append(vars, sctVars...)
	log, err := runGitLabCI(t, p, ".gitlab-ci.yml", vars,
		"signet-docker-build", "signet-sign-image", "signet-verify-image", "build-app", "sign-app", "verify-app")
	if err != nil {
		t.Fatalf("gitlab-ci-local: %v\n%s", err, log)
	}
	if strings.Contains(log, token) {
		t.Error("the token was printed in the job log")
	}
	m := regexp.MustCompile(`signet-verify-image: (\S+@sha256:[0-9a-f]{64}) is signed by (\S+)`).FindStringSubmatch(log)
	if m == nil || m[2] != identity {
		t.Fatalf("signet-verify-image did not verify a digest signed by %s:\n%s", identity, log)
	}
	if !strings.Contains(log, "signet-verify-blob: 2 files signed by "+identity) {
		t.Errorf("verify-app did not verify the 2 artifacts:\n%s", log)
	}
	digest := m[1]
	policy := append([]string{"--trusted-root", env.TrustedRoot, "--certificate-identity", identity, "--certificate-oidc-issuer", env.OIDCIssuer}, sctFlags...)
	env.Run(t, cosign, append(append([]string{"verify"}, policy...), digest)...)
	if r := signetNet(t, nil, append(append([]string{"verify"}, policy...), "--certificate-source-repository-ref", "refs/heads/main", digest)...); r.Code != 0 {
		t.Errorf("signet verify %s: exit %d\n%s", digest, r.Code, r.Stderr)
	}
	// The next runs are of one job each, in fresh copies of the project:
	// gitlab-ci-local would otherwise hand them the IMAGE_DIGEST that
	// signet-docker-build left (dotenv) above, over the variable given.
	// Someone else's identity is refused, by the same job template.
	p = newCIProject(t, env.GitLabHost, "acme/app", files)
	wrong := append(vars, "SIGNET_CERTIFICATE_IDENTITY=https://"+env.GitLabHost+"/mallory/app//.gitlab-ci.yml@refs/heads/main",
		"IMAGE_DIGEST="+digest)
	if log, err := runGitLabCI(t, p, ".gitlab-ci.yml", wrong, "signet-verify-image"); err == nil || !strings.Contains(log, "mallory") {
		t.Errorf("signet-verify-image accepted another identity (%v):\n%s", err, log)
	}
	// A tag is never signed: the template wants the pushed digest.
	p = newCIProject(t, env.GitLabHost, "acme/app", files)
	tag := append(vars, "IMAGE_DIGEST="+env.Registry+"/acme/app:latest")
	if log, err := runGitLabCI(t, p, ".gitlab-ci.yml", tag, "signet-sign-image"); err == nil || !strings.Contains(log, "is not a pushed digest") {
		t.Errorf("signet-sign-image signed a tag (%v):\n%s", err, log)
	}
}
