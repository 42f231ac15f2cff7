package keys

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func pubPEM(t *testing.T) []byte {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(k.Public())
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

func TestLoadVerifier(t *testing.T) {
	p := pubPEM(t)
	file := filepath.Join(t.TempDir(), "cosign.pub")
	if err := os.WriteFile(file, p, 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"PUB": string(p)}
	getenv := func(k string) string { return env[k] }
	for _, ref := range []string{file, "env://PUB"} {
		if _, err := LoadVerifier(ref, getenv); err != nil {
			t.Errorf("%s: %v", ref, err)
		}
	}
	for ref, want := range map[string]string{
		"env://NOPE":             "environment variable NOPE (from env://NOPE) is empty or unset",
		"gcpkms://projects/x":    "gcpkms:// keys need the sigstore-kms-gcpkms plugin",
		filepath.Join(file, "x"): "not a directory",
	} {
		if strings.HasPrefix(ref, "gcpkms:") && len(KMSProviders()) > 0 {
			continue // -tags kms_*: the provider is compiled in
		}
		_, err := LoadVerifier(ref, getenv)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), "--key ") {
			t.Errorf("%s: %v, want %q", ref, err, want)
		}
	}
	big := filepath.Join(t.TempDir(), "big.pub")
	if err := os.WriteFile(big, make([]byte, maxKeyFile+1), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadVerifier(big, getenv); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("oversized key file: %v", err)
	}
}
