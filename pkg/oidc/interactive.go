package oidc

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/signetdev/signet/internal/fileutil"
)

// The interactive flows follow sigstore/sigstore's pkg/oauthflow (PKCE
// S256 and a nonce for the browser, RFC 8628 with PKCE for devices, the
// client_credentials grant), built directly on golang.org/x/oauth2 and
// go-oidc, which oauthflow wraps: oauthflow sends its requests with
// http.DefaultClient and context.Background() (no way to inject a
// transport), opens the browser through a package variable and prints to
// stdout, none of which signet can allow.

// PrivacyNotice is shown before the browser and device flows: signing
// with an identity from them publishes that identity.
const PrivacyNotice = `Signing with an OIDC identity writes that identity (often an email
address) into a certificate that is recorded in a public transparency log,
where it cannot be removed later. The public-good Sigstore service is run
by sigstore a Series of LF Projects, LLC under the Hosted Project Tools
Terms of Use (https://lfprojects.org/policies/hosted-project-tools-terms-of-use/)
and its Immutable Record notice
(https://lfprojects.org/policies/hosted-project-tools-immutable-records/).
By going on you confirm that you are not submitting anyone else's personal
data and that you accept these terms.`

// interactive runs the browser, device or client_credentials flow against
// o.Issuer and returns the ID token it yields.
func interactive(ctx context.Context, o *Options) (*Token, error) {
	flow := o.AuthFlow
	if flow == "" {
		flow = FlowNormal
		if !o.StdinIsTerminal {
			fmt.Fprintln(o.ErrOut, "Non-interactive mode detected, using device flow.")
			flow = FlowDevice
		}
	}
	source := map[string]string{FlowNormal: sourceBrowser, FlowDevice: sourceDevice, FlowClientCredentials: sourceClientCredentials}[flow]
	fail := func(err error) (*Token, error) { return nil, fmt.Errorf("%s: %w", sourceName(source), err) }

	secret, err := readClientSecret(o)
	if err != nil {
		return fail(err)
	}
	if flow != FlowClientCredentials {
		if err := confirmPrivacy(o); err != nil {
			return nil, err
		}
	}
	o.Debugf("identity token: %s flow with issuer %s, client %s", flow, o.Issuer, o.ClientID)

	client := o.httpClient()
	client.CheckRedirect = sameHostRedirect
	ctx = gooidc.ClientContext(ctx, client) // also oauth2.HTTPClient: every request below uses it
	provider, err := gooidc.NewProvider(ctx, o.Issuer)
	if err != nil {
		return fail(fmt.Errorf("discovering issuer %s: %w", o.Issuer, err))
	}
	cfg := oauth2.Config{
		ClientID:     o.ClientID,
		ClientSecret: secret,
		Endpoint:     provider.Endpoint(),
		Scopes:       []string{gooidc.ScopeOpenID, "email"},
	}
	if secret == "" {
		// A public client sends its ID in the form. (Auto-detection would
		// send a failed request twice, and device codes are single-use.)
		cfg.Endpoint.AuthStyle = oauth2.AuthStyleInParams
	}

	var raw, nonce string
	switch flow {
	case FlowNormal:
		raw, nonce, err = browserFlow(ctx, o, provider, cfg, secret)
	case FlowDevice:
		raw, err = deviceFlow(ctx, o, provider, cfg, secret)
	case FlowClientCredentials:
		raw, err = clientCredentialsFlow(ctx, cfg, secret)
	}
	if err != nil {
		return fail(err)
	}

	// The issuer's signature, iss, aud (the client ID) and exp, as
	// oauthflow checks them; then the nonce sent.
	idt, err := provider.Verifier(&gooidc.Config{ClientID: o.ClientID, Now: o.Now}).Verify(ctx, raw)
	if err != nil {
		return fail(fmt.Errorf("verifying the ID token: %s", redact(err.Error(), []string{raw, secret})))
	}
	if nonce != "" && idt.Nonce != nonce {
		return fail(errors.New("the ID token's nonce is not the one sent"))
	}
	tok, err := Parse(raw)
	if err != nil {
		return fail(err)
	}
	tok.Source = source
	return tok, nil
}

func readClientSecret(o *Options) (string, error) {
	if o.ClientSecretFile == "" {
		return "", nil
	}
	data, err := fileutil.ReadLimit(o.ClientSecretFile, 64<<10)
	if err != nil {
		return "", fmt.Errorf("--oidc-client-secret-file %s: %w", o.ClientSecretFile, err)
	}
	return strings.TrimSpace(string(data)), nil
}

// confirmPrivacy shows PrivacyNotice and, on a terminal without --yes,
// asks to go on.
func confirmPrivacy(o *Options) error {
	fmt.Fprintf(o.ErrOut, "\n%s\n\n", PrivacyNotice)
	if o.Yes || !o.StdinIsTerminal {
		return nil
	}
	fmt.Fprint(o.ErrOut, "Are you sure you would like to continue? [y/N] ")
	line, err := bufio.NewReader(o.In).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("reading the confirmation: %w", err)
	}
	if a := strings.ToLower(strings.TrimSpace(line)); a != "y" && a != "yes" {
		return errors.New("the privacy notice was not accepted (pass --yes to accept it without a prompt)")
	}
	return nil
}

// oauthError makes x/oauth2's errors one line, without the answer's body
// (which may echo what was sent).
func oauthError(step string, err error, secrets ...string) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		msg := fmt.Sprintf("%s: HTTP %s", step, re.Response.Status)
		if re.ErrorCode != "" {
			msg += ": " + re.ErrorCode
			if re.ErrorDescription != "" {
				msg += " (" + re.ErrorDescription + ")"
			}
		}
		return errors.New(redact(msg, secrets))
	}
	return fmt.Errorf("%s: %s", step, redact(transportError(err), secrets))
}

func idTokenOf(t *oauth2.Token) (string, error) {
	raw, _ := t.Extra("id_token").(string)
	if raw == "" {
		return "", errors.New("the token endpoint returned no id_token")
	}
	return raw, nil
}

// requirePKCE fails unless the issuer offers PKCE with S256, as oauthflow
// requires (Azure AD supports it without saying so).
func requirePKCE(p *gooidc.Provider) error {
	var c struct {
		Methods []string `json:"code_challenge_methods_supported"`
	}
	if err := p.Claims(&c); err != nil {
		return err
	}
	if slices.Contains(c.Methods, "S256") || strings.HasPrefix(p.Endpoint().AuthURL, "https://login.microsoftonline.com/") ||
		strings.HasPrefix(p.Endpoint().AuthURL, "https://login.microsoftonline.us/") {
		return nil
	}
	return errors.New("the issuer does not offer PKCE with S256 (code_challenge_methods_supported)")
}

// randomString returns n random bytes, base64url-encoded.
func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

// --- browser flow ---

const oobRedirectURI = "urn:ietf:wg:oauth:2.0:oob"

// browserFlow runs the authorization code flow with PKCE: a local
// listener receives the redirect; if the browser cannot be opened, or no
// redirect comes in time, the user pastes the code (out-of-band).
func browserFlow(ctx context.Context, o *Options, p *gooidc.Provider, cfg oauth2.Config, secret string) (raw, nonce string, err error) {
	if err := requirePKCE(p); err != nil {
		return "", "", err
	}
	redirect := o.RedirectURL
	if redirect == "" {
		redirect = DefaultRedirectURL
	}
	ru, err := url.Parse(redirect)
	if err != nil || ru.Scheme != "http" || ru.Host == "" {
		return "", "", fmt.Errorf("--oidc-redirect-url %q: want http://host:port/path", redirect)
	}
	ln, err := net.Listen("tcp", ru.Host)
	if err != nil {
		return "", "", fmt.Errorf("listening for the redirect on %s: %w", ru.Host, err)
	}
	defer ln.Close()
	if ru.Port() == "0" {
		ru.Host = net.JoinHostPort(ru.Hostname(), fmt.Sprint(ln.Addr().(*net.TCPAddr).Port))
	}
	if ru.Path == "" {
		ru.Path = "/"
	}
	cfg.RedirectURL = ru.String()

	state, nonce, verifier := randomString(32), randomString(32), oauth2.GenerateVerifier()
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier), oauth2.AccessTypeOnline, gooidc.Nonce(nonce)}

	type result struct {
		code string
		err  error
	}
	got := make(chan result, 1)
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != ru.Path {
			http.NotFound(w, r)
			return
		}
		q := r.URL.Query()
		if q.Get("state") != state {
			// Not our redirect (stale tab, or another local process):
			// keep waiting for the real one.
			http.Error(w, "unexpected state", http.StatusBadRequest)
			return
		}
		res := result{code: q.Get("code")}
		if e := q.Get("error"); e != "" || res.code == "" {
			res.err = fmt.Errorf("the issuer refused the authorization: %s %s", e, q.Get("error_description"))
			fmt.Fprintf(w, "<html><body><p>Authorization failed: %s. You may close this window.</p></body></html>", html.EscapeString(e))
		} else {
			fmt.Fprint(w, "<html><body><p>signet is authenticated. You may close this window.</p></body></html>")
		}
		select {
		case got <- res:
		default:
		}
	})}
	go func() { _ = srv.Serve(ln) }()
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()

	authURL := cfg.AuthCodeURL(state, opts...)
	fmt.Fprintf(o.ErrOut, "Your browser will now be opened to:\n%s\n", authURL)
	var code string
	if err := o.OpenBrowser(authURL); err != nil {
		fmt.Fprintf(o.ErrOut, "error opening browser: %v\n", err)
		if code, err = outOfBand(o, &cfg, state, opts); err != nil {
			return "", "", err
		}
	} else {
		timer := time.NewTimer(o.callbackTimeout)
		defer timer.Stop()
		select {
		case <-ctx.Done():
			return "", "", ctx.Err()
		case r := <-got:
			if r.err != nil {
				return "", "", r.err
			}
			code = r.code
		case <-timer.C:
			fmt.Fprintf(o.ErrOut, "No redirect from the browser within %s.\n", o.callbackTimeout)
			if code, err = outOfBand(o, &cfg, state, opts); err != nil {
				return "", "", err
			}
		}
	}
	if code == "" {
		return "", "", errors.New("no authorization code")
	}
	t, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier), gooidc.Nonce(nonce))
	if err != nil {
		return "", "", oauthError("exchanging the authorization code", err, secret, code)
	}
	raw, err = idTokenOf(t)
	return raw, nonce, err
}

// outOfBand asks the user to open the authorization URL with the
// out-of-band redirect and paste the code the issuer shows; cfg keeps
// that redirect for the code exchange.
func outOfBand(o *Options, cfg *oauth2.Config, state string, opts []oauth2.AuthCodeOption) (string, error) {
	cfg.RedirectURL = oobRedirectURI
	fmt.Fprintf(o.ErrOut, "Go to the following link in a browser:\n\n\t%s\n\nEnter verification code: ", cfg.AuthCodeURL(state, opts...))
	line, err := bufio.NewReader(o.In).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("reading the verification code: %w", err)
	}
	fmt.Fprintln(o.ErrOut)
	code := strings.TrimSpace(line)
	if code == "" {
		return "", errors.New("no verification code entered")
	}
	return code, nil
}

// openBrowser opens url in the desktop's browser.
func openBrowser(url string) error {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", url)
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", url)
	default:
		cmd = exec.Command("xdg-open", url)
	}
	// The opener's own output would interleave with signet's.
	cmd.Stdout, cmd.Stderr = nil, nil
	return cmd.Run()
}

// --- device flow ---

// deviceFlow runs the device authorization grant (RFC 8628) with PKCE.
func deviceFlow(ctx context.Context, o *Options, p *gooidc.Provider, cfg oauth2.Config, secret string) (string, error) {
	if cfg.Endpoint.DeviceAuthURL == "" {
		return "", errors.New("the issuer has no device_authorization_endpoint")
	}
	if err := requirePKCE(p); err != nil {
		return "", err
	}
	verifier := oauth2.GenerateVerifier()
	da, err := cfg.DeviceAuth(ctx, oauth2.S256ChallengeOption(verifier))
	if err != nil {
		return "", oauthError("device authorization request", err, secret)
	}
	uri := da.VerificationURIComplete
	if uri == "" {
		uri = da.VerificationURI
	}
	fmt.Fprintf(o.ErrOut, "Enter the verification code %s in your browser at: %s\n", da.UserCode, uri)
	if !da.Expiry.IsZero() {
		fmt.Fprintf(o.ErrOut, "Code will be valid for %d seconds\n", int(time.Until(da.Expiry).Round(time.Second).Seconds()))
	}
	t, err := cfg.DeviceAccessToken(ctx, da, oauth2.VerifierOption(verifier))
	if err != nil {
		return "", oauthError("waiting for the device authorization", err, secret, da.DeviceCode)
	}
	fmt.Fprintln(o.ErrOut, "Token received!")
	return idTokenOf(t)
}

// --- client_credentials ---

func clientCredentialsFlow(ctx context.Context, cfg oauth2.Config, secret string) (string, error) {
	if secret == "" {
		return "", errors.New("the client_credentials flow needs --oidc-client-secret-file")
	}
	cc := clientcredentials.Config{
		ClientID:     cfg.ClientID,
		ClientSecret: secret,
		TokenURL:     cfg.Endpoint.TokenURL,
		Scopes:       cfg.Scopes,
		AuthStyle:    oauth2.AuthStyleInParams,
	}
	t, err := cc.Token(ctx)
	if err != nil {
		return "", oauthError("client_credentials token request", err, secret)
	}
	return idTokenOf(t)
}

// sameHostRedirect lets the issuer's endpoints redirect within their own
// host only: a redirect elsewhere could substitute the discovery document
// (and so the authorization, token and key endpoints), Fulcio's
// GHSA-f5mr-q85p-6hh6.
func sameHostRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	if prev := via[len(via)-1].URL; req.URL.Scheme != prev.Scheme || req.URL.Host != prev.Host {
		return fmt.Errorf("refusing a redirect from %s to another host, %s", prev.Redacted(), req.URL.Redacted())
	}
	return nil
}
