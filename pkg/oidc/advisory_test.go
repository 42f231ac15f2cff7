package oidc

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// GHSA-hm8f-75xx-w2vr (sigstore-python 4.2.0): the redirect handler did
// not compare the returned state with the one sent, so an attacker's
// authorization code could be injected (login CSRF). A redirect with a
// wrong state, or none, is answered 400 and ignored: no code reaches the
// issuer's token endpoint.
func TestAdvisory_GHSA_hm8f_75xx_w2vr_RedirectState(t *testing.T) {
	_, srv := testIssuer(t)
	var posts atomic.Int64
	inner := srv.Config.Handler
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			posts.Add(1)
		}
		inner.ServeHTTP(w, r)
	})
	o, _ := interactiveOptions(t, srv)
	o.StdinIsTerminal, o.Yes = true, true
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	statuses := map[string]int{}
	o.OpenBrowser = func(authURL string) error {
		u, err := url.Parse(authURL)
		if err != nil {
			return err
		}
		redirect := u.Query().Get("redirect_uri")
		go func() {
			defer cancel()
			for _, q := range []string{"?code=attacker&state=wrong", "?code=attacker", "?code=attacker&state="} {
				resp, err := http.Get(redirect + q)
				mu.Lock()
				if err == nil {
					statuses[q] = resp.StatusCode
					resp.Body.Close()
				}
				mu.Unlock()
			}
		}()
		return nil
	}
	_, err := Get(ctx, o)
	if err == nil {
		t.Fatal("a token was obtained from an injected code")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(statuses) != 3 {
		t.Fatalf("redirects answered: %v", statuses)
	}
	for q, code := range statuses {
		if code != http.StatusBadRequest {
			t.Errorf("%s: HTTP %d, want 400", q, code)
		}
	}
	if n := posts.Load(); n != 0 {
		t.Errorf("%d requests to the token endpoint", n)
	}
	if !strings.Contains(err.Error(), "canceled") {
		t.Logf("error: %v", err)
	}
}

// GHSA-f83f-xpx7-ffpw (Fulcio 1.8.3, server-side): splitting an
// unverified token of many dots allocated without bound. signet's analogue,
// reading claims from a token before Fulcio verifies it, refuses a 10 MB
// token of dots from its length, with little memory.
func TestAdvisory_GHSA_f83f_xpx7_ffpw_DottedToken(t *testing.T) {
	tok := strings.Repeat(".", 10<<20)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := Parse(tok)
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "more than the") {
		t.Fatalf("10 MB of dots: %v", err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
		t.Errorf("refusing it allocated %d bytes", alloc)
	}
	// At the limit, dots alone are still malformed, not a crash.
	if _, err := Parse(strings.Repeat(".", MaxTokenSize)); err == nil {
		t.Error("64 KiB of dots parsed")
	}
}

// GHSA-f5mr-q85p-6hh6 (Fulcio 1.8.6, server-side): OIDC discovery followed
// a redirect to another host, which could substitute the endpoints and
// keys. signet's interactive flows discover the issuer the same way: a
// discovery document redirected to another host (claiming the right
// issuer, with its own endpoints) is refused; a redirect within the host
// is followed.
func TestAdvisory_GHSA_f5mr_q85p_6hh6_DiscoveryRedirect(t *testing.T) {
	var issuerURL string
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"issuer":%q,"authorization_endpoint":"http://%s/auth","token_endpoint":"http://%s/token","jwks_uri":"http://%s/keys","device_authorization_endpoint":"http://%s/device"}`,
			issuerURL, r.Host, r.Host, r.Host, r.Host)
	}))
	defer evil.Close()
	var evilHits atomic.Int64
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			http.Redirect(w, r, evil.URL+"/.well-known/openid-configuration", http.StatusFound)
		default:
			evilHits.Add(1)
			http.NotFound(w, r)
		}
	}))
	defer redirector.Close()
	issuerURL = redirector.URL
	_, srv := testIssuer(t)
	o, _ := interactiveOptions(t, srv)
	o.Issuer = redirector.URL
	err := getErr(t, o, "discovering issuer", "refusing a redirect", "to another host")
	t.Logf("%v", err)

	// Within one host a redirect is followed; to another port or scheme
	// it is not.
	via := []*http.Request{httptest.NewRequest("GET", "https://issuer.example/a", nil)}
	for target, ok := range map[string]bool{
		"https://issuer.example/b": true, "https://issuer.example:8443/b": false,
		"http://issuer.example/b": false, "https://evil.example/b": false,
	} {
		if err := sameHostRedirect(httptest.NewRequest("GET", target, nil), via); (err == nil) != ok {
			t.Errorf("redirect to %s: %v", target, err)
		}
	}
}
