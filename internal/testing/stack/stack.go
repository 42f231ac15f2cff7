// Package stack gives end-to-end tests the local Sigstore stack: it reuses
// a running stack or starts one (through hack/local-stack) once per test
// binary, mints OIDC tokens, and offers fault hooks (stop/start a service,
// a fault-injecting proxy).
//
// Typical use, in a package built with the e2e tag:
//
//	func TestMain(m *testing.M) { os.Exit(stack.Main(m)) }
//
//	func TestX(t *testing.T) {
//		env := stack.Get(t)
//		tok := env.Token(t, stack.TokenRequest{ProjectPath: "acme/app"})
//		...
//	}
package stack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signetdev/signet/internal/testing/oidcissuer"
	"github.com/signetdev/signet/internal/testing/stack/localstack"
)

// Service names accepted by StopService and StopServiceForTest.
const (
	OIDC           = localstack.SvcOIDC
	Fulcio         = localstack.SvcFulcio
	RekorV1        = localstack.SvcRekorV1
	RekorV2        = localstack.SvcRekorV2
	TSA            = localstack.SvcTSA
	CTLog          = localstack.SvcCTLog
	Registry       = localstack.SvcRegistry
	MariaDB        = localstack.SvcMariaDB
	TrillianServer = localstack.SvcTrillianServer
	TrillianSigner = localstack.SvcTrillianSigner
)

// TokenRequest describes a token to mint; zero fields take GitLab-like
// defaults (project group/project, ref main, branch, aud sigstore, TTL 10m).
type TokenRequest = oidcissuer.Request

// SigningConfigSpec lists the URLs of a custom signing config.
type SigningConfigSpec = localstack.SigningConfigSpec

// Env is a running stack, as a test sees it.
type Env struct {
	Mode string // "full" or "minimal"
	Dir  string // run directory (logs in Dir/logs)

	OIDCIssuer   string // issuer URL: the iss claim, and --certificate-oidc-issuer
	OIDCTokenURL string
	FulcioURL    string
	RekorV1URL   string // empty in minimal mode
	RekorV2URL   string
	TSAURL       string // full timestamp endpoint (…/api/v1/timestamp)
	CTLogURL     string // empty in minimal mode
	Registry     string // host:port of the OCI registry

	TrustedRoot     string // trusted_root.json
	SigningConfig   string // default: v1 in full mode, v2 in minimal mode
	SigningConfigV1 string // Rekor v1 (empty in minimal mode)
	SigningConfigV2 string // Rekor v2
	FulcioCA        string // Fulcio root certificate (PEM)

	Cosign     string // pinned cosign v3
	CosignV2   string // cosign v2, empty if it did not build
	Crane      string
	GitLabHost string

	cfg localstack.Config
}

var (
	once        sync.Once
	shared      *Env
	sharedErr   error
	startedByUs bool
)

// Get returns the stack for this test binary, starting it on first use if
// none is running (hack/local-stack install && up, in the mode named by
// SIGNET_STACK_MODE, default full). A failure to get a stack fails the test.
func Get(t testing.TB) *Env {
	t.Helper()
	once.Do(func() { shared, sharedErr = load() })
	if sharedErr != nil {
		t.Fatalf("local stack: %v", sharedErr)
	}
	return shared
}

// Main runs the tests and then stops the stack if Get started it (unless
// SIGNET_STACK_KEEP=1). Use it from TestMain.
func Main(m *testing.M) int {
	code := m.Run()
	if startedByUs && os.Getenv("SIGNET_STACK_KEEP") != "1" {
		if err := localstack.Down(quietConfig()); err != nil {
			fmt.Fprintf(os.Stderr, "local stack: down: %v\n", err)
			if code == 0 {
				code = 1
			}
		}
	}
	return code
}

func quietConfig() localstack.Config {
	c := localstack.DefaultConfig()
	c.Out = os.Stderr
	return c
}

func load() (*Env, error) {
	cfg := quietConfig()
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Minute)
	defer cancel()
	if st, err := localstack.LoadState(cfg); err == nil && st.Healthy(ctx) == nil {
		return newEnv(cfg, st), nil
	}
	script, err := findScript()
	if err != nil {
		return nil, err
	}
	var modeArgs []string
	if os.Getenv("SIGNET_STACK_MODE") == string(localstack.Minimal) {
		modeArgs = []string{"-minimal"}
	}
	// up -reuse: another test binary may be starting the stack right now;
	// the driver's lock makes this one wait and then reuse it. A recorded
	// but unhealthy stack is replaced.
	before := time.Now().UTC()
	for _, args := range [][]string{append([]string{"install"}, modeArgs...), append([]string{"up", "-reuse"}, modeArgs...)} {
		cmd := exec.CommandContext(ctx, script, args...)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("hack/local-stack %s: %w", strings.Join(args, " "), err)
		}
	}
	st, err := localstack.LoadState(cfg)
	if err != nil {
		return nil, err
	}
	startedByUs = !st.Created.Before(before) // not a stack another test binary started
	return newEnv(cfg, st), nil
}

// findScript locates hack/local-stack by walking up from the working
// directory to the module root.
func findScript() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, "hack", "local-stack")
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			if _, err := os.Stat(p); err != nil {
				return "", fmt.Errorf("no %s: %w", p, err)
			}
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("hack/local-stack not found above the working directory")
		}
		dir = parent
	}
}

func newEnv(cfg localstack.Config, st *localstack.State) *Env {
	v := st.Lookup
	return &Env{
		Mode:            string(st.Mode),
		Dir:             v(localstack.EnvDir),
		OIDCIssuer:      v(localstack.EnvOIDCIssuer),
		OIDCTokenURL:    v(localstack.EnvOIDCTokenURL),
		FulcioURL:       v(localstack.EnvFulcioURL),
		RekorV1URL:      v(localstack.EnvRekorV1URL),
		RekorV2URL:      v(localstack.EnvRekorV2URL),
		TSAURL:          v(localstack.EnvTSAURL),
		CTLogURL:        v(localstack.EnvCTLogURL),
		Registry:        v(localstack.EnvRegistry),
		TrustedRoot:     v(localstack.EnvTrustedRoot),
		SigningConfig:   v(localstack.EnvSigningConfig),
		SigningConfigV1: v(localstack.EnvSigningConfigV1),
		SigningConfigV2: v(localstack.EnvSigningConfigV2),
		FulcioCA:        v(localstack.EnvFulcioCA),
		Cosign:          v(localstack.EnvCosign),
		CosignV2:        v(localstack.EnvCosignV2),
		Crane:           v(localstack.EnvCrane),
		GitLabHost:      v(localstack.EnvGitLabHost),
		cfg:             cfg,
	}
}

// RequireFull fails the test unless the stack runs in full mode (CT log
// and Rekor v1).
func (e *Env) RequireFull(t testing.TB) {
	t.Helper()
	if e.Mode != string(localstack.Full) {
		t.Fatalf("this test needs the full stack (CT log, Rekor v1); a %s stack is running: hack/local-stack down && hack/local-stack up", e.Mode)
	}
}

// RequireCosign fails the test if the pinned cosign v3 is not installed.
func (e *Env) RequireCosign(t testing.TB) string {
	t.Helper()
	if e.Cosign == "" {
		t.Fatalf("cosign %s is not installed: run hack/local-stack install", localstack.CosignVersion)
	}
	return e.Cosign
}

// Token mints an ID token from the stack's OIDC issuer.
func (e *Env) Token(t testing.TB, req TokenRequest) string {
	t.Helper()
	tok, _, err := e.MintToken(context.Background(), req)
	if err != nil {
		t.Fatalf("minting token: %v", err)
	}
	return tok
}

// MintToken is Token without a testing.TB: it returns the token and the
// claims it carries.
func (e *Env) MintToken(ctx context.Context, req TokenRequest) (string, map[string]any, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return "", nil, err
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, e.OIDCTokenURL, bytes.NewReader(body))
	if err != nil {
		return "", nil, err
	}
	hreq.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(hreq)
	if err != nil {
		return "", nil, err
	}
	defer resp.Body.Close()
	var out struct {
		Token  string         `json:"token"`
		Claims map[string]any `json:"claims"`
		Error  string         `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return "", nil, fmt.Errorf("decoding token response (%s): %w", resp.Status, err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", nil, fmt.Errorf("token endpoint: %s: %s", resp.Status, out.Error)
	}
	return out.Token, out.Claims, nil
}

// Identity returns the certificate SAN Fulcio issues for a token minted
// with req: https://<gitlab host>/<project>//.gitlab-ci.yml@refs/heads/<ref>
// (refs/tags/ for ref_type tag).
func (e *Env) Identity(req TokenRequest) string {
	project, ref := req.ProjectPath, req.Ref
	if project == "" {
		project = "group/project"
	}
	if ref == "" {
		ref = "main"
	}
	kind := "heads"
	if req.RefType != "" && req.RefType != "branch" {
		kind = "tags"
	}
	return fmt.Sprintf("https://%s/%s//.gitlab-ci.yml@refs/%s/%s", e.GitLabHost, project, kind, ref)
}

// StopService stops one service of the stack (see the service name
// constants) and waits until its ports are free.
func (e *Env) StopService(t testing.TB, name string) {
	t.Helper()
	if err := localstack.StopService(e.cfg, name); err != nil {
		t.Fatalf("stopping %s: %v", name, err)
	}
}

// StopServiceForTest stops a service now and starts it again when the test
// ends, so later tests find the stack whole.
func (e *Env) StopServiceForTest(t testing.TB, name string) {
	t.Helper()
	e.StopService(t, name)
	t.Cleanup(func() {
		if err := localstack.StartService(context.Background(), e.cfg, name); err != nil {
			t.Errorf("restarting %s: %v", name, err)
		}
	})
}

// WriteSigningConfig writes a signing config (for example one whose URLs
// point at fault proxies) into the test's temporary directory.
func (e *Env) WriteSigningConfig(t testing.TB, spec SigningConfigSpec) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "signing_config.json")
	if err := localstack.WriteSigningConfig(path, spec, time.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	return path
}

// SigningConfigSpec returns the spec of the stack's own signing config for
// Rekor v1 or v2, to modify and pass to WriteSigningConfig.
func (e *Env) SigningConfigSpec(rekorVersion int) SigningConfigSpec {
	s := SigningConfigSpec{FulcioURL: e.FulcioURL, OIDCURL: e.OIDCIssuer, TSAURL: e.TSAURL, RekorURL: e.RekorV2URL, RekorVersion: 2}
	if rekorVersion == 1 {
		s.RekorURL, s.RekorVersion = e.RekorV1URL, 1
	}
	return s
}

// Command returns a command for a client binary (cosign, crane, signet)
// with an isolated environment: TUF_ROOT and HOME in a test temp dir, and
// no ambient SIGSTORE_ID_TOKEN.
func (e *Env) Command(t testing.TB, ctx context.Context, bin string, args ...string) *exec.Cmd {
	t.Helper()
	home := t.TempDir()
	cmd := exec.CommandContext(ctx, bin, args...)
	env := []string{"HOME=" + home, "TUF_ROOT=" + filepath.Join(home, "tuf"), "DOCKER_CONFIG=" + filepath.Join(home, "docker")}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case k == "HOME", k == "TUF_ROOT", k == "DOCKER_CONFIG", strings.HasPrefix(k, "SIGSTORE_"), strings.HasPrefix(k, "COSIGN_"):
			continue
		}
		env = append(env, kv)
	}
	cmd.Env = env
	return cmd
}

// Run runs a client command (see Command) and returns its stdout; it fails
// the test, with both outputs, if the command fails.
func (e *Env) Run(t testing.TB, bin string, args ...string) string {
	t.Helper()
	out, errOut, err := e.TryRun(t, bin, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", filepath.Base(bin), strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// TryRun is Run for commands that may fail: it returns stdout, stderr and
// the error.
func (e *Env) TryRun(t testing.TB, bin string, args ...string) (string, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := e.Command(t, ctx, bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

// PushRandomImage pushes a one-layer image of random content to
// Registry/repo:tag with crane and returns its digest reference
// (host/repo@sha256:…).
func (e *Env) PushRandomImage(t testing.TB, repo string) string {
	t.Helper()
	layer := filepath.Join(t.TempDir(), "layer.tar")
	if err := writeRandomLayer(layer); err != nil {
		t.Fatal(err)
	}
	tagRef := e.Registry + "/" + repo + ":latest"
	e.Run(t, e.Crane, "append", "--new_layer", layer, "--new_tag", tagRef)
	digest := strings.TrimSpace(e.Run(t, e.Crane, "digest", tagRef))
	return e.Registry + "/" + repo + "@" + digest
}
