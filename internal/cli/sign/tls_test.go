package sign_test

import (
	"encoding/pem"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/signetdev/signet/internal/testing/clitest"
	"github.com/signetdev/signet/internal/testing/regtest"
)

// TestRegistryTLS: a registry on HTTPS with a private CA (go-containerregistry
// speaks HTTPS to 127.0.0.2, plain HTTP only to 127.0.0.1 and localhost).
// --registry-cacert with --registry-server-name (the name in its
// certificate) reaches it; without the CA the error names the certificate
// and comes at once (no retries); --allow-insecure-registry skips the check.
func TestRegistryTLS(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("no 127.0.0.2 loopback here: %v", err)
	}
	srv := httptest.NewUnstartedServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	srv.Listener = ln
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes below
	srv.StartTLS()
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "https://")
	img, _ := random.Image(128, 1)
	tag, _ := name.NewTag(host + "/app:v1")
	setup := srv.Client().Transport.(*http.Transport).Clone()
	setup.TLSClientConfig.ServerName = "example.com" // the test certificate's name; its IPs are 127.0.0.1 and ::1
	if err := remote.Write(tag, img, remote.WithTransport(setup)); err != nil {
		t.Fatal(err)
	}
	h, _ := img.Digest()
	digest := tag.Context().Digest(h.String()).String()

	dir := t.TempDir()
	key, pub := regtest.KeyPair(t, dir, "cosign")
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	opts := clitest.Options{Env: clitest.Env{"COSIGN_PASSWORD": ""}, Transport: http.DefaultTransport.(*http.Transport).Clone()}
	sign := []string{"sign", "--yes", "--key", key, "--use-signing-config=false", "--tlog-upload=false"}

	start := time.Now()
	r := clitest.Run(t, opts, append(sign, digest)...)
	r.CheckErrorLine(t)
	if !strings.Contains(r.ErrLine(), "certificate") {
		t.Errorf("without the CA: the error does not name the certificate: %s", r.ErrLine())
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("without the CA: failing took %v (retried?)", took)
	}

	tlsFlags := []string{"--registry-cacert", ca, "--registry-server-name", "example.com"}
	if r := clitest.Run(t, opts, append(append(sign, tlsFlags...), digest)...); r.Code != 0 {
		t.Fatalf("sign with --registry-cacert: %s", r.Stderr)
	}
	verify := []string{"verify", "--key", pub, "--insecure-ignore-tlog"}
	if r := clitest.Run(t, opts, append(append(verify, tlsFlags...), digest)...); r.Code != 0 {
		t.Fatalf("verify with --registry-cacert: %s", r.Stderr)
	}
	if r := clitest.Run(t, opts, append(append(verify, "--allow-insecure-registry"), digest)...); r.Code != 0 {
		t.Fatalf("verify with --allow-insecure-registry: %s", r.Stderr)
	}
}
