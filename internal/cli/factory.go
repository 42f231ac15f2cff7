package cli

import (
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/signetdev/signet/internal/iostreams"
	"github.com/signetdev/signet/internal/trust"
	"github.com/signetdev/signet/pkg/policy"
)

// Factory hands commands everything that reaches outside the process:
// streams, environment, network, clock. Tests replace any field; nothing
// here is built before a command asks for it, so start-up stays cheap.
type Factory struct {
	IOStreams *iostreams.IOStreams

	// Getenv reads an environment variable. Commands never call os.Getenv.
	Getenv func(string) string
	// LookupEnv also says whether the variable is set: COSIGN_PASSWORD=""
	// (an empty password) is not the same as no COSIGN_PASSWORD.
	LookupEnv func(string) (string, bool)
	// Environ lists the whole environment as key=value (only `env` needs
	// it: to show unregistered COSIGN_*, SIGSTORE_* and TUF_* variables).
	Environ func() []string
	// HomeDir returns the user's home directory (TUF cache default).
	HomeDir func() (string, error)
	// Transport is the base round tripper of every HTTP request signet
	// makes; a test that must prove "no network" installs one that fails.
	Transport http.RoundTripper
	// Now is the clock.
	Now func() time.Time
	// PolicyEngine judges --policy files and admission attestation
	// policies: the signet-policy program beside signet (pkg/policy says
	// why the engines are not linked in); tests may run them in-process.
	PolicyEngine policy.Engine

	// Verbose is set by the global -d/--verbose flag.
	Verbose bool
}

// NewFactory returns a Factory wired to the real process environment.
func NewFactory(ios *iostreams.IOStreams) *Factory {
	return &Factory{
		IOStreams: ios,
		Getenv:    os.Getenv,
		LookupEnv: os.LookupEnv,
		Environ:   os.Environ,
		HomeDir:   os.UserHomeDir,
		Transport: http.DefaultTransport,
		Now:       time.Now,
		// Started at the first policy; it ends when signet does. The
		// verify verbs check one statement at a time, so the engine's
		// default soft memory limit is one check's (admission serve
		// sets its own concurrency).
		PolicyEngine: &policy.Process{Concurrency: 1},
	}
}

// HTTPClient returns a client over the factory's transport.
func (f *Factory) HTTPClient() *http.Client {
	return &http.Client{Transport: f.Transport}
}

// Debugf writes a debug line to stderr when --verbose is on. Callers must
// never pass secrets (tokens, passwords, private keys) to it.
func (f *Factory) Debugf(format string, args ...any) {
	if f.Verbose {
		fmt.Fprintf(f.IOStreams.ErrOut, "debug: "+format+"\n", args...)
	}
}

// Warnf writes one warning line to stderr.
func (f *Factory) Warnf(format string, args ...any) {
	fmt.Fprintf(f.IOStreams.ErrOut, "WARNING: "+format+"\n", args...)
}

// TrustOptions returns where trust material comes from, wired to this
// factory's environment, network, clock and stderr. Callers set the
// per-command fields (TrustedRootPath, Offline).
func (f *Factory) TrustOptions() trust.Options {
	var home string
	if f.HomeDir != nil {
		home, _ = f.HomeDir() // none: trust asks for TUF_ROOT
	}
	return trust.Options{
		Getenv:    f.Getenv,
		HomeDir:   home,
		Transport: f.Transport,
		Warn:      f.IOStreams.ErrOut,
		Now:       f.Now,
		Debugf:    f.Debugf,
	}
}
