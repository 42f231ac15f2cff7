//go:build e2e

package e2e

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/sign"

	"github.com/signetdev/signet/internal/testing/stack"
	"github.com/signetdev/signet/pkg/oidc"
)

// countingTransport counts the requests signet makes.
type countingTransport struct{ n atomic.Int32 }

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return http.DefaultTransport.RoundTrip(r)
}

// oidcOptions are hermetic: only env is visible, no filesystem token, no
// SPIFFE socket, not on GCE, no terminal.
func oidcOptions(t *testing.T, env map[string]string) (oidc.Options, *countingTransport) {
	dir := t.TempDir()
	if _, ok := env[oidc.EnvSPIFFESocket]; !ok {
		env[oidc.EnvSPIFFESocket] = filepath.Join(dir, "none.sock")
	}
	ct := &countingTransport{}
	return oidc.Options{
		Getenv:              func(k string) string { return env[k] },
		Transport:           ct,
		FilesystemTokenPath: filepath.Join(dir, "none"),
		GCEProductNameFile:  filepath.Join(dir, "none"),
		AuthFlow:            oidc.FlowToken, // never an interactive flow here
	}, ct
}

// certificateFor asks the stack's real Fulcio for a certificate with the
// token and an ephemeral key, as signing does, and returns it.
func certificateFor(t *testing.T, env *stack.Env, tok *oidc.Token) *x509.Certificate {
	t.Helper()
	kp, err := sign.NewEphemeralKeypair(nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	der, err := sign.NewFulcio(&sign.FulcioOptions{BaseURL: env.FulcioURL, Retries: 1}).
		GetCertificate(ctx, kp, &sign.CertificateProviderOptions{IDToken: tok.Raw})
	if err != nil {
		t.Fatalf("Fulcio refused the %s token: %v", tok.Source, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// TestOIDCTokenPathsFulcio: a token from the stack's issuer, obtained
// through each non-interactive path signet supports, is checked by signet
// and accepted by the real Fulcio, whose certificate names the identity.
func TestOIDCTokenPathsFulcio(t *testing.T) {
	env := stack.Get(t)
	paths := []struct {
		source string
		setup  func(t *testing.T, tok string) (oidc.Options, *countingTransport)
	}{
		{"flag", func(t *testing.T, tok string) (oidc.Options, *countingTransport) {
			o, ct := oidcOptions(t, map[string]string{})
			o.IdentityToken = tok
			return o, ct
		}},
		{"file", func(t *testing.T, tok string) (oidc.Options, *countingTransport) {
			o, ct := oidcOptions(t, map[string]string{})
			o.IdentityToken = filepath.Join(t.TempDir(), "token")
			writeTokenFile(t, o.IdentityToken, tok)
			return o, ct
		}},
		{"SIGSTORE_ID_TOKEN", func(t *testing.T, tok string) (oidc.Options, *countingTransport) {
			return oidcOptions(t, map[string]string{oidc.EnvSigstoreIDToken: tok})
		}},
		{"filesystem", func(t *testing.T, tok string) (oidc.Options, *countingTransport) {
			o, ct := oidcOptions(t, map[string]string{})
			o.FilesystemTokenPath = filepath.Join(t.TempDir(), "oidc-token")
			writeTokenFile(t, o.FilesystemTokenPath, tok)
			return o, ct
		}},
		{"github-actions", func(t *testing.T, tok string) (oidc.Options, *countingTransport) {
			gh := fakeActionsTokenService(t, tok)
			return oidcOptions(t, map[string]string{
				oidc.EnvGitHubRequestURL:   gh.URL + "/_apis/token?api-version=2.0",
				oidc.EnvGitHubRequestToken: "request-token",
			})
		}},
	}
	for i, p := range paths {
		t.Run(p.source, func(t *testing.T) {
			req := stack.TokenRequest{ProjectPath: "acme/oidc-" + p.source, Ref: "main"}
			if i%2 == 1 {
				req.RefType, req.Ref = "tag", "v1.0."+p.source
			}
			o, ct := p.setup(t, env.Token(t, req))
			tok, err := oidc.Get(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			if tok.Source != p.source || tok.Issuer != env.OIDCIssuer {
				t.Errorf("token from %s, issuer %s", tok.Source, tok.Issuer)
			}
			if want := int32(0); p.source == "github-actions" {
				want = 1
				if ct.n.Load() != want {
					t.Errorf("%d requests, want %d", ct.n.Load(), want)
				}
			} else if ct.n.Load() != want {
				t.Errorf("%d requests, want none", ct.n.Load())
			}
			cert := certificateFor(t, env, tok)
			if len(cert.URIs) != 1 || cert.URIs[0].String() != env.Identity(req) {
				t.Errorf("certificate SAN %v, want %s", cert.URIs, env.Identity(req))
			}
		})
	}
}

// TestOIDCRejectsBeforeAnyRequest: an expired token, one for another
// audience, and a mangled one are refused by signet with a message that
// says why; no request leaves signet. The same tokens sent to Fulcio
// anyway are refused there too, so signet refuses nothing Fulcio takes.
func TestOIDCRejectsBeforeAnyRequest(t *testing.T) {
	env := stack.Get(t)
	good := env.Token(t, stack.TokenRequest{ProjectPath: "acme/rejected"})
	for _, tc := range []struct {
		name, token, want string
		kind              error
	}{
		{"expired", env.Token(t, stack.TokenRequest{ProjectPath: "acme/rejected", TTL: "-1h"}), "identity token from SIGSTORE_ID_TOKEN: expired at ", oidc.ErrExpired},
		{"wrong audience", env.Token(t, stack.TokenRequest{ProjectPath: "acme/rejected", Audience: "not-sigstore"}), `identity token from SIGSTORE_ID_TOKEN: audience is ["not-sigstore"], want "sigstore"`, oidc.ErrWrongAudience},
		{"malformed", strings.Replace(good, ".", "", 1), "identity token from SIGSTORE_ID_TOKEN: not a JWT (want three base64url parts, got 2)", oidc.ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, ct := oidcOptions(t, map[string]string{oidc.EnvSigstoreIDToken: tc.token})
			_, err := oidc.Get(context.Background(), o)
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) || !errors.Is(err, tc.kind) {
				t.Fatalf("Get: %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), tc.token) {
				t.Error("the error shows the token")
			}
			if ct.n.Load() != 0 {
				t.Errorf("%d requests made", ct.n.Load())
			}
			if tc.name == "malformed" {
				return
			}
			kp, _ := sign.NewEphemeralKeypair(nil)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if _, err := sign.NewFulcio(&sign.FulcioOptions{BaseURL: env.FulcioURL}).
				GetCertificate(ctx, kp, &sign.CertificateProviderOptions{IDToken: tc.token}); err == nil {
				t.Error("Fulcio accepted a token signet refuses")
			}
		})
	}
}

// fakeActionsTokenService answers like GitHub's Actions ID token endpoint,
// handing out tok (a token of the stack's issuer).
func fakeActionsTokenService(t *testing.T, tok string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("audience") != "sigstore" || r.Header.Get("Authorization") != "Bearer request-token" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		json.NewEncoder(w).Encode(map[string]string{"value": tok})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func writeTokenFile(t *testing.T, path, tok string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(tok+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}
