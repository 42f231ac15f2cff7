package oidc

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// now is the tests' clock: 2027-01-15T08:00:00Z.
var now = time.Unix(1_800_000_000, 0).UTC()

var (
	keyOnce  sync.Once
	rsaKey   *rsa.PrivateKey
	ecKey    *ecdsa.PrivateKey
	edKey    ed25519.PrivateKey
	errNoNet = errors.New("test: no network")
)

func keys(t testing.TB) {
	t.Helper()
	keyOnce.Do(func() {
		rsaKey, _ = rsa.GenerateKey(rand.Reader, 2048)
		ecKey, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		_, edKey, _ = ed25519.GenerateKey(rand.Reader)
	})
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// claims returns a valid claim set (aud sigstore, valid for 10 minutes
// around now) with overrides; a nil override deletes the claim.
func claims(over map[string]any) map[string]any {
	c := map[string]any{
		"iss": "https://issuer.example",
		"sub": "repo:acme/app:ref:refs/heads/main",
		"aud": "sigstore",
		"iat": now.Add(-time.Minute).Unix(),
		"nbf": now.Add(-time.Minute).Unix(),
		"exp": now.Add(10 * time.Minute).Unix(),
	}
	for k, v := range over {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

// jwt signs claims with alg RS256, ES256 or EdDSA: real signatures, so the
// tokens look like real ones.
func jwt(t testing.TB, alg string, c map[string]any) string {
	t.Helper()
	keys(t)
	h, _ := json.Marshal(map[string]string{"alg": alg, "typ": "JWT", "kid": "k1"})
	p, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	input := b64(h) + "." + b64(p)
	sum := sha256.Sum256([]byte(input))
	var sig []byte
	switch alg {
	case "RS256":
		sig, err = rsa.SignPKCS1v15(rand.Reader, rsaKey, crypto.SHA256, sum[:])
	case "ES256":
		var r, s *big.Int
		r, s, err = ecdsa.Sign(rand.Reader, ecKey, sum[:])
		sig = append(r.FillBytes(make([]byte, 32)), s.FillBytes(make([]byte, 32))...)
	case "EdDSA":
		sig = ed25519.Sign(edKey, []byte(input))
	default:
		t.Fatalf("alg %s", alg)
	}
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + b64(sig)
}

func token(t testing.TB, over map[string]any) string { return jwt(t, "RS256", claims(over)) }

// env is a fake environment.
type env map[string]string

func (e env) get(k string) string { return e[k] }

// noNetwork fails every request: the default of testOptions.
type noNetwork struct{}

func (noNetwork) RoundTrip(*http.Request) (*http.Response, error) { return nil, errNoNet }

// rewrite sends every request to target (an httptest server URL),
// whatever host it names: for the metadata server's fixed address.
type rewrite struct{ target *url.URL }

func (r rewrite) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.URL.Scheme, req.URL.Host = r.target.Scheme, r.target.Host
	return http.DefaultTransport.RoundTrip(req)
}

// safeBuffer is a bytes.Buffer for concurrent writers.
type safeBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *safeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *safeBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testOptions are hermetic: no environment, no provider files, no
// network, no browser, a fixed clock, and all output (debug included)
// collected in out.
func testOptions(t *testing.T, e env) (Options, *safeBuffer) {
	t.Helper()
	out := &safeBuffer{}
	dir := t.TempDir()
	if _, ok := e[EnvSPIFFESocket]; !ok {
		e[EnvSPIFFESocket] = filepath.Join(dir, "no-spire.sock")
	}
	return Options{
		Getenv:              e.get,
		Transport:           noNetwork{},
		ErrOut:              out,
		Now:                 func() time.Time { return now },
		Debugf:              func(f string, a ...any) { out.Write([]byte("debug: " + fmt.Sprintf(f, a...) + "\n")) },
		FilesystemTokenPath: filepath.Join(dir, "no-token"),
		GCEProductNameFile:  filepath.Join(dir, "no-dmi"),
		OpenBrowser:         func(string) error { return errors.New("test: no browser") },
		sleep:               func(context.Context, time.Duration) error { return nil },
	}, out
}

func mustGet(t *testing.T, o Options) *Token {
	t.Helper()
	tok, err := Get(context.Background(), o)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	return tok
}

func getErr(t *testing.T, o Options, want ...string) error {
	t.Helper()
	_, err := Get(context.Background(), o)
	if err == nil {
		t.Fatalf("Get succeeded, want an error containing %q", want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q\ndoes not contain %q", err, w)
		}
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("error is not one line: %q", err)
	}
	return err
}
