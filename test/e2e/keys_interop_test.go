//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/signetdev/signet/internal/testing/clitest"
	"github.com/signetdev/signet/internal/testing/stack"
	"github.com/signetdev/signet/pkg/keys"
)

// runWithPassword runs a cosign binary with COSIGN_PASSWORD set (the
// stack's Command clears every COSIGN_ variable) and returns its stdout.
func runWithPassword(t *testing.T, env *stack.Env, bin, password string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := env.Command(t, ctx, bin, args...)
	cmd.Env = append(cmd.Env, "COSIGN_PASSWORD="+password)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", filepath.Base(bin), strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// signetWithPassword runs signet in-process with COSIGN_PASSWORD set and
// no network.
func signetWithPassword(t *testing.T, password string, args ...string) clitest.Result {
	t.Helper()
	r := clitest.Run(t, clitest.Options{Env: clitest.Env{"COSIGN_PASSWORD": password}}, args...)
	if r.Code != 0 || r.NetworkCalls != 0 {
		t.Fatalf("signet %s: exit %d, %d network calls\nstderr:\n%s", strings.Join(args, " "), r.Code, r.NetworkCalls, r.Stderr)
	}
	return r
}

func readString(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// cosignSignsSignetVerifies signs a blob with cosign and key, offline (no
// transparency log, no signing config), and verifies the bundle with
// signet and pub.
func cosignSignsSignetVerifies(t *testing.T, env *stack.Env, cosign, password, key, pub string) {
	t.Helper()
	dir := t.TempDir()
	blob := writeFile(t, dir, "blob.txt", "signed with "+filepath.Base(key)+"\n")
	bundle := filepath.Join(dir, "blob.sigstore.json")
	runWithPassword(t, env, cosign, password, "sign-blob", "--key", key, "--tlog-upload=false", "--use-signing-config=false",
		"--bundle", bundle, blob)
	wantVerified(t, signet(t, "verify-blob", "--key", pub, "--insecure-ignore-tlog", "--bundle", bundle, blob))
	other := writeFile(t, dir, "other.txt", "not what was signed\n")
	if r := signet(t, "verify-blob", "--key", pub, "--insecure-ignore-tlog", "--bundle", bundle, other); r.Code == 0 {
		t.Error("signet verified the bundle against another blob")
	}
}

// TestKeysCosignToSignet: key pairs cosign v3 makes (generated, with a
// password and with an empty one, and imported) load in signet: LoadSigner
// signs with them, and signet public-key prints cosign's own .pub.
func TestKeysCosignToSignet(t *testing.T) {
	env := stack.Get(t)
	cosign := env.RequireCosign(t)
	dir := t.TempDir()
	rsaPEM := filepath.Join(dir, "rsa.pem")
	writePlainKey(t, rsaPEM, "RSA")

	for _, c := range []struct{ name, password string }{{"password", "cosign-made"}, {"empty", ""}, {"imported", "imp"}} {
		t.Run(c.name, func(t *testing.T) {
			prefix := filepath.Join(dir, c.name)
			if c.name == "imported" {
				runWithPassword(t, env, cosign, c.password, "import-key-pair", "--key", rsaPEM, "--output-key-prefix", prefix)
			} else {
				runWithPassword(t, env, cosign, c.password, "generate-key-pair", "--output-key-prefix", prefix)
			}
			key, pub := prefix+".key", prefix+".pub"

			r := signetWithPassword(t, c.password, "public-key", "--key", key)
			if r.Stdout != readString(t, pub) {
				t.Errorf("signet public-key:\n%s\ncosign's .pub:\n%s", r.Stdout, readString(t, pub))
			}

			sv, err := keys.LoadSigner(context.Background(), key, func(bool) ([]byte, error) { return []byte(c.password), nil }, os.Getenv)
			if err != nil {
				t.Fatal(err)
			}
			msg := []byte("signed by signet with a cosign key")
			sig, err := sv.SignMessage(bytes.NewReader(msg))
			if err != nil {
				t.Fatal(err)
			}
			v, err := keys.LoadVerifier(pub, os.Getenv)
			if err != nil {
				t.Fatal(err)
			}
			if err := v.VerifySignature(bytes.NewReader(sig), bytes.NewReader(msg)); err != nil {
				t.Errorf("signature by the cosign key does not verify with cosign's .pub: %v", err)
			}
			if _, err := keys.LoadSigner(context.Background(), key, func(bool) ([]byte, error) { return []byte(c.password + "x"), nil }, os.Getenv); err == nil ||
				!strings.HasSuffix(err.Error(), "decrypting: wrong password or corrupted key") {
				t.Errorf("wrong password: %v", err)
			}

			cosignSignsSignetVerifies(t, env, cosign, c.password, key, pub)
		})
	}
}

// TestKeysSignetToCosign: key pairs signet makes (generated and imported)
// load in cosign v3 (and v2 when installed): cosign public-key prints
// signet's .pub, and cosign sign-blob with the signet key makes a bundle
// signet verifies with the signet .pub.
func TestKeysSignetToCosign(t *testing.T) {
	env := stack.Get(t)
	cosign := env.RequireCosign(t)
	dir := t.TempDir()
	for _, c := range []struct{ name, password, kind string }{
		{"generated", "signet-made", ""}, {"empty", "", ""}, {"imported-rsa", "imp", "RSA"}, {"imported-p384", "imp", "EC"},
		{"imported-ed25519", "imp", "Ed25519"},
	} {
		t.Run(c.name, func(t *testing.T) {
			prefix := filepath.Join(dir, c.name)
			if c.kind == "" {
				signetWithPassword(t, c.password, "generate-key-pair", "--output-key-prefix", prefix)
			} else {
				plain := filepath.Join(dir, c.name+".pem")
				writePlainKey(t, plain, c.kind)
				signetWithPassword(t, c.password, "import-key-pair", "--key", plain, "--output-key-prefix", prefix)
			}
			key, pub := prefix+".key", prefix+".pub"

			for _, bin := range []string{cosign, env.CosignV2} {
				if bin == "" {
					continue // cosign v2 is optional
				}
				if got := runWithPassword(t, env, bin, c.password, "public-key", "--key", key); got != readString(t, pub) {
					t.Errorf("%s public-key:\n%s\nsignet's .pub:\n%s", bin, got, readString(t, pub))
				}
				t.Logf("%s read the signet key", filepath.Base(filepath.Dir(bin)))
			}
			cosignSignsSignetVerifies(t, env, cosign, c.password, key, pub)
		})
	}
}

// writePlainKey writes an unencrypted private key as openssl would: an RSA
// 3072 PKCS#1 key, a P-384 SEC 1 key, or a PKCS#8 Ed25519 key.
func writePlainKey(t *testing.T, path, kind string) {
	t.Helper()
	var block *pem.Block
	switch kind {
	case "RSA":
		k, err := rsa.GenerateKey(rand.Reader, 3072)
		if err != nil {
			t.Fatal(err)
		}
		block = &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}
	case "EC":
		k, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		der, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		block = &pem.Block{Type: "EC PRIVATE KEY", Bytes: der}
	case "Ed25519":
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		block = &pem.Block{Type: "PRIVATE KEY", Bytes: der}
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
}
