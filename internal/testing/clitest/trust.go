package clitest

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signetdev/signet/internal/testing/fakesigstore"
	"github.com/signetdev/signet/internal/trust/trusttest"
	"github.com/signetdev/signet/pkg/verifier"
)

// TrustMode is one way a run gets its trust material: Args to add to the
// verb's flags, Opts to run it with.
type TrustMode struct {
	Name string
	Args []string
	Opts Options
}

// TrustModes serves trustedRoot both ways a verifier can be given it: as
// --trusted-root, and as the trusted_root.json target of a signed TUF
// repository served on loopback (TUF_MIRROR, TUF_ROOT_JSON, a fresh
// TUF_ROOT cache, no --trusted-root). The TUF mode runs with the real
// network, which the mirror needs; the --trusted-root mode with none.
func TrustModes(t testing.TB, trustedRoot []byte) []TrustMode {
	t.Helper()
	dir := t.TempDir()
	repo := trusttest.NewRepo(t, time.Now().Add(24*time.Hour), map[string][]byte{"trusted_root.json": trustedRoot})
	srv := repo.Serve()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	return []TrustMode{
		{Name: "trusted-root", Args: []string{"--trusted-root", write("trusted_root.json", trustedRoot)}},
		{Name: "tuf", Opts: Options{
			Transport: http.DefaultTransport,
			Env: Env{
				"TUF_ROOT":      filepath.Join(dir, "tuf-cache"),
				"TUF_MIRROR":    srv.URL,
				"TUF_ROOT_JSON": write("root.json", repo.Root1),
			},
		}},
	}
}

// WrongIdentities are identity flag sets that each get one thing wrong
// about a certificate for identity (an email SAN) from issuer: the
// identity, the issuer, as exact values and as regexps, and a GitHub
// workflow claim the certificate lacks (GHSA-8gw7-4j42-w388 (2)).
func WrongIdentities(identity, issuer string) map[string][]string {
	return map[string][]string{
		"identity":        {"--certificate-identity", "other@example.com", "--certificate-oidc-issuer", issuer},
		"identity regexp": {"--certificate-identity-regexp", "^other", "--certificate-oidc-issuer", issuer},
		"issuer":          {"--certificate-identity", identity, "--certificate-oidc-issuer", "https://other.example"},
		"issuer regexp":   {"--certificate-identity", identity, "--certificate-oidc-issuer-regexp", "^https://other"},
		"workflow flag":   {"--certificate-identity", identity, "--certificate-oidc-issuer", issuer, "--certificate-github-workflow-trigger", "push"},
	}
}

// ClaimFlags are the identity flags a fakesigstore.ClaimsLeaf
// certificate satisfies, all of them (GHSA-52v5-jr5w-gjxr), and one case
// per identity flag that gets its value wrong, regexp forms included.
func ClaimFlags() (all []string, wrong map[string][]string) {
	id := []string{"--certificate-identity", fakesigstore.ClaimsSAN, "--certificate-oidc-issuer", fakesigstore.ClaimsIssuer}
	all = append([]string{}, id...)
	for _, c := range verifier.Claims {
		all = append(all, "--certificate-"+c.Name, fakesigstore.ClaimValue(c.Name))
	}
	wrong = map[string][]string{
		"certificate-identity":                {"--certificate-identity", "https://github.com/acme/other", "--certificate-oidc-issuer", fakesigstore.ClaimsIssuer},
		"certificate-identity-regexp":         {"--certificate-identity-regexp", "^https://github.com/evil/", "--certificate-oidc-issuer", fakesigstore.ClaimsIssuer},
		"certificate-oidc-issuer":             {"--certificate-identity", fakesigstore.ClaimsSAN, "--certificate-oidc-issuer", "https://other.example"},
		"certificate-oidc-issuer-regexp":      {"--certificate-identity", fakesigstore.ClaimsSAN, "--certificate-oidc-issuer-regexp", "^https://other"},
		"identity regexp is a full-SAN match": {"--certificate-identity-regexp", "^acme$", "--certificate-oidc-issuer", fakesigstore.ClaimsIssuer},
	}
	for _, c := range verifier.Claims {
		wrong["certificate-"+c.Name] = append(append([]string{}, id...), "--certificate-"+c.Name, "wrong")
		if !strings.HasPrefix(c.Name, "github-workflow-") { // cosign has no regexp form of the legacy flags
			wrong["certificate-"+c.Name+"-regexp"] = append(append([]string{}, id...), "--certificate-"+c.Name+"-regexp", "^wrong$")
		}
	}
	return all, wrong
}

// CredentialTrap is a TUF mirror for a trusted root that records the
// credentials each request carries, and the environment that points
// signet at it with every token variable set and Docker-config
// credentials for the mirror's own host:port (GHSA-8xvp-7hj6-mcj9).
type CredentialTrap struct {
	URL string
	Env Env

	mu   sync.Mutex
	seen []string
}

// NewCredentialTrap starts the mirror; it also serves extra (path →
// content), e.g. a signature fetched by URL. It sets DOCKER_CONFIG.
func NewCredentialTrap(t *testing.T, trustedRoot []byte, extra map[string][]byte) *CredentialTrap {
	t.Helper()
	repo := trusttest.NewRepo(t, time.Now().Add(24*time.Hour), map[string][]byte{"trusted_root.json": trustedRoot})
	files := http.FileServer(http.Dir(repo.Dir))
	c := &CredentialTrap{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		c.seen = append(c.seen, r.URL.Path+" "+r.Header.Get("Authorization")+r.Header.Get("Proxy-Authorization"))
		c.mu.Unlock()
		if data, ok := extra[r.URL.Path]; ok {
			w.Write(data)
			return
		}
		files.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	c.URL = srv.URL
	host := strings.TrimPrefix(srv.URL, "http://")
	cfg, _ := json.Marshal(map[string]any{"auths": map[string]any{host: map[string]string{"auth": base64.StdEncoding.EncodeToString([]byte("u:registry-secret"))}}})
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "config.json"), cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "root.json"), repo.Root1, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DOCKER_CONFIG", dir)
	c.Env = Env{
		"TUF_ROOT": filepath.Join(dir, "tuf"), "TUF_MIRROR": srv.URL, "TUF_ROOT_JSON": filepath.Join(dir, "root.json"),
		"GITHUB_TOKEN": "ghp_secret", "SIGSTORE_ID_TOKEN": "eyJ.secret.token", "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "actions-secret",
		"ACTIONS_ID_TOKEN_REQUEST_URL": srv.URL + "/token",
	}
	return c
}

// Check fails the test unless requests reached the mirror and none
// carried credentials.
func (c *CredentialTrap) Check(t *testing.T) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.seen) < 3 {
		t.Fatalf("only %d requests reached the mirror: %v", len(c.seen), c.seen)
	}
	for _, s := range c.seen {
		if !strings.HasSuffix(s, " ") {
			t.Errorf("credentials sent: %s", s)
		}
	}
}
