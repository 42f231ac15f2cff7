// Package clitest runs signet in-process for tests: buffers for streams, a
// fixed environment, and a network that refuses, and counts, every request.
package clitest

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signetdev/signet/internal/cli"
	"github.com/signetdev/signet/internal/cli/commands"
	"github.com/signetdev/signet/internal/iostreams"
	"github.com/signetdev/signet/pkg/policy/engine"
)

// NoNetwork is a RoundTripper that fails every request and counts them.
type NoNetwork struct{ calls atomic.Int64 }

// ErrNoNetwork is what every request through NoNetwork gets.
var ErrNoNetwork = errors.New("clitest: network access is not allowed in this test")

// RoundTrip implements http.RoundTripper.
func (n *NoNetwork) RoundTrip(*http.Request) (*http.Response, error) {
	n.calls.Add(1)
	return nil, ErrNoNetwork
}

// Calls is how many requests were attempted.
func (n *NoNetwork) Calls() int64 { return n.calls.Load() }

// Result is one run's outcome.
type Result struct {
	Code           int
	Stdout, Stderr string
	// NetworkCalls counts requests attempted through the default transport.
	NetworkCalls int64
}

// Env is the environment a run sees, nothing else.
type Env map[string]string

// Options tune a run.
type Options struct {
	Env       Env
	Stdin     string
	Transport http.RoundTripper // default: NoNetwork
	HomeDir   string            // default: a fresh temp dir
	Now       func() time.Time
}

// Run runs signet with args and returns what it did.
func Run(t testing.TB, opts Options, args ...string) Result {
	t.Helper()
	ios, in, out, errOut := iostreams.Test()
	in.WriteString(opts.Stdin)
	f := cli.NewFactory(ios)
	env := opts.Env
	f.Getenv = func(k string) string { return env[k] }
	f.LookupEnv = func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	f.Environ = func() []string {
		var kv []string
		for k, v := range env {
			kv = append(kv, k+"="+v)
		}
		return kv
	}
	home := opts.HomeDir
	if home == "" {
		home = t.TempDir()
	}
	f.HomeDir = func() (string, error) { return home, nil }
	nn := &NoNetwork{}
	f.Transport = nn
	if opts.Transport != nil {
		f.Transport = opts.Transport
	}
	if opts.Now != nil {
		f.Now = opts.Now
	}
	// In-process runs judge policies in-process: the pipe to signet-policy
	// has its own tests (pkg/policy, the scripts, the admission e2e).
	f.PolicyEngine = engine.Local{}
	code := cli.Run(context.Background(), args, f, commands.All()...)
	return Result{Code: code, Stdout: out.String(), Stderr: errOut.String(), NetworkCalls: nn.Calls()}
}

// ErrLine is the single "Error: …" line of a failed run, or "".
func (r Result) ErrLine() string {
	for _, l := range strings.Split(r.Stderr, "\n") {
		if strings.HasPrefix(l, "Error: ") {
			return l
		}
	}
	return ""
}

// StderrLines are the non-empty lines written to stderr.
func (r Result) StderrLines() []string {
	var out []string
	for _, l := range strings.Split(r.Stderr, "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

// CheckOneErrorLine fails the test unless the run failed and left exactly
// one line, "Error: …", on stderr.
func (r Result) CheckOneErrorLine(t testing.TB) {
	t.Helper()
	lines := r.StderrLines()
	if r.Code == 0 || len(lines) != 1 || !strings.HasPrefix(lines[0], "Error: ") {
		t.Errorf("want a failure with exactly one \"Error: \" line; exit %d, stderr:\n%s", r.Code, r.Stderr)
	}
}

// CheckErrorLine fails the test unless the run failed with exactly one
// "Error: …" line on stderr (progress lines such as cosign's "Using
// payload from" may precede it).
func (r Result) CheckErrorLine(t testing.TB) {
	t.Helper()
	n := 0
	for _, l := range r.StderrLines() {
		if strings.HasPrefix(l, "Error: ") {
			n++
		}
	}
	if r.Code == 0 || n != 1 {
		t.Errorf("want a failure with exactly one \"Error: \" line; exit %d, stderr:\n%s", r.Code, r.Stderr)
	}
}

// WriteFile writes content to dir/name for a test and returns the path.
func WriteFile(t testing.TB, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
