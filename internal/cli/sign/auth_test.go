package sign_test

import (
	"encoding/base64"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/signetdev/signet/internal/testing/clitest"
	"github.com/signetdev/signet/internal/testing/regtest"
)

// TestRegistryAuth: a registry that wants basic auth is reached with
// --registry-username/--registry-password, or with the credentials of
// ~/.docker/config.json (go-containerregistry's default keychain, here
// through DOCKER_CONFIG); without either the error names the registry's
// refusal. The password never appears in any output.
func TestRegistryAuth(t *testing.T) {
	const user, pass = "ci", "s3cret-registry-password"
	inner := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != user || p != pass {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
			return
		}
		inner.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	img, _ := random.Image(128, 1)
	tag, _ := name.NewTag(host + "/app:v1")
	if err := remote.Write(tag, img, remote.WithAuth(&authn.Basic{Username: user, Password: pass})); err != nil {
		t.Fatal(err)
	}
	h, _ := img.Digest()
	digest := tag.Context().Digest(h.String()).String()

	dir := t.TempDir()
	key, pub := regtest.KeyPair(t, dir, "cosign")
	t.Setenv("DOCKER_CONFIG", filepath.Join(dir, "empty-docker-config"))
	opts := clitest.Options{Env: clitest.Env{"COSIGN_PASSWORD": ""}, Transport: http.DefaultTransport}
	sign := []string{"sign", "--yes", "--key", key, "--use-signing-config=false", "--tlog-upload=false"}
	verify := []string{"verify", "--key", pub, "--insecure-ignore-tlog"}

	r := clitest.Run(t, opts, append(sign, digest)...)
	r.CheckErrorLine(t)
	t.Logf("without credentials: %s", r.ErrLine())
	if !strings.Contains(r.ErrLine(), "401") && !strings.Contains(strings.ToLower(r.ErrLine()), "unauthorized") {
		t.Errorf("no credentials: the error does not say the registry refused: %s", r.ErrLine())
	}

	r = clitest.Run(t, opts, append(append(sign, "--registry-username", user, "--registry-password", pass), digest)...)
	if r.Code != 0 {
		t.Fatalf("sign with --registry-username/--registry-password: %s", r.Stderr)
	}
	for _, out := range []string{r.Stdout, r.Stderr} {
		if strings.Contains(out, pass) {
			t.Errorf("the registry password was printed:\n%s", out)
		}
	}

	cfg := filepath.Join(dir, "docker")
	if err := os.MkdirAll(cfg, 0o700); err != nil {
		t.Fatal(err)
	}
	auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
	if err := os.WriteFile(filepath.Join(cfg, "config.json"), []byte(fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, host, auth)), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DOCKER_CONFIG", cfg)
	r = clitest.Run(t, opts, append(append(verify, "-d"), digest)...)
	if r.Code != 0 {
		t.Fatalf("verify with the docker config's credentials: %s", r.Stderr)
	}
	if strings.Contains(r.Stdout+r.Stderr, pass) || strings.Contains(r.Stdout+r.Stderr, auth) {
		t.Errorf("credentials printed with --verbose")
	}
}
