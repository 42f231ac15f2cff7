package oidcissuer

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

const (
	grantDeviceCode = "urn:ietf:params:oauth:grant-type:device_code"
	oobRedirect     = "urn:ietf:wg:oauth:2.0:oob"
	// DeviceInterval is the polling interval (seconds) the device
	// endpoint asks for: the RFC's minimum unit, to keep tests short.
	DeviceInterval = 1
)

// flows is the state of the interactive flows.
type flows struct {
	mu           sync.Mutex
	secrets      map[string]string // confidential clients: client ID → secret
	pendingPolls int               // device flow: polls answered authorization_pending
	deny         bool              // device flow: answer access_denied instead of a token
	template     Request           // claims of interactive tokens (aud becomes the client ID)
	codes        map[string]*grant // authorization codes, single use
	devices      map[string]*grant // device codes
	polls        int               // device token polls seen, in total
}

// grant is an authorization in progress.
type grant struct {
	clientID    string
	redirectURI string
	challenge   string // PKCE S256 challenge
	nonce       string
	polls       int
	expires     time.Time
}

func newFlows() flows {
	return flows{secrets: map[string]string{}, pendingPolls: 1, codes: map[string]*grant{}, devices: map[string]*grant{}}
}

// WithClient registers a confidential client: its token requests must
// carry secret (form or Basic auth), and it may use client_credentials.
// Other client IDs are public clients.
func WithClient(id, secret string) Option {
	return func(i *Issuer) { i.flows.secrets[id] = secret }
}

// WithDevicePolls sets how many device token polls are answered
// "authorization_pending" before the issuer approves (default 1).
func WithDevicePolls(n int) Option { return func(i *Issuer) { i.flows.pendingPolls = n } }

// WithDeviceDenied makes the device flow end in "access_denied".
func WithDeviceDenied() Option { return func(i *Issuer) { i.flows.deny = true } }

// WithInteractiveClaims sets the claims of tokens from interactive flows
// (default: the GitLab-like defaults of Request). Their aud is always the
// client ID, and the browser flow adds the nonce.
func WithInteractiveClaims(req Request) Option { return func(i *Issuer) { i.flows.template = req } }

// DevicePolls returns how many device token polls the issuer has seen.
func (i *Issuer) DevicePolls() int {
	i.flows.mu.Lock()
	defer i.flows.mu.Unlock()
	return i.flows.polls
}

func isForm(r *http.Request) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mt == "application/x-www-form-urlencoded"
}

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

// loopback reports whether a redirect URI points back at the client's
// machine, the only kind a native app may use (RFC 8252 7.3).
func loopback(redirectURI string) bool {
	if redirectURI == oobRedirect {
		return true
	}
	u, err := url.Parse(redirectURI)
	if err != nil || u.Scheme != "http" {
		return false
	}
	switch u.Hostname() {
	case "localhost", "127.0.0.1", "::1":
		return true
	}
	return false
}

// serveAuthorize approves at once: it redirects to the client's redirect
// URI with a code, or shows the code for the out-of-band redirect.
func (i *Issuer) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	g := &grant{clientID: q.Get("client_id"), redirectURI: q.Get("redirect_uri"), challenge: q.Get("code_challenge"), nonce: q.Get("nonce")}
	switch {
	case q.Get("response_type") != "code":
		http.Error(w, "response_type must be code", http.StatusBadRequest)
		return
	case g.clientID == "":
		http.Error(w, "no client_id", http.StatusBadRequest)
		return
	case !loopback(g.redirectURI):
		http.Error(w, "redirect_uri must be a loopback URL or "+oobRedirect, http.StatusBadRequest)
		return
	case g.challenge == "" || q.Get("code_challenge_method") != "S256":
		http.Error(w, "PKCE with S256 is required", http.StatusBadRequest)
		return
	case !strings.Contains(" "+q.Get("scope")+" ", " openid "):
		http.Error(w, "scope must include openid", http.StatusBadRequest)
		return
	}
	code := randomID()
	i.flows.mu.Lock()
	g.expires = i.now().Add(time.Minute)
	i.flows.codes[code] = g
	i.flows.mu.Unlock()

	if g.redirectURI == oobRedirect {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, code+"\n")
		return
	}
	back, _ := url.Parse(g.redirectURI) // checked by loopback
	bq := back.Query()
	bq.Set("code", code)
	bq.Set("state", q.Get("state"))
	back.RawQuery = bq.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

// serveDeviceCode starts a device authorization (RFC 8628 3.1-3.2).
func (i *Issuer) serveDeviceCode(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || !isForm(r) {
		oauthError(w, http.StatusBadRequest, "invalid_request", "want a form")
		return
	}
	g := &grant{clientID: r.PostForm.Get("client_id"), challenge: r.PostForm.Get("code_challenge")}
	if g.clientID == "" {
		oauthError(w, http.StatusBadRequest, "invalid_request", "no client_id")
		return
	}
	if g.challenge == "" || r.PostForm.Get("code_challenge_method") != "S256" {
		oauthError(w, http.StatusBadRequest, "invalid_request", "PKCE with S256 is required")
		return
	}
	device, user := randomID(), strings.ToUpper(randomID()[:8])
	i.flows.mu.Lock()
	g.expires = i.now().Add(5 * time.Minute)
	i.flows.devices[device] = g
	i.flows.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"device_code":               device,
		"user_code":                 user,
		"verification_uri":          i.url + "/device",
		"verification_uri_complete": i.url + "/device?user_code=" + user,
		"expires_in":                300,
		"interval":                  DeviceInterval,
	})
}

// clientAuth returns the client ID of a token request, checking the
// secret of a confidential client.
func (i *Issuer) clientAuth(r *http.Request) (string, bool) {
	id, secret, basic := r.BasicAuth()
	if basic {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	want, confidential := i.flows.secrets[id]
	return id, id != "" && (!confidential || secret == want)
}

func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// serveGrant answers OAuth token requests: authorization_code, device_code
// and client_credentials.
func (i *Issuer) serveGrant(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "bad form")
		return
	}
	i.flows.mu.Lock()
	defer i.flows.mu.Unlock()
	client, ok := i.clientAuth(r)
	if !ok {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "unknown client or wrong secret")
		return
	}
	f := r.PostForm
	switch f.Get("grant_type") {
	case "authorization_code":
		g := i.flows.codes[f.Get("code")]
		delete(i.flows.codes, f.Get("code"))
		switch {
		case g == nil || i.now().After(g.expires):
			oauthError(w, http.StatusBadRequest, "invalid_grant", "unknown or expired code")
		case g.clientID != client || g.redirectURI != f.Get("redirect_uri"):
			oauthError(w, http.StatusBadRequest, "invalid_grant", "client or redirect_uri differ from the authorization request")
		case s256(f.Get("code_verifier")) != g.challenge:
			oauthError(w, http.StatusBadRequest, "invalid_grant", "code_verifier does not match the code_challenge")
		default:
			i.issue(w, client, g.nonce)
		}
	case grantDeviceCode:
		i.flows.polls++
		g := i.flows.devices[f.Get("device_code")]
		switch {
		case g == nil || i.now().After(g.expires):
			oauthError(w, http.StatusBadRequest, "expired_token", "unknown or expired device code")
		case g.clientID != client:
			oauthError(w, http.StatusBadRequest, "invalid_grant", "client differs from the device authorization")
		case s256(f.Get("code_verifier")) != g.challenge:
			oauthError(w, http.StatusBadRequest, "invalid_grant", "code_verifier does not match the code_challenge")
		case g.polls < i.flows.pendingPolls:
			g.polls++
			oauthError(w, http.StatusBadRequest, "authorization_pending", "the user has not approved yet")
		case i.flows.deny:
			delete(i.flows.devices, f.Get("device_code"))
			oauthError(w, http.StatusBadRequest, "access_denied", "the user refused")
		default:
			delete(i.flows.devices, f.Get("device_code"))
			i.issue(w, client, "")
		}
	case "client_credentials":
		if _, confidential := i.flows.secrets[client]; !confidential {
			oauthError(w, http.StatusUnauthorized, "unauthorized_client", "client_credentials needs a confidential client")
			return
		}
		i.issue(w, client, "")
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", fmt.Sprintf("grant_type %q", f.Get("grant_type")))
	}
}

// issue answers a token request with an ID token for client.
func (i *Issuer) issue(w http.ResponseWriter, client, nonce string) {
	req := i.flows.template
	req.Audience = client
	req.Extra = map[string]string{}
	for k, v := range i.flows.template.Extra {
		req.Extra[k] = v
	}
	if nonce != "" {
		req.Extra["nonce"] = nonce
	}
	tok, claims, err := i.Mint(req)
	if err != nil {
		oauthError(w, http.StatusInternalServerError, "server_error", err.Error())
		return
	}
	exp, _ := claims["exp"].(int64)
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": randomID(),
		"token_type":   "Bearer",
		"expires_in":   exp - i.now().Unix(),
		"id_token":     tok,
	})
}
