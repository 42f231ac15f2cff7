// Package oidc finds the identity token signet exchanges for a Fulcio
// certificate, in cosign's order: the --identity-token flag (a token or a
// file), then ambient providers (CI systems, workload identity, a token
// file), then an interactive OAuth flow (browser with PKCE on a terminal,
// device flow otherwise). Every token is checked before it is used:
// well-formed, not expired, meant for Fulcio.
//
// Raw tokens, client secrets and the credentials used to fetch tokens are
// never written to any output, debug output included.
package oidc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/signetdev/signet/internal/fileutil"
)

// Defaults.
const (
	DefaultAudience = "sigstore"
	DefaultClientID = "sigstore"
	DefaultIssuer   = "https://oauth2.sigstore.dev/auth"
	// DefaultRedirectURL is where the browser flow listens when
	// Options.RedirectURL is empty (port 0: any free port).
	DefaultRedirectURL = "http://localhost:0/auth/callback"
)

// Auth flows (--fulcio-auth-flow).
const (
	FlowNormal            = "normal"
	FlowDevice            = "device"
	FlowToken             = "token"
	FlowClientCredentials = "client_credentials"
)

// Options say where to look for a token and how to ask for one. The zero
// value of every field is usable: Get fills in the defaults.
type Options struct {
	// IdentityToken is --identity-token: a token, or the path of a file
	// holding one.
	IdentityToken string
	// Provider (--oidc-provider) restricts ambient providers to one; see
	// ProviderNames.
	Provider string
	// DisableAmbient (--oidc-disable-ambient-providers) skips them all.
	DisableAmbient bool
	// Audience is what a token must be meant for, and what ambient
	// providers ask for. Default "sigstore".
	Audience string

	// Interactive flows: the issuer (from the signing config, else
	// --oidc-issuer), client, redirect URL and flow (--fulcio-auth-flow:
	// empty means device when stdin is not a terminal, else normal).
	Issuer           string
	ClientID         string
	ClientSecretFile string
	RedirectURL      string
	AuthFlow         string

	// Getenv reads the environment; default os.Getenv.
	Getenv func(string) string
	// Transport carries every HTTP request; default http.DefaultTransport.
	// (The SPIFFE Workload API is a local Unix socket, and the browser
	// flow's callback a local listener: neither goes through it.)
	Transport http.RoundTripper
	// In is read for the privacy confirmation and the out-of-band code;
	// ErrOut gets notices and prompts. Defaults: empty input, io.Discard.
	In     io.Reader
	ErrOut io.Writer
	// StdinIsTerminal picks the browser flow over the device flow, and
	// allows the privacy confirmation prompt.
	StdinIsTerminal bool
	// Yes (-y/--yes, COSIGN_YES) skips the privacy confirmation prompt.
	Yes bool
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Debugf, if set, gets debug lines (never a secret).
	Debugf func(format string, args ...any)

	// FilesystemTokenPath is the filesystem provider's token file;
	// default DefaultFilesystemTokenPath.
	FilesystemTokenPath string
	// GCEProductNameFile tells a Google Compute Engine machine; default
	// /sys/class/dmi/id/product_name.
	GCEProductNameFile string
	// OpenBrowser opens a URL in the user's browser; default: xdg-open,
	// open or rundll32 by OS.
	OpenBrowser func(url string) error

	// Test seams.
	iamCredentialsURL string                                           // IAM Credentials API base
	sleep             func(ctx context.Context, d time.Duration) error // retry back-off
	callbackTimeout   time.Duration                                    // browser flow: wait for the redirect
}

func (o Options) withDefaults() Options {
	if o.Audience == "" {
		o.Audience = DefaultAudience
	}
	if o.ClientID == "" {
		o.ClientID = DefaultClientID
	}
	if o.Issuer == "" {
		o.Issuer = DefaultIssuer
	}
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.Transport == nil {
		o.Transport = http.DefaultTransport
	}
	if o.In == nil {
		o.In = strings.NewReader("")
	}
	if o.ErrOut == nil {
		o.ErrOut = io.Discard
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Debugf == nil {
		o.Debugf = func(string, ...any) {}
	}
	if o.FilesystemTokenPath == "" {
		o.FilesystemTokenPath = DefaultFilesystemTokenPath
	}
	if o.GCEProductNameFile == "" {
		o.GCEProductNameFile = "/sys/class/dmi/id/product_name"
	}
	if o.OpenBrowser == nil {
		o.OpenBrowser = openBrowser
	}
	if o.iamCredentialsURL == "" {
		o.iamCredentialsURL = "https://iamcredentials.googleapis.com"
	}
	if o.sleep == nil {
		o.sleep = sleepContext
	}
	if o.callbackTimeout == 0 {
		o.callbackTimeout = 2 * time.Minute
	}
	return o
}

// check rejects contradictory or unknown options before anything is read.
func (o *Options) check() error {
	switch o.AuthFlow {
	case "", FlowNormal, FlowDevice, FlowToken, FlowClientCredentials:
	default:
		return fmt.Errorf("--fulcio-auth-flow %q: want one of normal, device, token, client_credentials", o.AuthFlow)
	}
	if o.Provider != "" {
		if _, err := lookupProvider(o.Provider, o); err != nil {
			return err
		}
		if o.DisableAmbient {
			return fmt.Errorf("--oidc-provider %s and --oidc-disable-ambient-providers contradict each other", o.Provider)
		}
	}
	return nil
}

func (o *Options) httpClient() *http.Client {
	return &http.Client{Transport: o.Transport, Timeout: 30 * time.Second}
}

// Get finds, fetches and checks an identity token: the flag, then ambient
// providers, then an interactive flow. The token returned is well-formed,
// not expired (within ExpirySkew) and has Audience in its aud (the client
// ID for interactive flows, whose tokens are minted for it).
func Get(ctx context.Context, opts Options) (*Token, error) {
	o := opts.withDefaults()
	if err := o.check(); err != nil {
		return nil, err
	}

	if o.IdentityToken != "" {
		tok, err := fromFlag(&o)
		if err != nil {
			return nil, err
		}
		return accept(&o, tok, o.Audience)
	}

	if o.DisableAmbient {
		o.Debugf("identity token: ambient providers disabled")
	} else {
		tok, err := fromAmbient(ctx, &o)
		if err != nil {
			return nil, err
		}
		if tok != nil {
			return accept(&o, tok, o.Audience)
		}
	}

	if o.AuthFlow == FlowToken {
		if o.DisableAmbient {
			return nil, errors.New("--fulcio-auth-flow=token: no identity token: give --identity-token (ambient providers are disabled)")
		}
		return nil, errors.New("--fulcio-auth-flow=token: no identity token: give --identity-token or set SIGSTORE_ID_TOKEN")
	}
	tok, err := interactive(ctx, &o)
	if err != nil {
		return nil, err
	}
	return accept(&o, tok, o.ClientID)
}

// accept validates a parsed token and says where it came from.
func accept(o *Options, tok *Token, audience string) (*Token, error) {
	if err := tok.Validate(o.Now(), audience); err != nil {
		return nil, fmt.Errorf("%s: %w", sourceName(tok.Source), err)
	}
	if o.AuthFlow != "" && o.AuthFlow != FlowToken && !isInteractive(tok.Source) {
		fmt.Fprintf(o.ErrOut, "WARNING: --fulcio-auth-flow=%s ignored: using the %s\n", o.AuthFlow, sourceName(tok.Source))
	}
	o.Debugf("%s", tok)
	return tok, nil
}

func isInteractive(source string) bool {
	return source == sourceBrowser || source == sourceDevice || source == sourceClientCredentials
}

// Token sources that are not ambient providers.
const (
	sourceFlag              = "flag"
	sourceFile              = "file"
	sourceBrowser           = "browser"
	sourceDevice            = "device"
	sourceClientCredentials = "client_credentials"
)

// sourceName is how messages name a token's source.
func sourceName(source string) string {
	switch source {
	case sourceFlag, sourceFile:
		return "--identity-token"
	case sourceBrowser:
		return "identity token from the browser flow"
	case sourceDevice:
		return "identity token from the device flow"
	case sourceClientCredentials:
		return "identity token from the client_credentials flow"
	}
	return "identity token from " + source
}

// fromFlag reads --identity-token: a JWT, or else the path of a file
// holding one. The value is never echoed unless it names a file.
func fromFlag(o *Options) (*Token, error) {
	v := strings.TrimSpace(o.IdentityToken)
	tok, perr := Parse(v)
	if perr == nil {
		tok.Source = sourceFlag
		o.Debugf("identity token: --identity-token holds a token")
		return tok, nil
	}
	if st, err := os.Stat(v); err == nil && st.Mode().IsRegular() {
		data, err := fileutil.ReadLimit(v, MaxTokenSize+4096)
		if err != nil {
			return nil, fmt.Errorf("--identity-token file %s: %w", v, err)
		}
		tok, err := Parse(string(data))
		if err != nil {
			return nil, fmt.Errorf("--identity-token file %s: %w", v, err)
		}
		tok.Source = sourceFile
		o.Debugf("identity token: read from the --identity-token file %s", v)
		return tok, nil
	}
	if looksLikeJWT(v) {
		return nil, fmt.Errorf("--identity-token: %w", perr)
	}
	return nil, fmt.Errorf("--identity-token: %w", newError(ErrMalformed, "not a JWT (want three base64url parts), nor the path of a file"))
}

// looksLikeJWT reports whether s has the shape of a compact JWS: three
// non-empty runs of base64url characters. Paths rarely do.
func looksLikeJWT(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return false
	}
	for _, p := range parts {
		if p == "" || strings.IndexFunc(p, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_')
		}) >= 0 {
			return false
		}
	}
	return true
}

// fromAmbient asks the ambient providers in order (or the one named by
// Provider). It returns nil, nil when none is available. A provider that
// is available but fails does not stop the search; if no other provider
// gives a token, all failures are reported.
func fromAmbient(ctx context.Context, o *Options) (*Token, error) {
	list := providers
	if o.Provider != "" {
		p, _ := lookupProvider(o.Provider, o) // checked by check
		list = []provider{p}
	}
	var failures []string
	for _, p := range list {
		why, ok := p.available(o)
		if !ok {
			if o.Provider != "" {
				return nil, fmt.Errorf("--oidc-provider %s: %s", o.Provider, why)
			}
			o.Debugf("identity token: %s: %s", p.name, why)
			continue
		}
		o.Debugf("identity token: trying %s (%s)", p.name, why)
		raw, err := p.fetch(ctx, o)
		if err != nil {
			if p.guessed != nil && p.guessed(o) && o.Provider == "" {
				// Detection was a guess (cosign probes the same way):
				// no token means no such provider here.
				o.Debugf("identity token: %s: not available: %v", p.name, err)
				continue
			}
			failures = append(failures, fmt.Sprintf("%s: %v", sourceName(p.source()), err))
			continue
		}
		tok, err := Parse(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", sourceName(p.source()), err)
		}
		tok.Source = p.source()
		return tok, nil
	}
	if len(failures) > 0 {
		return nil, errors.New(strings.Join(failures, "; "))
	}
	return nil, nil
}

func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
