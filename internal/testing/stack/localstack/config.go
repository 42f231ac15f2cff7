// Package localstack installs, starts and stops a Sigstore instance on
// 127.0.0.1 for end-to-end tests: an OIDC issuer, Fulcio, Rekor v2 (tiles),
// a timestamp authority and an OCI registry, plus in full mode a CT log and
// Rekor v1 on Trillian and MariaDB. It is driven by hack/local-stack; the
// test helper in the parent package reads the state it writes.
//
// Binaries are built with `go install` from the pinned module versions into
// a cache directory keyed by version. Run state (PKI, configs, logs, data,
// PIDs) lives in a run directory that `up` wipes.
package localstack

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Mode selects which services run.
type Mode string

const (
	// Full runs everything: SCTs are embedded and Rekor v1 is available.
	Full Mode = "full"
	// Minimal runs the OIDC issuer, Fulcio (no CT log), Rekor v2, the TSA
	// and the registry.
	Minimal Mode = "minimal"
)

// Config says where things live. The zero value is not usable; start from
// DefaultConfig.
type Config struct {
	CacheDir string // binaries, keyed by version: $SIGNET_STACK_CACHE or ~/.cache/signet-stack
	RunDir   string // run state, wiped by up: $SIGNET_STACK_DIR or $TMPDIR/signet-stack
	ToolsDir string // where the oidc-issuer binary is (built by hack/local-stack)
	// SourceDir is the signet checkout, for components built from a
	// wrapper module in it: $SIGNET_STACK_SOURCE (hack/local-stack sets
	// it), else the current directory.
	SourceDir string
	Out       io.Writer // progress messages
}

// DefaultCacheDir is $SIGNET_STACK_CACHE, else $HOME/.cache/signet-stack.
func DefaultCacheDir() string {
	if d := os.Getenv("SIGNET_STACK_CACHE"); d != "" {
		return d
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".cache", "signet-stack")
	}
	return filepath.Join(os.TempDir(), "signet-stack-cache")
}

// DefaultRunDir is $SIGNET_STACK_DIR, else $TMPDIR/signet-stack.
func DefaultRunDir() string {
	if d := os.Getenv("SIGNET_STACK_DIR"); d != "" {
		return d
	}
	return filepath.Join(os.TempDir(), "signet-stack")
}

// DefaultConfig uses the environment defaults and writes progress to stderr.
func DefaultConfig() Config {
	src := os.Getenv("SIGNET_STACK_SOURCE")
	if src == "" {
		src, _ = os.Getwd()
	}
	return Config{CacheDir: DefaultCacheDir(), RunDir: DefaultRunDir(), SourceDir: src, Out: os.Stderr}
}

func (c Config) logf(format string, args ...any) {
	if c.Out != nil {
		fmt.Fprintf(c.Out, format+"\n", args...)
	}
}

func (c Config) path(elem ...string) string {
	return filepath.Join(append([]string{c.RunDir}, elem...)...)
}

// StatePath is where up records what it started.
func (c Config) StatePath() string { return c.path("state.json") }

// lockPath sits beside the run directory, so wiping the run directory
// does not drop the lock.
func (c Config) lockPath() string { return filepath.Clean(c.RunDir) + ".lock" }
