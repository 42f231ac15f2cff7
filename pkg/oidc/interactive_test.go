package oidc

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signetdev/signet/internal/testing/oidcissuer"
)

// testIssuer serves our test OIDC issuer (authorization, device and
// client_credentials endpoints) on the tests' clock.
func testIssuer(t *testing.T, opts ...oidcissuer.Option) (*oidcissuer.Issuer, *httptest.Server) {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	srv.Start()
	t.Cleanup(srv.Close)
	iss, err := oidcissuer.New(srv.URL, nil, append([]oidcissuer.Option{oidcissuer.WithClock(func() time.Time { return now })}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = iss.Handler()
	return iss, srv
}

func interactiveOptions(t *testing.T, srv *httptest.Server) (Options, *safeBuffer) {
	o, out := testOptions(t, env{})
	o.Issuer, o.Transport = srv.URL, http.DefaultTransport
	return o, out
}

// userAgent plays the user's browser: it follows the authorization URL,
// and the issuer's redirect back to signet's listener. It records the
// URL it was given and how the redirect ended.
type userAgent struct {
	mu     sync.Mutex
	url    string
	status int
	err    error
	done   chan struct{}
}

func newUserAgent() *userAgent { return &userAgent{done: make(chan struct{})} }

func (u *userAgent) open(authURL string) error {
	u.mu.Lock()
	u.url = authURL
	u.mu.Unlock()
	go func() {
		defer close(u.done)
		resp, err := http.Get(authURL) // follows the redirect to the callback
		u.mu.Lock()
		defer u.mu.Unlock()
		if u.err = err; err == nil {
			u.status = resp.StatusCode
			resp.Body.Close()
		}
	}()
	return nil
}

func TestDeviceFlowWhenStdinIsNotATerminal(t *testing.T) {
	iss, srv := testIssuer(t, oidcissuer.WithDevicePolls(1))
	o, out := interactiveOptions(t, srv)
	tok := mustGet(t, o)
	if tok.Source != "device" || tok.Issuer != srv.URL || tok.Audience[0] != "sigstore" {
		t.Errorf("got %v from %s", tok, tok.Source)
	}
	if n := iss.DevicePolls(); n != 2 {
		t.Errorf("%d polls, want 2 (one pending, one approved)", n)
	}
	for _, want := range []string{"Non-interactive mode detected, using device flow.", PrivacyNotice,
		"Enter the verification code ", " in your browser at: " + srv.URL + "/device?user_code=", "Token received!"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out.String(), "[y/N]") {
		t.Error("prompted without a terminal")
	}

	t.Run("denied", func(t *testing.T) {
		_, srv := testIssuer(t, oidcissuer.WithDevicePolls(0), oidcissuer.WithDeviceDenied())
		o, _ := interactiveOptions(t, srv)
		getErr(t, o, "identity token from the device flow: waiting for the device authorization: HTTP 400 Bad Request: access_denied (the user refused)")
	})
	t.Run("no device endpoint", func(t *testing.T) {
		_, srv := testIssuer(t)
		bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/.well-known/openid-configuration" {
				io.WriteString(w, `{"issuer":"`+"http://"+r.Host+`","authorization_endpoint":"x","token_endpoint":"y","jwks_uri":"z"}`)
				return
			}
			http.NotFound(w, r)
		}))
		defer bare.Close()
		o, _ := interactiveOptions(t, srv)
		o.Issuer = bare.URL
		getErr(t, o, "identity token from the device flow: the issuer has no device_authorization_endpoint")
	})
}

func TestBrowserFlowOnATerminal(t *testing.T) {
	_, srv := testIssuer(t)
	for _, redirect := range []string{"", "http://127.0.0.1:0/custom/callback"} {
		t.Run("redirect "+redirect, func(t *testing.T) {
			o, out := interactiveOptions(t, srv)
			o.StdinIsTerminal, o.Yes, o.RedirectURL = true, true, redirect
			ua := newUserAgent()
			o.OpenBrowser = ua.open
			tok := mustGet(t, o)
			<-ua.done
			if tok.Source != "browser" || tok.Audience[0] != "sigstore" || ua.err != nil || ua.status != http.StatusOK {
				t.Fatalf("got %v from %s; browser: %v, HTTP %d", tok, tok.Source, ua.err, ua.status)
			}
			u, _ := url.Parse(ua.url)
			q := u.Query()
			wantRedirect := "http://localhost:"
			if redirect != "" {
				wantRedirect = "http://127.0.0.1:"
			}
			if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("nonce") == "" ||
				q.Get("state") == "" || q.Get("client_id") != "sigstore" || !strings.HasPrefix(q.Get("redirect_uri"), wantRedirect) {
				t.Errorf("authorization URL %s", ua.url)
			}
			if !strings.Contains(out.String(), "Your browser will now be opened to:\n"+ua.url) || !strings.Contains(out.String(), PrivacyNotice) {
				t.Errorf("output:\n%s", out)
			}
		})
	}

	t.Run("privacy prompt accepted", func(t *testing.T) {
		o, out := interactiveOptions(t, srv)
		o.StdinIsTerminal, o.In = true, strings.NewReader("y\n")
		ua := newUserAgent()
		o.OpenBrowser = ua.open
		mustGet(t, o)
		<-ua.done
		if !strings.Contains(out.String(), PrivacyNotice+"\n\nAre you sure you would like to continue? [y/N] ") {
			t.Errorf("output:\n%s", out)
		}
	})
	t.Run("privacy prompt declined", func(t *testing.T) {
		o, _ := interactiveOptions(t, srv)
		o.StdinIsTerminal, o.In = true, strings.NewReader("n\n")
		o.OpenBrowser = func(string) error { t.Error("browser opened"); return nil }
		getErr(t, o, "the privacy notice was not accepted (pass --yes to accept it without a prompt)")
	})
}

// TestBrowserFlowOutOfBand: when no browser opens, the user visits the
// out-of-band URL and pastes the code the issuer shows.
func TestBrowserFlowOutOfBand(t *testing.T) {
	_, srv := testIssuer(t)
	o, _ := interactiveOptions(t, srv)
	o.StdinIsTerminal, o.Yes = true, true
	pr, pw := io.Pipe()
	o.In = pr
	out := &oobUser{t: t, answer: pw}
	o.ErrOut = out
	tok := mustGet(t, o)
	if tok.Source != "browser" || !out.answered {
		t.Errorf("got %v from %s (answered %v)", tok, tok.Source, out.answered)
	}
}

// oobUser reads signet's prompts; at "Go to the following link", it
// fetches the link and types the code shown.
type oobUser struct {
	t        *testing.T
	answer   *io.PipeWriter
	buf      strings.Builder
	answered bool
}

func (u *oobUser) Write(p []byte) (int, error) {
	u.buf.Write(p)
	s := u.buf.String()
	if u.answered || !strings.Contains(s, "Enter verification code: ") {
		return len(p), nil
	}
	u.answered = true
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		link, ok := strings.CutPrefix(sc.Text(), "\t ")
		if !ok {
			link, ok = strings.CutPrefix(sc.Text(), "\t")
		}
		if ok && strings.Contains(link, "redirect_uri=urn") {
			go func() {
				resp, err := http.Get(link)
				if err != nil {
					u.t.Error(err)
					u.answer.Close()
					return
				}
				defer resp.Body.Close()
				code, _ := io.ReadAll(resp.Body)
				io.WriteString(u.answer, string(code))
			}()
			return len(p), nil
		}
	}
	u.t.Errorf("no out-of-band link in:\n%s", s)
	u.answer.Close()
	return len(p), nil
}

func TestClientCredentials(t *testing.T) {
	const secret = "client-SECRET-3456"
	_, srv := testIssuer(t, oidcissuer.WithClient("ci-bot", secret))
	o, out := interactiveOptions(t, srv)
	o.AuthFlow, o.ClientID = FlowClientCredentials, "ci-bot"
	o.ClientSecretFile = filepath.Join(t.TempDir(), "secret")
	writeFile(t, o.ClientSecretFile, secret+"\n")
	tok := mustGet(t, o)
	if tok.Source != "client_credentials" || tok.Audience[0] != "ci-bot" {
		t.Errorf("got %v from %s", tok, tok.Source)
	}
	if strings.Contains(out.String(), PrivacyNotice) {
		t.Error("privacy notice before a machine flow")
	}

	writeFile(t, o.ClientSecretFile, "wrong-SECRET-7890")
	err := getErr(t, o, "identity token from the client_credentials flow: client_credentials token request: HTTP 401 Unauthorized: invalid_client")
	if strings.Contains(err.Error(), "wrong-SECRET-7890") {
		t.Errorf("secret in %v", err)
	}
	o.ClientSecretFile = ""
	getErr(t, o, "the client_credentials flow needs --oidc-client-secret-file")
}

// TestExplicitFlowYieldsToAToken: as in cosign v3, a token found on the
// way wins over --fulcio-auth-flow, with a warning.
func TestExplicitFlowYieldsToAToken(t *testing.T) {
	o, out := testOptions(t, env{EnvSigstoreIDToken: token(t, nil)})
	o.AuthFlow = FlowDevice
	if tok := mustGet(t, o); tok.Source != "SIGSTORE_ID_TOKEN" {
		t.Errorf("source %s", tok.Source)
	}
	if !strings.Contains(out.String(), "WARNING: --fulcio-auth-flow=device ignored: using the identity token from SIGSTORE_ID_TOKEN") {
		t.Errorf("output:\n%s", out)
	}
}

func TestInteractiveCancelled(t *testing.T) {
	_, srv := testIssuer(t)
	o, _ := interactiveOptions(t, srv)
	o.StdinIsTerminal, o.Yes = true, true
	o.OpenBrowser = func(string) error { return nil } // a browser that never comes back
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := Get(ctx, o); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Get: %v", err)
	}
}
