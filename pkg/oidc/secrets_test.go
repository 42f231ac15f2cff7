package oidc

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signetdev/signet/internal/testing/oidcissuer"
)

// TestSecretsNeverPrinted runs every token path, succeeding and failing,
// with debug output on, and greps all output and every error for the
// secrets involved: raw tokens (whole, or their signature), the client
// secret, the CI request credentials and the metadata access token.
// Several fakes echo the credentials they got in their error answers.
func TestSecretsNeverPrinted(t *testing.T) {
	const clientSecret = "client-SECRET-0000"
	var outputs []string
	secrets := []string{ghRequestToken, bkAgentToken, gceAccessToken, clientSecret, "bkagent-SECRET-wrong"}
	run := func(o Options, out *safeBuffer) {
		tok, err := Get(context.Background(), o)
		if tok != nil {
			secrets = append(secrets, tok.Raw)
			outputs = append(outputs, tok.String())
		}
		if err != nil {
			outputs = append(outputs, err.Error())
		}
		outputs = append(outputs, out.String())
	}
	mint := func(over map[string]any) string {
		raw := token(t, over)
		secrets = append(secrets, raw)
		return raw
	}

	// --identity-token, inline and as a file; good, expired, malformed.
	for _, raw := range []string{mint(nil), mint(map[string]any{"exp": now.Add(-1e12).Unix()}), mint(map[string]any{"aud": "x"})} {
		o, out := testOptions(t, env{})
		o.IdentityToken = raw
		run(o, out)
		o, out = testOptions(t, env{})
		o.IdentityToken = filepath.Join(t.TempDir(), "tok")
		writeFile(t, o.IdentityToken, raw)
		run(o, out)
	}
	bad := mint(nil)
	o, out := testOptions(t, env{})
	o.IdentityToken = bad[:len(bad)-40] + "!" // not a JWT, not a file
	run(o, out)
	o, out = testOptions(t, env{EnvSigstoreIDToken: strings.Replace(bad, ".", "", 1)})
	run(o, out)

	// Ambient providers, good and failing.
	o, out = testOptions(t, env{EnvSigstoreIDToken: mint(map[string]any{"aud": "other"})})
	run(o, out)
	for _, status := range []int{0, http.StatusForbidden, http.StatusBadGateway} {
		gh, _ := fakeGitHub(t, mint(nil), status)
		o, out = testOptions(t, githubEnv(gh))
		o.Transport = http.DefaultTransport
		run(o, out)
	}
	bk := fakeBuildkite(t, mint(nil))
	for _, agent := range []string{bkAgentToken, "bkagent-SECRET-wrong"} {
		o, out = testOptions(t, env{EnvBuildkiteAgentToken: agent, EnvBuildkiteAgentEndpoint: bk.URL + "/v3", EnvBuildkiteJobID: "job-42"})
		o.Transport = http.DefaultTransport
		run(o, out)
	}
	md, _ := fakeMetadata(t, "")
	iam := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "refused: "+r.Header.Get("Authorization"), http.StatusForbidden)
	}))
	defer iam.Close()
	o, out = testOptions(t, env{EnvGoogleServiceAccount: "sa@p.iam.gserviceaccount.com", EnvGCEMetadataHost: strings.TrimPrefix(md.URL, "http://")})
	o.Transport, o.iamCredentialsURL = http.DefaultTransport, iam.URL
	run(o, out)

	// Interactive flows.
	_, srv := testIssuer(t, oidcissuer.WithClient("ci-bot", clientSecret), oidcissuer.WithDevicePolls(0))
	secretFile := filepath.Join(t.TempDir(), "secret")
	writeFile(t, secretFile, clientSecret)
	for _, flow := range []string{FlowClientCredentials, FlowDevice, FlowNormal} {
		o, out = interactiveOptions(t, srv)
		o.AuthFlow, o.ClientID, o.ClientSecretFile, o.Yes = flow, "ci-bot", secretFile, true
		ua := newUserAgent()
		o.OpenBrowser = ua.open
		run(o, out)
	}
	o, out = interactiveOptions(t, srv)
	o.AuthFlow, o.ClientID, o.ClientSecretFile = FlowClientCredentials, "someone-else", secretFile
	run(o, out)

	all := strings.Join(outputs, "\n")
	if !strings.Contains(all, "debug: ") || len(outputs) < 30 {
		t.Fatalf("debug output missing or too few runs (%d)", len(outputs))
	}
	if !strings.Contains(all, "[REDACTED]") {
		t.Error("no fake echoed a credential: the test proves less than it says")
	}
	for _, s := range secrets {
		if strings.Contains(all, s) {
			t.Errorf("a secret was printed: %.12s…", s)
		}
		if i := strings.LastIndex(s, "."); i > 0 && len(s)-i > 20 && strings.Contains(all, s[i+1:]) {
			t.Errorf("a token's signature was printed: %.12s…", s)
		}
	}
}
