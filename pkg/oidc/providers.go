package oidc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/signetdev/signet/internal/fileutil"
)

// DefaultFilesystemTokenPath is where the filesystem provider looks (a
// Kubernetes projected service account token, typically).
const DefaultFilesystemTokenPath = "/var/run/sigstore/cosign/oidc-token"

// DefaultSPIFFESocket is the SPIFFE Workload API socket used when
// SPIFFE_ENDPOINT_SOCKET is unset.
const DefaultSPIFFESocket = "/tmp/spire-agent/public/api.sock"

// Environment variables the providers read.
const (
	EnvSigstoreIDToken        = "SIGSTORE_ID_TOKEN"
	EnvGitHubRequestURL       = "ACTIONS_ID_TOKEN_REQUEST_URL"
	EnvGitHubRequestToken     = "ACTIONS_ID_TOKEN_REQUEST_TOKEN"
	EnvBuildkiteAgentToken    = "BUILDKITE_AGENT_ACCESS_TOKEN"
	EnvBuildkiteAgentEndpoint = "BUILDKITE_AGENT_ENDPOINT"
	EnvBuildkiteJobID         = "BUILDKITE_JOB_ID"
	EnvSPIFFESocket           = "SPIFFE_ENDPOINT_SOCKET"
	EnvGCEMetadataHost        = "GCE_METADATA_HOST"
	EnvGoogleServiceAccount   = "GOOGLE_SERVICE_ACCOUNT_NAME"
)

// provider is one ambient source of tokens.
type provider struct {
	name string
	// available says whether the environment offers this provider, and
	// why (or why not), for debug output and --oidc-provider errors.
	available func(o *Options) (why string, ok bool)
	fetch     func(ctx context.Context, o *Options) (string, error)
	// guessed, if set, says availability was inferred rather than
	// configured: then a failed fetch means "not here", not an error.
	guessed func(o *Options) bool
}

// source is the Token.Source of this provider's tokens.
func (p provider) source() string {
	if p.name == "envvar" {
		return EnvSigstoreIDToken
	}
	return p.name
}

// providers in cosign v3's order (its registration order, measured with
// cosign v3.1.3: filesystem wins over SIGSTORE_ID_TOKEN, which wins over
// GitHub Actions, which wins over Buildkite).
var providers = []provider{
	{name: "filesystem", available: filesystemAvailable, fetch: filesystemFetch},
	{name: "envvar", available: envvarAvailable, fetch: envvarFetch},
	{name: "github-actions", available: githubAvailable, fetch: githubFetch},
	{name: "buildkite-agent", available: buildkiteAvailable, fetch: buildkiteFetch},
	{name: "spiffe", available: spiffeAvailable, fetch: spiffeFetch},
	{name: "google-workload-identity", available: gceAvailable, fetch: gceIdentityFetch, guessed: gceGuessed},
	{name: "google-impersonate", available: impersonateAvailable, fetch: impersonateFetch},
}

// ProviderNames lists the names --oidc-provider accepts, in the order
// providers are tried. "google" is accepted too: cosign's help lists it
// (cosign itself rejects it); signet takes it as google-impersonate when
// GOOGLE_SERVICE_ACCOUNT_NAME is set, else google-workload-identity.
func ProviderNames() []string {
	names := make([]string, 0, len(providers)+1)
	for _, p := range providers {
		names = append(names, p.name)
	}
	return append(names, "google")
}

func lookupProvider(name string, o *Options) (provider, error) {
	if name == "google" {
		name = "google-workload-identity"
		if o.Getenv != nil && o.Getenv(EnvGoogleServiceAccount) != "" {
			name = "google-impersonate"
		}
	}
	for _, p := range providers {
		if p.name == name {
			return p, nil
		}
	}
	return provider{}, fmt.Errorf("--oidc-provider %q: unknown provider; want one of %s", name, strings.Join(ProviderNames(), ", "))
}

// --- filesystem ---

func filesystemAvailable(o *Options) (string, bool) {
	st, err := os.Stat(o.FilesystemTokenPath)
	if err != nil || !st.Mode().IsRegular() {
		return "no file " + o.FilesystemTokenPath, false
	}
	return "file " + o.FilesystemTokenPath, true
}

func filesystemFetch(_ context.Context, o *Options) (string, error) {
	data, err := fileutil.ReadLimit(o.FilesystemTokenPath, MaxTokenSize+4096)
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", o.FilesystemTokenPath, err)
	}
	return string(data), nil
}

// --- envvar: SIGSTORE_ID_TOKEN (GitLab id_tokens, or anything else) ---

func envvarAvailable(o *Options) (string, bool) {
	if o.Getenv(EnvSigstoreIDToken) == "" {
		return EnvSigstoreIDToken + " is not set", false
	}
	return EnvSigstoreIDToken + " is set", true
}

func envvarFetch(_ context.Context, o *Options) (string, error) {
	return o.Getenv(EnvSigstoreIDToken), nil
}

// --- GitHub Actions ---

func githubAvailable(o *Options) (string, bool) {
	if o.Getenv(EnvGitHubRequestURL) == "" || o.Getenv(EnvGitHubRequestToken) == "" {
		return EnvGitHubRequestURL + " and " + EnvGitHubRequestToken + " are not both set (does the job have `permissions: id-token: write`?)", false
	}
	return EnvGitHubRequestURL + " is set", true
}

func githubFetch(ctx context.Context, o *Options) (string, error) {
	u, err := url.Parse(o.Getenv(EnvGitHubRequestURL))
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "", fmt.Errorf("%s is not a URL", EnvGitHubRequestURL)
	}
	q := u.Query()
	q.Set("audience", o.Audience)
	u.RawQuery = q.Encode()
	secret := o.Getenv(EnvGitHubRequestToken)
	return tokenRequest(ctx, o, "GitHub Actions token request", http.MethodGet, u.String(), nil, "Bearer", secret, "value")
}

// --- Buildkite agent ---

func buildkiteAvailable(o *Options) (string, bool) {
	if o.Getenv(EnvBuildkiteAgentToken) == "" {
		return EnvBuildkiteAgentToken + " is not set", false
	}
	return EnvBuildkiteAgentToken + " is set", true
}

func buildkiteFetch(ctx context.Context, o *Options) (string, error) {
	job := o.Getenv(EnvBuildkiteJobID)
	if job == "" {
		return "", errors.New(EnvBuildkiteJobID + " is not set")
	}
	endpoint := o.Getenv(EnvBuildkiteAgentEndpoint)
	if endpoint == "" {
		endpoint = "https://agent.buildkite.com/v3"
	}
	target := strings.TrimRight(endpoint, "/") + "/jobs/" + url.PathEscape(job) + "/oidc/tokens"
	body, _ := json.Marshal(map[string]string{"audience": o.Audience}) // cannot fail
	secret := o.Getenv(EnvBuildkiteAgentToken)
	return tokenRequest(ctx, o, "Buildkite agent token request", http.MethodPost, target, body, "Token", secret, "token")
}

// --- HTTP helpers ---

// maxResponse bounds what signet reads of a token service's answer.
const maxResponse = 1 << 20

// tokenRequest sends a request authenticated with "scheme credential"
// (and body as JSON, if any) and returns the string field of the JSON
// answer: how CI systems and Google's IAM API hand out tokens.
func tokenRequest(ctx context.Context, o *Options, what, method, target string, body []byte, scheme, credential, field string) (string, error) {
	var out map[string]any
	err := doJSON(ctx, o, what, func() (*http.Request, error) {
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body)
		}
		req, err := http.NewRequestWithContext(ctx, method, target, rd)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", scheme+" "+credential)
		req.Header.Set("Accept", "application/json")
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		return req, nil
	}, &out, credential)
	if err != nil {
		return "", err
	}
	tok, _ := out[field].(string)
	if tok == "" {
		return "", fmt.Errorf("%s to %s: no %q in the answer", what, target, field)
	}
	return tok, nil
}

// doJSON sends the request newReq builds (again on a retry) and decodes a
// 200 answer's JSON into out. Network errors, 429 and 5xx are retried
// twice, after 1 s and 2 s. secrets are blanked out of error messages.
func doJSON(ctx context.Context, o *Options, what string, newReq func() (*http.Request, error), out any, secrets ...string) error {
	body, where, err := doHTTP(ctx, o, what, newReq, secrets...)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("%s to %s: answer is not the JSON expected%s", what, where, snippet(body, secrets))
	}
	return nil
}

// doHTTP is doJSON without the decoding: it returns a 200 answer's body
// and the URL it came from (for messages).
func doHTTP(ctx context.Context, o *Options, what string, newReq func() (*http.Request, error), secrets ...string) (body []byte, where string, err error) {
	client := o.httpClient()
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		if attempt > 0 {
			if err := o.sleep(ctx, time.Duration(attempt)*time.Second); err != nil {
				return nil, where, err
			}
		}
		req, err := newReq()
		if err != nil {
			return nil, where, fmt.Errorf("%s: %w", what, err)
		}
		where = redactURL(req)
		o.Debugf("%s: %s %s", what, req.Method, where)
		resp, err := client.Do(req)
		if err != nil {
			lastErr = fmt.Errorf("%s to %s: %s", what, where, redact(transportError(err), secrets))
			continue
		}
		var rerr error
		body, rerr = io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
		resp.Body.Close()
		switch {
		case resp.StatusCode == http.StatusOK && rerr == nil && len(body) <= maxResponse:
			return body, where, nil
		case resp.StatusCode == http.StatusOK && rerr != nil:
			lastErr = fmt.Errorf("%s to %s: reading the answer: %v", what, where, rerr)
			continue
		case resp.StatusCode == http.StatusOK:
			return nil, where, fmt.Errorf("%s to %s: answer larger than %d bytes", what, where, maxResponse)
		}
		lastErr = fmt.Errorf("%s to %s: HTTP %s%s", what, where, resp.Status, snippet(body, secrets))
		if resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode < 500 {
			return nil, where, lastErr
		}
	}
	return nil, where, lastErr
}

// transportError is err's message without the URL net/http repeats (the
// caller names it, with its query redacted).
func transportError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

// redactURL prints a request URL without user info.
func redactURL(req *http.Request) string {
	if req == nil || req.URL == nil {
		return "?"
	}
	return req.URL.Redacted()
}

// snippet returns ": " and the first line of an error body, at most 200
// bytes, with secrets and anything shaped like a JWT blanked out.
func snippet(body []byte, secrets []string) string {
	s := strings.TrimSpace(string(body))
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	s = redact(s, secrets)
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	if s == "" {
		return ""
	}
	return ": " + s
}

// jwtShape is compiled on first use: nothing runs at start-up.
var jwtShape = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*`)
})

// redact blanks out secrets and JWT-shaped runs from s.
func redact(s string, secrets []string) string {
	for _, sec := range secrets {
		if len(sec) >= 4 {
			s = strings.ReplaceAll(s, sec, "[REDACTED]")
		}
	}
	return jwtShape().ReplaceAllString(s, "[REDACTED TOKEN]")
}
