// Package oidcissuer is a small OpenID Connect issuer for tests. It serves
// discovery, a JWKS and a /token endpoint that mints RS256 ID tokens shaped
// like GitLab CI `id_tokens` (audience "sigstore" by default), so a local
// Fulcio configured with the gitlab-pipeline ci-provider issues certificates
// carrying the GitLab extensions.
//
// Every claim can be overridden per request, the audience and the lifetime
// included (a negative TTL mints an already expired token), so tests can
// also mint tokens that Fulcio must reject.
//
// It also serves the interactive OAuth flows a CLI runs, approving every
// request by itself: an authorization endpoint (code flow with PKCE S256
// and nonce; the redirect goes straight back to the client, or the code is
// shown for the out-of-band redirect), a device authorization endpoint
// (approved after a set number of polls) and the client_credentials grant.
// Their ID tokens carry the same claims, with aud set to the client ID.
package oidcissuer

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// DefaultAudience is the audience Fulcio's public-good config expects.
const DefaultAudience = "sigstore"

// DefaultTTL is the lifetime of a token when the request sets none.
const DefaultTTL = 10 * time.Minute

// Request describes one token. Zero fields take the GitLab-like defaults
// listed on each field. Claims set in Extra are applied last and win over
// everything derived; claims named in Omit are removed from the token.
type Request struct {
	ProjectPath       string            `json:"project_path,omitempty"`       // "group/project"
	Ref               string            `json:"ref,omitempty"`                // "main"
	RefType           string            `json:"ref_type,omitempty"`           // "branch" or "tag"; default "branch"
	PipelineSource    string            `json:"pipeline_source,omitempty"`    // "push"
	RunnerEnvironment string            `json:"runner_environment,omitempty"` // "gitlab-hosted"
	Environment       string            `json:"environment,omitempty"`        // omitted when empty
	Sha               string            `json:"sha,omitempty"`                // fixed 40-hex value
	Subject           string            `json:"sub,omitempty"`                // project_path:P:ref_type:T:ref:R
	Audience          string            `json:"aud,omitempty"`                // DefaultAudience
	Issuer            string            `json:"iss,omitempty"`                // the issuer's own URL
	TTL               string            `json:"ttl,omitempty"`                // Go duration or seconds; may be negative
	Extra             map[string]string `json:"claims,omitempty"`             // any claim, verbatim
	Omit              []string          `json:"omit,omitempty"`               // claims to drop
}

// Issuer mints and publishes tokens. Create it with New.
type Issuer struct {
	url        string
	gitlabHost string
	key        *rsa.PrivateKey
	kid        string
	now        func() time.Time

	flows flows // interactive flows (interactive.go)
}

// Option configures an Issuer.
type Option func(*Issuer)

// WithGitLabHost sets the host used in ci_config_ref_uri (and so in the
// certificate SAN). Default "gitlab.example.com".
func WithGitLabHost(host string) Option { return func(i *Issuer) { i.gitlabHost = host } }

// WithClock replaces time.Now, for tests.
func WithClock(now func() time.Time) Option { return func(i *Issuer) { i.now = now } }

// New returns an issuer whose `iss` is issuerURL (no trailing slash) and
// whose tokens are signed with key; a nil key generates an RSA-2048 key.
func New(issuerURL string, key *rsa.PrivateKey, opts ...Option) (*Issuer, error) {
	issuerURL = strings.TrimRight(issuerURL, "/")
	if issuerURL == "" {
		return nil, errors.New("oidcissuer: empty issuer URL")
	}
	if key == nil {
		var err error
		if key, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			return nil, fmt.Errorf("oidcissuer: generating key: %w", err)
		}
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("oidcissuer: encoding public key: %w", err)
	}
	sum := sha256.Sum256(der)
	i := &Issuer{
		url:        issuerURL,
		gitlabHost: "gitlab.example.com",
		key:        key,
		kid:        hex.EncodeToString(sum[:8]),
		now:        time.Now,
		flows:      newFlows(),
	}
	for _, o := range opts {
		o(i)
	}
	return i, nil
}

// LoadOrCreateKey reads an RSA private key (PKCS#8 or PKCS#1 PEM) from path,
// or generates one and writes it there (mode 0600) when the file is missing.
// A restarted issuer then keeps its key, so relying parties' cached JWKS stay
// valid.
func LoadOrCreateKey(path string) (*rsa.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, err
		}
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
			return nil, fmt.Errorf("writing key %q: %w", path, err)
		}
		return key, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading key %q: %w", path, err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("reading key %q: no PEM block", path)
	}
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parsing key %q: %w", path, err)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("key %q is %T, want RSA", path, k)
	}
	return rk, nil
}

// URL is the issuer URL (the `iss` claim and discovery base).
func (i *Issuer) URL() string { return i.url }

// Handler serves /.well-known/openid-configuration, /jwks and /token
// (GET with query parameters, or POST with a JSON Request body).
func (i *Issuer) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", i.serveDiscovery)
	mux.HandleFunc("GET /jwks", i.serveJWKS)
	mux.HandleFunc("GET /token", i.serveToken)
	mux.HandleFunc("POST /token", i.serveToken)
	mux.HandleFunc("GET /authorize", i.serveAuthorize)
	mux.HandleFunc("POST /device/code", i.serveDeviceCode)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	return mux
}

func (i *Issuer) serveDiscovery(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                i.url,
		"jwks_uri":                              i.url + "/jwks",
		"token_endpoint":                        i.url + "/token",
		"authorization_endpoint":                i.url + "/authorize",
		"device_authorization_endpoint":         i.url + "/device/code",
		"code_challenge_methods_supported":      []string{"S256"},
		"grant_types_supported":                 []string{"authorization_code", grantDeviceCode, "client_credentials"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post", "none"},
		"scopes_supported":                      []string{"openid", "email"},
		"response_types_supported":              []string{"code", "id_token"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"claims_supported":                      []string{"iss", "sub", "aud", "exp", "iat", "nbf", "jti", "project_path", "ref", "ref_type"},
	})
}

func (i *Issuer) serveJWKS(w http.ResponseWriter, _ *http.Request) {
	pub := i.key.PublicKey
	writeJSON(w, http.StatusOK, map[string]any{"keys": []map[string]string{{
		"kty": "RSA",
		"alg": "RS256",
		"use": "sig",
		"kid": i.kid,
		"n":   b64(pub.N.Bytes()),
		"e":   b64(big.NewInt(int64(pub.E)).Bytes()),
	}}})
}

// tokenResponse is what /token answers.
type tokenResponse struct {
	Token     string         `json:"token"`
	ExpiresAt int64          `json:"expires_at"`
	Claims    map[string]any `json:"claims"`
}

func (i *Issuer) serveToken(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost && isForm(r) {
		i.serveGrant(w, r) // an OAuth token request (interactive.go)
		return
	}
	var req Request
	if r.Method == http.MethodPost && r.ContentLength != 0 {
		dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "decoding request: " + err.Error()})
			return
		}
	}
	req.mergeQuery(r.URL.Query())
	tok, claims, err := i.Mint(req)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	exp, _ := claims["exp"].(int64)
	writeJSON(w, http.StatusOK, tokenResponse{Token: tok, ExpiresAt: exp, Claims: claims})
}

// mergeQuery copies query parameters into req. Known names fill the typed
// fields, "omit" is a comma-separated list, and any other parameter is an
// extra claim.
func (req *Request) mergeQuery(q map[string][]string) {
	for name, vals := range q {
		v := vals[len(vals)-1]
		switch name {
		case "project_path", "identity":
			req.ProjectPath = v
		case "ref":
			req.Ref = v
		case "ref_type":
			req.RefType = v
		case "pipeline_source":
			req.PipelineSource = v
		case "runner_environment":
			req.RunnerEnvironment = v
		case "environment":
			req.Environment = v
		case "sha":
			req.Sha = v
		case "sub":
			req.Subject = v
		case "aud":
			req.Audience = v
		case "iss":
			req.Issuer = v
		case "ttl":
			req.TTL = v
		case "omit":
			for _, c := range strings.Split(v, ",") {
				if c = strings.TrimSpace(c); c != "" {
					req.Omit = append(req.Omit, c)
				}
			}
		default:
			if req.Extra == nil {
				req.Extra = map[string]string{}
			}
			req.Extra[name] = v
		}
	}
}

// ParseTTL accepts a Go duration ("10m", "-1h") or a number of seconds.
func ParseTTL(s string) (time.Duration, error) {
	if s == "" {
		return DefaultTTL, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid ttl %q: want a duration like 10m or -1h, or seconds", s)
	}
	return d, nil
}

// Claims returns the claim set Mint would sign for req.
func (i *Issuer) Claims(req Request) (map[string]any, error) {
	ttl, err := ParseTTL(req.TTL)
	if err != nil {
		return nil, err
	}
	projectPath := def(req.ProjectPath, "group/project")
	namespace, _, ok := strings.Cut(projectPath, "/")
	if !ok || namespace == "" {
		return nil, fmt.Errorf("invalid project_path %q: want group/project", projectPath)
	}
	if i := strings.LastIndex(projectPath, "/"); i > 0 {
		namespace = projectPath[:i] // subgroups: the owner is everything but the last element
	}
	ref := def(req.Ref, "main")
	refType := def(req.RefType, "branch")
	refPath := "refs/heads/" + ref
	if refType != "branch" {
		refPath = "refs/tags/" + ref
	}
	sha := def(req.Sha, "5d6b7a3f0c1e2d4b8a9f0e1d2c3b4a5968776655")
	now := i.now()
	claims := map[string]any{
		"iss":                    def(req.Issuer, i.url),
		"sub":                    def(req.Subject, "project_path:"+projectPath+":ref_type:"+refType+":ref:"+ref),
		"aud":                    def(req.Audience, DefaultAudience),
		"iat":                    now.Unix(),
		"nbf":                    now.Add(-time.Minute).Unix(),
		"exp":                    now.Add(ttl).Unix(),
		"jti":                    randomID(),
		"namespace_id":           "1001",
		"namespace_path":         namespace,
		"project_id":             "42",
		"project_path":           projectPath,
		"project_visibility":     "public",
		"user_id":                "7",
		"user_login":             "signet-ci",
		"user_email":             "signet-ci@example.com",
		"pipeline_id":            "1000",
		"pipeline_source":        def(req.PipelineSource, "push"),
		"job_id":                 "2000",
		"ref":                    ref,
		"ref_type":               refType,
		"ref_path":               refPath,
		"ref_protected":          "true",
		"runner_id":              "3",
		"runner_environment":     def(req.RunnerEnvironment, "gitlab-hosted"),
		"sha":                    sha,
		"ci_config_ref_uri":      i.gitlabHost + "/" + projectPath + "//.gitlab-ci.yml@" + refPath,
		"ci_config_sha":          sha,
		"project_default_branch": "main",
	}
	if ttl < 0 {
		// An expired token must also have been issued before it expired.
		claims["iat"] = now.Add(ttl - time.Minute).Unix()
		claims["nbf"] = now.Add(ttl - time.Minute).Unix()
	}
	if req.Environment != "" {
		claims["environment"] = req.Environment
	}
	for k, v := range req.Extra {
		claims[k] = v
	}
	for _, k := range req.Omit {
		delete(claims, k)
	}
	return claims, nil
}

// Mint signs a token for req and returns it with its claims.
func (i *Issuer) Mint(req Request) (string, map[string]any, error) {
	claims, err := i.Claims(req)
	if err != nil {
		return "", nil, err
	}
	header, err := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT", "kid": i.kid})
	if err != nil {
		return "", nil, err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", nil, err
	}
	signingInput := b64(header) + "." + b64(payload)
	digest := sha256.Sum256([]byte(signingInput))
	sig, err := rsa.SignPKCS1v15(rand.Reader, i.key, crypto.SHA256, digest[:])
	if err != nil {
		return "", nil, fmt.Errorf("signing token: %w", err)
	}
	return signingInput + "." + b64(sig), claims, nil
}

func def(v, d string) string {
	if v == "" {
		return d
	}
	return v
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
