package oidc

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// everyProvider sets up all ambient providers at once, each minting a
// token whose sub names it. The environment e stays live: tests change it.
func everyProvider(t *testing.T) (o Options, e env, ghCalls func() int32) {
	t.Helper()
	sub := func(name string) string { return token(t, map[string]any{"sub": name}) }
	gh, calls := fakeGitHub(t, sub("github-actions"), 0)
	bk := fakeBuildkite(t, sub("buildkite-agent"))
	md, _ := fakeMetadata(t, sub("google-workload-identity"))
	e = githubEnv(gh)
	e[EnvSigstoreIDToken] = sub("envvar")
	e[EnvBuildkiteAgentToken], e[EnvBuildkiteAgentEndpoint], e[EnvBuildkiteJobID] = bkAgentToken, bk.URL+"/v3", "job-42"
	e[EnvSPIFFESocket] = fakeSPIRE(t, sub("spiffe"), 0)
	e[EnvGCEMetadataHost] = strings.TrimPrefix(md.URL, "http://")
	o, _ = testOptions(t, e)
	o.Transport = http.DefaultTransport
	writeFile(t, o.FilesystemTokenPath, sub("filesystem"))
	return o, e, calls.Load
}

// TestProviderOrder: with every provider available, each wins over all
// after it (cosign v3's order), and later ones are not asked.
func TestProviderOrder(t *testing.T) {
	o, e, ghCalls := everyProvider(t)
	for _, want := range []string{"filesystem", "envvar", "github-actions", "buildkite-agent", "spiffe", "google-workload-identity"} {
		tok := mustGet(t, o)
		if tok.Subject != want {
			t.Fatalf("token from %s, want %s", tok.Subject, want)
		}
		if want == "envvar" && ghCalls() != 0 {
			t.Errorf("github-actions asked although an earlier provider had a token")
		}
		switch want { // take this one away
		case "filesystem":
			o.FilesystemTokenPath += ".gone"
		case "envvar":
			delete(e, EnvSigstoreIDToken)
		case "github-actions":
			delete(e, EnvGitHubRequestToken)
		case "buildkite-agent":
			delete(e, EnvBuildkiteAgentToken)
		case "spiffe":
			e[EnvSPIFFESocket] = filepath.Join(t.TempDir(), "gone.sock")
		}
	}
}

// TestProviderSelection: --oidc-provider picks one provider, wherever it
// stands in the order, and fails clearly when it is not available.
func TestProviderSelection(t *testing.T) {
	o, e, _ := everyProvider(t)
	for _, name := range []string{"spiffe", "github-actions", "buildkite-agent", "envvar", "filesystem", "google-workload-identity", "google"} {
		o := o
		o.Provider = name
		want := name
		if name == "google" {
			want = "google-workload-identity"
		}
		if tok := mustGet(t, o); tok.Subject != want {
			t.Errorf("--oidc-provider %s: token from %s", name, tok.Subject)
		}
	}

	delete(e, EnvGitHubRequestURL)
	o.Provider = "github-actions"
	getErr(t, o, "--oidc-provider github-actions: ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN are not both set")

	o.Provider = "gitlab"
	getErr(t, o, `--oidc-provider "gitlab": unknown provider; want one of filesystem, envvar, github-actions, buildkite-agent, spiffe, google-workload-identity, google-impersonate, google`)

	o.Provider, o.DisableAmbient = "envvar", true
	getErr(t, o, "--oidc-provider envvar and --oidc-disable-ambient-providers contradict each other")
}

// TestFailingProviders: an available provider that fails does not stop
// the search; when none succeeds, every failure is reported, and signet
// does not fall back to an interactive flow.
func TestFailingProviders(t *testing.T) {
	gh, _ := fakeGitHub(t, "", http.StatusForbidden)
	bk := fakeBuildkite(t, token(t, map[string]any{"sub": "buildkite-agent"}))
	e := githubEnv(gh)
	e[EnvBuildkiteAgentToken], e[EnvBuildkiteAgentEndpoint], e[EnvBuildkiteJobID] = bkAgentToken, bk.URL+"/v3", "job-42"
	o, _ := testOptions(t, e)
	o.Transport = http.DefaultTransport
	if tok := mustGet(t, o); tok.Subject != "buildkite-agent" {
		t.Errorf("token from %s", tok.Subject)
	}
	delete(e, EnvBuildkiteJobID)
	getErr(t, o, "identity token from github-actions: GitHub Actions token request to", "HTTP 403 Forbidden",
		"; identity token from buildkite-agent: BUILDKITE_JOB_ID is not set")
}

// TestDisableAmbient: with --oidc-disable-ambient-providers no provider is
// read, so signet goes on to the interactive flow.
func TestDisableAmbient(t *testing.T) {
	o, _, ghCalls := everyProvider(t)
	o.DisableAmbient = true
	o.AuthFlow = FlowToken
	getErr(t, o, "--fulcio-auth-flow=token: no identity token: give --identity-token (ambient providers are disabled)")
	if ghCalls() != 0 {
		t.Error("github-actions asked")
	}
	o.AuthFlow = ""
	o.Issuer = "http://127.0.0.1:1/no-issuer" // the device flow starts: its discovery fails
	getErr(t, o, "identity token from the device flow: discovering issuer http://127.0.0.1:1/no-issuer")
}

func TestBadOptions(t *testing.T) {
	o, _ := testOptions(t, env{})
	o.AuthFlow = "magic"
	getErr(t, o, `--fulcio-auth-flow "magic": want one of normal, device, token, client_credentials`)
}
