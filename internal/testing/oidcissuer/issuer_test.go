package oidcissuer

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func newTestServer(t *testing.T) (*Issuer, *httptest.Server) {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	srv.Start()
	t.Cleanup(srv.Close)
	iss, err := New(srv.URL, nil, WithClock(func() time.Time { return time.Unix(1_800_000_000, 0) }))
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = iss.Handler()
	return iss, srv
}

func getJSON(t *testing.T, req *http.Request, wantStatus int, v any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != wantStatus {
		t.Fatalf("%s %s: status %d, want %d", req.Method, req.URL, resp.StatusCode, wantStatus)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

func get(t *testing.T, url string, v any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	getJSON(t, req, http.StatusOK, v)
}

// verify checks the token's RS256 signature against the served JWKS, the way
// a relying party does, and returns its claims.
func verify(t *testing.T, srv *httptest.Server, token string) map[string]any {
	t.Helper()
	var disc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	get(t, srv.URL+"/.well-known/openid-configuration", &disc)
	if disc.Issuer != srv.URL {
		t.Fatalf("discovery issuer %q, want %q", disc.Issuer, srv.URL)
	}
	var jwks struct {
		Keys []struct{ Kid, N, E, Alg string } `json:"keys"`
	}
	get(t, disc.JWKSURI, &jwks)
	if len(jwks.Keys) != 1 || jwks.Keys[0].Alg != "RS256" {
		t.Fatalf("jwks: %+v", jwks)
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts", len(parts))
	}
	dec := func(s string) []byte {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	var hdr map[string]string
	if err := json.Unmarshal(dec(parts[0]), &hdr); err != nil {
		t.Fatal(err)
	}
	if hdr["alg"] != "RS256" || hdr["kid"] != jwks.Keys[0].Kid {
		t.Fatalf("header %v, jwks kid %q", hdr, jwks.Keys[0].Kid)
	}
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(dec(jwks.Keys[0].N)), E: int(new(big.Int).SetBytes(dec(jwks.Keys[0].E)).Int64())}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], dec(parts[2])); err != nil {
		t.Fatalf("signature: %v", err)
	}
	var claims map[string]any
	d := json.NewDecoder(bytes.NewReader(dec(parts[1])))
	d.UseNumber()
	if err := d.Decode(&claims); err != nil {
		t.Fatal(err)
	}
	return claims
}

func num(t *testing.T, v any) int64 {
	t.Helper()
	n, err := v.(json.Number).Int64()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestDefaultToken(t *testing.T) {
	_, srv := newTestServer(t)
	var resp tokenResponse
	get(t, srv.URL+"/token", &resp)
	c := verify(t, srv, resp.Token)
	want := map[string]string{
		"iss":                srv.URL,
		"aud":                "sigstore",
		"sub":                "project_path:group/project:ref_type:branch:ref:main",
		"project_path":       "group/project",
		"namespace_path":     "group",
		"ref":                "main",
		"ref_type":           "branch",
		"pipeline_source":    "push",
		"runner_environment": "gitlab-hosted",
		"ci_config_ref_uri":  "gitlab.example.com/group/project//.gitlab-ci.yml@refs/heads/main",
		"project_visibility": "public",
	}
	for k, v := range want {
		if c[k] != v {
			t.Errorf("claim %s = %v, want %q", k, c[k], v)
		}
	}
	for _, k := range []string{"pipeline_id", "job_id", "ci_config_sha", "sha", "namespace_id", "project_id"} {
		if s, _ := c[k].(string); s == "" {
			t.Errorf("claim %s missing", k)
		}
	}
	if _, ok := c["environment"]; ok {
		t.Errorf("environment present without being asked for")
	}
	if got := num(t, c["exp"]) - num(t, c["iat"]); got != int64(DefaultTTL/time.Second) {
		t.Errorf("exp-iat = %d", got)
	}
}

func TestQueryOverrides(t *testing.T) {
	_, srv := newTestServer(t)
	var resp tokenResponse
	get(t, srv.URL+"/token?project_path=acme/sub/app&ref=v1.2.3&ref_type=tag&pipeline_source=web&runner_environment=self-hosted&environment=prod&aud=other&ttl=-1h&omit=user_email&custom=x", &resp)
	c := verify(t, srv, resp.Token)
	for k, v := range map[string]string{
		"project_path":       "acme/sub/app",
		"namespace_path":     "acme/sub",
		"ref":                "v1.2.3",
		"ref_type":           "tag",
		"pipeline_source":    "web",
		"runner_environment": "self-hosted",
		"environment":        "prod",
		"aud":                "other",
		"custom":             "x",
		"ci_config_ref_uri":  "gitlab.example.com/acme/sub/app//.gitlab-ci.yml@refs/tags/v1.2.3",
	} {
		if c[k] != v {
			t.Errorf("claim %s = %v, want %q", k, c[k], v)
		}
	}
	if _, ok := c["user_email"]; ok {
		t.Error("user_email not omitted")
	}
	now := int64(1_800_000_000)
	if exp := num(t, c["exp"]); exp != now-3600 {
		t.Errorf("exp = %d, want %d", exp, now-3600)
	}
	if iat := num(t, c["iat"]); iat >= num(t, c["exp"]) {
		t.Errorf("expired token has iat %d >= exp", iat)
	}
}

func TestJSONBody(t *testing.T) {
	_, srv := newTestServer(t)
	body := `{"project_path":"g/p","ttl":"30","claims":{"iss":"https://evil.example","project_id":"99"},"omit":["sha"]}`
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/token", strings.NewReader(body))
	var resp tokenResponse
	getJSON(t, req, http.StatusOK, &resp)
	c := verify(t, srv, resp.Token)
	if c["iss"] != "https://evil.example" || c["project_id"] != "99" || c["project_path"] != "g/p" {
		t.Errorf("claims %v", c)
	}
	if _, ok := c["sha"]; ok {
		t.Error("sha not omitted")
	}
	if got := num(t, c["exp"]) - num(t, c["iat"]); got != 30 {
		t.Errorf("ttl = %d, want 30", got)
	}
}

func TestBadRequests(t *testing.T) {
	_, srv := newTestServer(t)
	for _, tc := range []struct{ method, url, body string }{
		{http.MethodGet, "/token?ttl=soon", ""},
		{http.MethodGet, "/token?project_path=noslash", ""},
		{http.MethodPost, "/token", `{"nope":1}`},
		{http.MethodPost, "/token", `{`},
	} {
		req, _ := http.NewRequest(tc.method, srv.URL+tc.url, strings.NewReader(tc.body))
		var e map[string]string
		getJSON(t, req, http.StatusBadRequest, &e)
		if e["error"] == "" {
			t.Errorf("%s %s: no error message", tc.method, tc.url)
		}
	}
}

func TestLoadOrCreateKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.pem")
	k1, err := LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if !k1.Equal(k2) {
		t.Fatal("key not persisted")
	}
	i1, _ := New("http://x", k1)
	i2, _ := New("http://x/", k2)
	if i1.kid != i2.kid || i2.URL() != "http://x" {
		t.Fatalf("kid %q vs %q, url %q", i1.kid, i2.kid, i2.URL())
	}
}
