package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"os"
	"strings"
)

// Google: identity tokens from the GCE metadata server (GCE, GKE workload
// identity, Cloud Build, Cloud Run), as plain HTTP: no Google SDK.

// defaultMetadataHost is the metadata server; GCE_METADATA_HOST replaces
// it (as in Google's client libraries).
const defaultMetadataHost = "169.254.169.254"

// onGCE reports whether this machine looks like Google Compute Engine
// (its DMI product name), the detection cosign uses.
func onGCE(o *Options) bool {
	data, err := os.ReadFile(o.GCEProductNameFile)
	if err != nil {
		return false
	}
	name := strings.TrimSpace(string(data))
	return name == "Google" || name == "Google Compute Engine"
}

func metadataHost(o *Options) string {
	if h := o.Getenv(EnvGCEMetadataHost); h != "" {
		return h
	}
	return defaultMetadataHost
}

func gceAvailable(o *Options) (string, bool) {
	if o.Getenv(EnvGCEMetadataHost) != "" {
		return EnvGCEMetadataHost + " is set", true
	}
	if onGCE(o) {
		return "Google Compute Engine (" + o.GCEProductNameFile + ")", true
	}
	return "not on Google Compute Engine and " + EnvGCEMetadataHost + " is not set", false
}

// gceGuessed: without GCE_METADATA_HOST, being on GCE does not mean a
// service account is attached; no token then means no provider.
func gceGuessed(o *Options) bool { return o.Getenv(EnvGCEMetadataHost) == "" }

// metadataGet reads a metadata server path (under /computeMetadata/v1/).
func metadataGet(ctx context.Context, o *Options, what, path string, query url.Values) ([]byte, error) {
	u := url.URL{Scheme: "http", Host: metadataHost(o), Path: "/computeMetadata/v1/" + path, RawQuery: query.Encode()}
	body, _, err := doHTTP(ctx, o, what, func() (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err == nil {
			req.Header.Set("Metadata-Flavor", "Google")
		}
		return req, err
	})
	return body, err
}

func gceIdentityFetch(ctx context.Context, o *Options) (string, error) {
	// format=full adds email and email_verified, which Fulcio's Google
	// issuer needs.
	body, err := metadataGet(ctx, o, "metadata server identity request", "instance/service-accounts/default/identity",
		url.Values{"audience": {o.Audience}, "format": {"full"}})
	if err != nil {
		return "", err
	}
	return string(body), nil
}

// --- google-impersonate: a token for GOOGLE_SERVICE_ACCOUNT_NAME ---

func impersonateAvailable(o *Options) (string, bool) {
	if o.Getenv(EnvGoogleServiceAccount) == "" {
		return EnvGoogleServiceAccount + " is not set", false
	}
	return EnvGoogleServiceAccount + " is set", true
}

// impersonateFetch asks the IAM Credentials API for an identity token of
// the target service account, authenticated with the metadata server's
// access token. cosign takes the source credentials from Application
// Default Credentials (key files, gcloud users, …); signet, having no
// Google SDK, supports the metadata server only.
func impersonateFetch(ctx context.Context, o *Options) (string, error) {
	target := o.Getenv(EnvGoogleServiceAccount)
	if o.Getenv(EnvGCEMetadataHost) == "" && !onGCE(o) {
		return "", errors.New("signet takes the credentials to impersonate " + target +
			" from the GCE metadata server only, and this is not Google Compute Engine (set GCE_METADATA_HOST, or pass a token: gcloud auth print-identity-token --impersonate-service-account=" +
			target + " --audiences=" + o.Audience + " --include-email)")
	}
	body, err := metadataGet(ctx, o, "metadata server access token request", "instance/service-accounts/default/token", nil)
	if err != nil {
		return "", err
	}
	var at struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &at); err != nil || at.AccessToken == "" {
		return "", errors.New("metadata server access token request: no access_token in the answer")
	}
	reqBody, _ := json.Marshal(map[string]any{"audience": o.Audience, "includeEmail": true}) // cannot fail
	target = strings.TrimPrefix(target, "projects/-/serviceAccounts/")
	u := strings.TrimRight(o.iamCredentialsURL, "/") + "/v1/projects/-/serviceAccounts/" + url.PathEscape(target) + ":generateIdToken"
	return tokenRequest(ctx, o, "IAM Credentials generateIdToken request", http.MethodPost, u, reqBody, "Bearer", at.AccessToken, "token")
}
