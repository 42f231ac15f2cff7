package oidcissuer

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func postForm(t *testing.T, u string, form url.Values, wantStatus int) map[string]any {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	var out map[string]any
	getJSON(t, req, wantStatus, &out)
	return out
}

// authorize runs /authorize without following the redirect and returns
// the code.
func authorize(t *testing.T, srv string, q url.Values) string {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(srv + "/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize: %s", resp.Status)
	}
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if loc.Query().Get("state") != q.Get("state") || !strings.HasPrefix(loc.String(), q.Get("redirect_uri")) {
		t.Fatalf("redirect %s", loc)
	}
	return loc.Query().Get("code")
}

func TestAuthorizationCodeFlow(t *testing.T) {
	_, srv := newTestServer(t)
	verifier := strings.Repeat("v", 43)
	q := url.Values{"response_type": {"code"}, "client_id": {"sigstore"}, "redirect_uri": {"http://localhost:1234/cb"},
		"state": {"st"}, "nonce": {"n0"}, "scope": {"openid email"}, "code_challenge": {s256(verifier)}, "code_challenge_method": {"S256"}}
	exchange := url.Values{"grant_type": {"authorization_code"}, "client_id": {"sigstore"}, "redirect_uri": {"http://localhost:1234/cb"}, "code_verifier": {verifier}}

	exchange.Set("code", authorize(t, srv.URL, q))
	out := postForm(t, srv.URL+"/token", exchange, http.StatusOK)
	c := verify(t, srv, out["id_token"].(string))
	if c["aud"] != "sigstore" || c["nonce"] != "n0" || c["iss"] != srv.URL {
		t.Errorf("claims %v", c)
	}
	// Codes are single-use.
	if e := postForm(t, srv.URL+"/token", exchange, http.StatusBadRequest); e["error"] != "invalid_grant" {
		t.Errorf("reused code: %v", e)
	}
	// A wrong verifier or redirect URI is refused.
	for _, bad := range []url.Values{{"code_verifier": {strings.Repeat("w", 43)}}, {"redirect_uri": {"http://localhost:9/other"}}} {
		exchange.Set("code", authorize(t, srv.URL, q))
		f := url.Values{}
		for k, v := range exchange {
			f[k] = v
		}
		for k, v := range bad {
			f[k] = v
		}
		if e := postForm(t, srv.URL+"/token", f, http.StatusBadRequest); e["error"] != "invalid_grant" {
			t.Errorf("%v: %v", bad, e)
		}
	}
	// No PKCE, or a redirect elsewhere than the loopback: no code.
	for _, k := range []string{"code_challenge", "redirect_uri"} {
		bad := url.Values{}
		for kk, v := range q {
			bad[kk] = v
		}
		bad.Set(k, "https://evil.example/cb")
		if k == "code_challenge" {
			bad.Del(k)
		}
		resp, err := http.Get(srv.URL + "/authorize?" + bad.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("without a good %s: %s", k, resp.Status)
		}
	}
}

func TestDeviceAndClientCredentials(t *testing.T) {
	iss, srv := newTestServer(t)
	WithDevicePolls(2)(iss)
	WithClient("bot", "s3cret")(iss)
	verifier := strings.Repeat("d", 43)
	da := postForm(t, srv.URL+"/device/code", url.Values{"client_id": {"sigstore"}, "code_challenge": {s256(verifier)}, "code_challenge_method": {"S256"}}, http.StatusOK)
	poll := url.Values{"grant_type": {grantDeviceCode}, "client_id": {"sigstore"}, "device_code": {da["device_code"].(string)}, "code_verifier": {verifier}}
	for i := 0; i < 2; i++ {
		if e := postForm(t, srv.URL+"/token", poll, http.StatusBadRequest); e["error"] != "authorization_pending" {
			t.Fatalf("poll %d: %v", i, e)
		}
	}
	if out := postForm(t, srv.URL+"/token", poll, http.StatusOK); verify(t, srv, out["id_token"].(string))["aud"] != "sigstore" {
		t.Error("wrong audience")
	}
	if iss.DevicePolls() != 3 {
		t.Errorf("%d polls", iss.DevicePolls())
	}

	cc := url.Values{"grant_type": {"client_credentials"}, "client_id": {"bot"}, "client_secret": {"s3cret"}}
	if out := postForm(t, srv.URL+"/token", cc, http.StatusOK); verify(t, srv, out["id_token"].(string))["aud"] != "bot" {
		t.Error("wrong audience")
	}
	cc.Set("client_secret", "nope")
	if e := postForm(t, srv.URL+"/token", cc, http.StatusUnauthorized); e["error"] != "invalid_client" {
		t.Errorf("wrong secret: %v", e)
	}
}
