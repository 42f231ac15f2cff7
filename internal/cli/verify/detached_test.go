package verify_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signetdev/signet/internal/testing/clitest"
	"github.com/signetdev/signet/internal/testing/regtest"
	"github.com/signetdev/signet/pkg/oci"
)

// TestDetachedSignature: verify --signature/--payload checks a signature
// given on the command line instead of the registry's (cosign's deprecated
// detached inputs): the payload must name the image's digest, the key must
// match; without --insecure-ignore-tlog the log entry is looked up online
// and an unreachable log says so in one line.
func TestDetachedSignature(t *testing.T) {
	host := regtest.Registry(t, false)
	d := pushImage(t, host, "app")
	other := pushImage(t, host, "other")
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	l := keySigLayer(t, key, d, nil)
	dir := t.TempDir()
	payload, sig := filepath.Join(dir, "payload.json"), filepath.Join(dir, "sig")
	if err := os.WriteFile(payload, l.Data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(sig, []byte(l.Annotations[oci.AnnotationSignature]), 0o600); err != nil {
		t.Fatal(err)
	}
	keyPath := writeKey(t, key)
	opts := clitest.Options{Transport: http.DefaultTransport}

	for _, args := range [][]string{
		{"--payload", payload, "--signature", sig},
		{"--signature", l.Annotations[oci.AnnotationSignature]}, // payload made from the image, signature inline
	} {
		r := clitest.Run(t, opts, append(append([]string{"verify", "--insecure-ignore-tlog", "--key", keyPath}, args...), d.String())...)
		if r.Code != 0 || !strings.Contains(r.Stdout, d.DigestStr()) {
			t.Fatalf("%v: exit %d\n%s\n%s", args, r.Code, r.Stdout, r.Stderr)
		}
	}
	// The payload names another digest: the claims check fails.
	r := clitest.Run(t, opts, "verify", "--insecure-ignore-tlog", "--key", keyPath, "--payload", payload, "--signature", sig, other.String())
	if r.Code == 0 {
		t.Fatalf("a payload for %s verified %s", d, other)
	}
	// Another key.
	otherKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	r = clitest.Run(t, opts, "verify", "--insecure-ignore-tlog", "--key", writeKey(t, otherKey), "--payload", payload, "--signature", sig, d.String())
	if r.Code != 12 {
		t.Fatalf("other key: exit %d, want 12: %s", r.Code, r.Stderr)
	}
	// With the log: looked up at --rekor-url; unreachable, one clear line.
	r = clitest.Run(t, clitest.Options{Transport: onlyHost{host}}, "verify", "--key", keyPath, "--payload", payload, "--signature", sig, "--rekor-url", "https://rekor.example.test", d.String())
	if r.Code == 0 || !strings.Contains(r.ErrLine(), "looking the signature up in the Rekor log https://rekor.example.test (--rekor-url) failed") || !strings.Contains(r.ErrLine(), "--insecure-ignore-tlog") {
		t.Fatalf("offline lookup: exit %d, %q", r.Code, r.ErrLine())
	}
}

// onlyHost reaches the test registry and nothing else (no Rekor).
type onlyHost struct{ host string }

func (o onlyHost) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Host != o.host {
		return nil, errors.New("no route to " + r.URL.Host)
	}
	return http.DefaultTransport.RoundTrip(r)
}
