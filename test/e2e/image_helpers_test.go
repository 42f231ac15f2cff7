//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/signetdev/signet/internal/testing/clitest"
	"github.com/signetdev/signet/internal/testing/stack"
)

// Predicate types the image tests expect in storage and payloads.
const (
	signPredicateType = "https://sigstore.dev/cosign/sign/v1"
	slsaV1Type        = "https://slsa.dev/provenance/v1"
	bundleMediaType   = "application/vnd.dev.sigstore.bundle.v0.3+json"
	imagePassword     = "e2e-image-password"
	imageProvenance   = `{"buildDefinition":{"buildType":"https://gitlab.example.com/build"},"runDetails":{"builder":{"id":"https://gitlab.example.com/runner"}}}`
)

// run is one run of cosign or signet.
type run struct {
	stdout, stderr string
	code           int
}

// imageTool runs cosign (a subprocess, with the stack's isolated
// environment) or signet (in-process, with the real network) with the
// same cosign v3 command line, so one test body covers both.
type imageTool struct {
	name string
	run  func(t *testing.T, vars map[string]string, args ...string) run
}

func signetTool() imageTool {
	return imageTool{"signet", func(t *testing.T, vars map[string]string, args ...string) run {
		t.Helper()
		r := clitest.Run(t, clitest.Options{Env: vars, Transport: http.DefaultTransport}, args...)
		return run{r.Stdout, r.Stderr, r.Code}
	}}
}

func cosignTool(env *stack.Env, bin string) imageTool {
	return binaryTool(env, "cosign", bin, nil, nil)
}

// binaryTool runs bin in the stack's client environment (see
// Env.Command), without the variables drop names (a trailing * is a
// prefix) and with extra added.
func binaryTool(env *stack.Env, name, bin string, drop, extra []string) imageTool {
	return imageTool{name, func(t *testing.T, vars map[string]string, args ...string) run {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := env.Command(t, ctx, bin, args...)
		var kept []string
		for _, kv := range cmd.Env {
			k, _, _ := strings.Cut(kv, "=")
			dropped := false
			for _, d := range drop {
				dropped = dropped || k == d || (strings.HasSuffix(d, "*") && strings.HasPrefix(k, strings.TrimSuffix(d, "*")))
			}
			if !dropped {
				kept = append(kept, kv)
			}
		}
		cmd.Env = append(kept, extra...)
		for k, v := range vars {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("running %s: %v", bin, err)
		}
		return run{stdout.String(), stderr.String(), code}
	}}
}

// ok runs the tool and fails the test, with both outputs, unless it
// succeeds; it returns stdout.
func (tl imageTool) ok(t *testing.T, vars map[string]string, args ...string) string {
	t.Helper()
	r := tl.run(t, vars, args...)
	if r.code != 0 {
		t.Fatalf("%s %s: exit %d\nstdout:\n%s\nstderr:\n%s", tl.name, strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// fails runs the tool, fails the test unless it exits with code, and
// returns the run.
func (tl imageTool) fails(t *testing.T, code int, vars map[string]string, args ...string) run {
	t.Helper()
	r := tl.run(t, vars, args...)
	if r.code != code {
		t.Errorf("%s %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", tl.name, strings.Join(args, " "), r.code, code, r.stdout, r.stderr)
	}
	return r
}

// imageKeys is a cosign key pair made by cosign generate-key-pair, with
// the COSIGN_PASSWORD that opens it.
type imageKeys struct {
	key, pub string
	vars     map[string]string
}

func newImageKeys(t *testing.T, env *stack.Env, cosign string) imageKeys {
	t.Helper()
	prefix := filepath.Join(t.TempDir(), "cosign")
	runWithPassword(t, env, cosign, imagePassword, "generate-key-pair", "--output-key-prefix", prefix)
	return imageKeys{prefix + ".key", prefix + ".pub", map[string]string{"COSIGN_PASSWORD": imagePassword}}
}

// imageRegistry is a registry the image tests push to: crane's (no
// referrers API; cosign v3 falls back to the sha256-<hex> index tag) or
// an in-process one with the referrers API.
type imageRegistry struct {
	name, host string
	referrers  bool
}

func imageRegistries(t *testing.T, env *stack.Env) []imageRegistry {
	t.Helper()
	return []imageRegistry{{"crane", env.Registry, false}, {"referrers", env.ReferrersRegistry(t), true}}
}

// keylessPolicy is the verify flags for a certificate from a token minted
// with req.
func keylessPolicy(env *stack.Env, req stack.TokenRequest) []string {
	return []string{"--trusted-root", env.TrustedRoot, "--certificate-identity", env.Identity(req), "--certificate-oidc-issuer", env.OIDCIssuer}
}

// keyPolicy is the verify flags for a signature made with k.
func (k imageKeys) policy(env *stack.Env) []string {
	return []string{"--trusted-root", env.TrustedRoot, "--key", k.pub}
}

// verifiedDigests returns the image digests named by the payloads that
// verify (a JSON array of simple-signing claims) or verify-attestation
// (one DSSE envelope per line, whose in-toto subjects name the digest)
// printed on stdout.
func verifiedDigests(t *testing.T, stdout string) []string {
	t.Helper()
	s := strings.TrimSpace(stdout)
	var out []string
	if strings.HasPrefix(s, "[") {
		var claims []struct {
			Critical struct {
				Image struct {
					Digest string `json:"docker-manifest-digest"`
				} `json:"image"`
			} `json:"critical"`
		}
		if err := json.Unmarshal([]byte(s), &claims); err != nil {
			t.Fatalf("verify output is not a JSON array of claims: %v\n%s", err, stdout)
		}
		for _, c := range claims {
			out = append(out, c.Critical.Image.Digest)
		}
		return out
	}
	for _, line := range strings.Split(s, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		var env struct {
			Payload string `json:"payload"`
		}
		if err := json.Unmarshal([]byte(line), &env); err != nil {
			t.Fatalf("verify-attestation output line is not a DSSE envelope: %v\n%s", err, line)
		}
		raw, err := base64.StdEncoding.DecodeString(env.Payload)
		if err != nil {
			t.Fatalf("envelope payload is not base64: %v", err)
		}
		var st struct {
			Subject []struct {
				Digest map[string]string `json:"digest"`
			} `json:"subject"`
		}
		if err := json.Unmarshal(raw, &st); err != nil {
			t.Fatalf("envelope payload is not an in-toto statement: %v\n%s", err, raw)
		}
		for _, s := range st.Subject {
			out = append(out, "sha256:"+s.Digest["sha256"])
		}
	}
	return out
}

// wantDigest fails the test unless stdout holds at least one verified
// payload and every one names the digest of ref (host/repo@sha256:…).
func wantDigest(t *testing.T, stdout, ref string) {
	t.Helper()
	want := digestOf(t, ref)
	got := verifiedDigests(t, stdout)
	if len(got) == 0 {
		t.Fatalf("no verified payload on stdout:\n%s", stdout)
	}
	for _, d := range got {
		if d != want {
			t.Errorf("a verified payload names %s, want %s", d, want)
		}
	}
}

func digestOf(t *testing.T, ref string) string {
	t.Helper()
	d, err := name.NewDigest(ref)
	if err != nil {
		t.Fatalf("%q is not a digest reference: %v", ref, err)
	}
	return d.DigestStr()
}

// repoOf is host/repo of a digest reference.
func repoOf(t *testing.T, ref string) string {
	t.Helper()
	d, err := name.NewDigest(ref)
	if err != nil {
		t.Fatal(err)
	}
	return d.Context().Name()
}

// tagPrefix is cosign's sha256-<hex> for the digest of ref.
func tagPrefix(t *testing.T, ref string) string {
	t.Helper()
	return strings.Replace(digestOf(t, ref), ":", "-", 1)
}

func hasTag(t *testing.T, env *stack.Env, repo, tag string) bool {
	t.Helper()
	for _, tg := range env.Tags(t, repo) {
		if tg == tag {
			return true
		}
	}
	return false
}
