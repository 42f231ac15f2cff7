//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/signetdev/signet/internal/testing/stack"
	"github.com/signetdev/signet/internal/testing/stack/localstack"
)

// ciProject is a copy of this checkout (tracked and new files, as they are
// on disk) made into a git repository of its own whose origin is a GitLab
// project on the stack's GitLab host, so gitlab-ci-local derives
// CI_PROJECT_URL, CI_SERVER_URL, CI_COMMIT_SHA… from it as GitLab would.
type ciProject struct {
	Dir, URL, SHA string
}

func newCIProject(t *testing.T, gitlabHost, projectPath string, files map[string]string) ciProject {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "project")
	if files == nil { // the whole checkout
		root := repoRoot(t)
		out, err := exec.Command("git", "-C", root, "ls-files", "-co", "--exclude-standard", "-z").Output()
		if err != nil {
			t.Fatalf("git ls-files: %v", err)
		}
		for _, rel := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
			if rel == "" || strings.HasPrefix(rel, ".gitlab-ci-local") {
				continue
			}
			copyFile(t, filepath.Join(root, rel), filepath.Join(dir, rel))
		}
	} else {
		for rel, content := range files {
			if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, rel)), 0o755); err != nil {
				t.Fatal(err)
			}
			writeFile(t, filepath.Dir(filepath.Join(dir, rel)), filepath.Base(rel), content)
		}
	}
	url := "https://" + gitlabHost + "/" + projectPath
	git := func(args ...string) string {
		cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=ci", "-c", "user.email=ci@example.com"}, args...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git("init", "-q", "-b", "main")
	git("remote", "add", "origin", url+".git")
	git("add", "-A")
	git("commit", "-q", "-m", "ci e2e")
	return ciProject{Dir: dir, URL: url, SHA: git("rev-parse", "HEAD")}
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	fi, err := os.Lstat(src)
	if err != nil {
		if os.IsNotExist(err) { // deleted in the worktree, not yet in git
			return
		}
		t.Fatal(err)
	}
	if !fi.Mode().IsRegular() {
		return
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, fi.Mode().Perm())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// cacheTool is a pinned client tool from the stack's cache.
func cacheTool(t *testing.T, key, bin string) string {
	t.Helper()
	p, err := localstack.ToolPath(localstack.DefaultConfig(), key, bin)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// goEnvVars passes this machine's Go caches to the jobs, so a job's
// build reuses them instead of the project-local caches the pipeline
// names for GitLab's runners.
func goEnvVars(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command("go", "env", "-json", "GOCACHE", "GOMODCACHE", "GOPATH").Output()
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatal(err)
	}
	var vars []string
	for k, v := range m {
		vars = append(vars, k+"="+v)
	}
	return vars
}

// runGitLabCI runs jobs of the project's .gitlab-ci.yml (file, relative to
// the project) with gitlab-ci-local in shell mode (the jobs' docker images
// are ignored: there is no docker here), each job in its own copy
// of the project (artifacts passed as GitLab passes them), with variables
// given as GitLab would give CI/CD variables. It returns the combined log.
func runGitLabCI(t *testing.T, p ciProject, file string, vars []string, jobs ...string) (string, error) {
	t.Helper()
	gcl := cacheTool(t, "gitlab-ci-local@"+localstack.GitLabCILocalVersion, "node_modules/.bin/gitlab-ci-local")
	args := []string{"--file", file, "--shell-isolation", "--force-shell-executor", "--no-color", "--home", filepath.Join(p.Dir, ".gitlab-ci-local", "home")}
	for _, v := range vars {
		args = append(args, "--variable", v)
	}
	args = append(args, jobs...)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, gcl, args...)
	cmd.Dir = p.Dir
	cmd.Env = append(os.Environ(), "HOME="+filepath.Join(p.Dir, ".gitlab-ci-local", "home"))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = 10 * time.Second
	err := cmd.Run()
	return out.String(), err
}

// minimalSCT is what clients need against a minimal stack, which has no
// CT log: --insecure-ignore-sct for verifiers, and for signet in the jobs
// COSIGN_INSECURE_IGNORE_SCT (verify) and COSIGN_INSECURE_SKIP_VERIFY (the
// check after signing); nothing in full mode, where the SCT is enforced.
func minimalSCT(env *stack.Env) (flags, vars []string) {
	if env.Mode == "minimal" {
		return []string{"--insecure-ignore-sct"}, []string{"COSIGN_INSECURE_IGNORE_SCT=true", "COSIGN_INSECURE_SKIP_VERIFY=true"}
	}
	return nil, nil
}
