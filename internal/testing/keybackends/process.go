// Package keybackends starts real key backends for signet's end-to-end
// tests: local-kms (AWS KMS API), a HashiCorp Vault dev server (transit)
// and SoftHSM2 tokens (PKCS#11). Each runs per test, on a free 127.0.0.1
// port (never the shared stack's fixed ports), from the binaries
// `hack/local-stack install` builds into the stack cache; a missing binary
// fails the test (install builds it; skipping would hide that). Processes
// are stopped by PID with a deadline when the test ends.
package keybackends

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/signetdev/signet/internal/testing/stack/localstack"
)

// cachedBinary returns the path of a binary of the component whose cache
// key is key, failing the test when install has not built it.
func cachedBinary(t testing.TB, key, name string) string {
	t.Helper()
	p := filepath.Join(localstack.DefaultCacheDir(), "bin", key, name)
	if _, err := os.Stat(filepath.Join(filepath.Dir(p), ".ok")); err != nil {
		t.Fatalf("%s is not installed (%v): run hack/local-stack install (make e2e does)", key, err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%s: %v: run hack/local-stack install", key, err)
	}
	return p
}

// baseEnv is the environment of a backend or client process: this one's,
// without the variables that would point a client elsewhere.
func baseEnv(drop ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		skip := false
		for _, d := range drop {
			if k == d || (strings.HasSuffix(d, "*") && strings.HasPrefix(k, strings.TrimSuffix(d, "*"))) {
				skip = true
			}
		}
		if !skip {
			env = append(env, kv)
		}
	}
	return env
}

// startProcess starts cmd in its own process group with its output in
// logPath, and stops it (SIGTERM, then SIGKILL after a deadline) when the
// test ends.
func startProcess(t testing.TB, cmd *exec.Cmd, logPath string) {
	t.Helper()
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("starting %s: %v", filepath.Base(cmd.Path), err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); logf.Close(); close(done) }()
	pid := cmd.Process.Pid
	t.Cleanup(func() {
		_ = syscall.Kill(-pid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-pid, syscall.SIGKILL)
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Errorf("%s (pid %d) did not exit after SIGKILL", filepath.Base(cmd.Path), pid)
			}
		}
	})
}

// waitFor polls ready until it succeeds or the deadline passes, failing
// the test with the last error and the tail of the log.
func waitFor(t testing.TB, what, logPath string, d time.Duration, ready func(context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var err error
	for {
		if err = ready(ctx); err == nil {
			return
		}
		select {
		case <-ctx.Done():
			b, _ := os.ReadFile(logPath)
			if len(b) > 2000 {
				b = b[len(b)-2000:]
			}
			t.Fatalf("%s not ready after %v: %v\nlog tail:\n%s", what, d, err, b)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// freePort returns a free port on 127.0.0.1 (for servers that cannot be
// told to pick one and report it). Ports from :0 are ephemeral (32768 and
// up on Linux): never the shared stack's fixed ports.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
