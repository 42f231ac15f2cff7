package publickey_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signetdev/signet/internal/testing/clitest"
	"github.com/signetdev/signet/pkg/keys"
)

// secretPassword is distinctive, so that finding it means a leak.
const secretPassword = "pw-Zq8#never-print-4711"

// secretForms are the spellings in which a private key could leak: its
// PEM body lines (PKCS#8, and the file it came from), its DER, and its
// private scalars, in hex and base64.
func secretForms(t *testing.T, priv crypto.Signer, files ...[]byte) []string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	var raw [][]byte
	switch k := priv.(type) {
	case *ecdsa.PrivateKey:
		b, err := k.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		raw = append(raw, b)
	case ed25519.PrivateKey:
		raw = append(raw, k.Seed())
	case *rsa.PrivateKey:
		for _, n := range append([]*big.Int{k.D}, k.Primes...) {
			raw = append(raw, n.Bytes())
		}
	default:
		t.Fatalf("unexpected key %T", priv)
	}
	raw = append(raw, der)
	var forms []string
	for _, b := range raw {
		forms = append(forms, hex.EncodeToString(b), strings.ToUpper(hex.EncodeToString(b)),
			base64.StdEncoding.EncodeToString(b), base64.RawURLEncoding.EncodeToString(b))
	}
	for _, f := range append(files, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})) {
		for _, l := range strings.Split(string(f), "\n") {
			if !strings.HasPrefix(l, "-----") && len(l) >= 16 {
				forms = append(forms, l)
			}
		}
	}
	return forms
}

func checkNoSecrets(t *testing.T, what string, r clitest.Result, secrets []string) {
	t.Helper()
	out := r.Stdout + r.Stderr
	for _, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("%s printed a secret (%.12s…):\nstdout:\n%s\nstderr:\n%s", what, s, r.Stdout, r.Stderr)
		}
	}
	if len(secrets) < 5 {
		t.Fatalf("%s: only %d secret forms to look for", what, len(secrets))
	}
}

func decrypt(t *testing.T, path, password string) crypto.Signer {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	priv, err := keys.DecryptPrivateKey(b, func(bool) ([]byte, error) { return []byte(password), nil })
	if err != nil {
		t.Fatal(err)
	}
	return priv
}

// TestKeySecretsNeverPrinted runs every key verb with --verbose, on success
// and on failure, and looks for the password and the private key, in any
// spelling, on stdout and stderr.
func TestKeySecretsNeverPrinted(t *testing.T) {
	dir := t.TempDir()
	env := clitest.Env{"COSIGN_PASSWORD": secretPassword}
	password := []string{secretPassword}

	// generate-key-pair, password from the environment and from stdin.
	gen := filepath.Join(dir, "gen")
	r := clitest.Run(t, clitest.Options{Env: env}, "--verbose", "generate-key-pair", "--output-key-prefix", gen)
	if r.Code != 0 || !strings.Contains(r.Stderr, "debug: ") {
		t.Fatalf("exit %d, stderr %q (want debug lines)", r.Code, r.Stderr)
	}
	genKey, _ := os.ReadFile(gen + ".key")
	genSecrets := append(secretForms(t, decrypt(t, gen+".key", secretPassword), genKey), password...)
	checkNoSecrets(t, "generate-key-pair", r, genSecrets)
	piped := filepath.Join(dir, "piped")
	r = clitest.Run(t, clitest.Options{Stdin: secretPassword}, "-d", "generate-key-pair", "--output-key-prefix", piped)
	if r.Code != 0 {
		t.Fatal(r.Stderr)
	}
	checkNoSecrets(t, "generate-key-pair (piped password)", r, append(secretForms(t, decrypt(t, piped+".key", secretPassword)), password...))

	// An existing key, declined: the prompt must not echo stdin either.
	r = clitest.Run(t, clitest.Options{Env: env, Stdin: secretPassword + "\n"}, "-d", "generate-key-pair", "--output-key-prefix", gen)
	if r.Code == 0 {
		t.Fatal("overwrote without a yes")
	}
	checkNoSecrets(t, "generate-key-pair (declined)", r, genSecrets)

	// import-key-pair of each openssl vector.
	for _, name := range []string{"openssl-rsa2048", "openssl-ec-p384", "openssl-ed25519"} {
		src, err := os.ReadFile(vectors + name + ".pem")
		if err != nil {
			t.Fatal(err)
		}
		prefix := filepath.Join(dir, name)
		r := clitest.Run(t, clitest.Options{Env: env}, "--verbose", "import-key-pair", "--key", vectors+name+".pem", "-o", prefix)
		if r.Code != 0 || !strings.Contains(r.Stderr, "debug: ") {
			t.Fatalf("%s: exit %d, stderr %q", name, r.Code, r.Stderr)
		}
		imported, _ := os.ReadFile(prefix + ".key")
		secrets := append(secretForms(t, decrypt(t, prefix+".key", secretPassword), src, imported), password...)
		checkNoSecrets(t, "import-key-pair "+name, r, secrets)

		// public-key: right password, wrong password, env:// reference.
		r = clitest.Run(t, clitest.Options{Env: env}, "--verbose", "public-key", "--key", prefix+".key")
		if r.Code != 0 || !strings.Contains(r.Stderr, "debug: ") {
			t.Fatalf("public-key %s: exit %d, stderr %q", name, r.Code, r.Stderr)
		}
		checkNoSecrets(t, "public-key "+name, r, secrets)
		r = clitest.Run(t, clitest.Options{Env: clitest.Env{"COSIGN_PASSWORD": secretPassword + "-wrong"}}, "--verbose", "public-key", "--key", prefix+".key")
		if r.Code == 0 {
			t.Fatal("wrong password accepted")
		}
		checkNoSecrets(t, "public-key, wrong password", r, append(secrets, secretPassword+"-wrong"))
		r = clitest.Run(t, clitest.Options{Env: clitest.Env{"COSIGN_PASSWORD": secretPassword, "K": string(imported)}}, "--verbose", "public-key", "--key", "env://K")
		if r.Code != 0 {
			t.Fatal(r.Stderr)
		}
		checkNoSecrets(t, "public-key env://", r, secrets)
		// A plain key given where a cosign key is expected.
		r = clitest.Run(t, clitest.Options{Env: env}, "--verbose", "public-key", "--key", vectors+name+".pem")
		if r.Code == 0 {
			t.Fatal("unencrypted key accepted by public-key")
		}
		checkNoSecrets(t, "public-key on a plain key", r, secrets)
	}

	// LoadSigner's errors, as the signing verbs will print them.
	wrong := secretPassword + "-typo"
	_, err := keys.LoadSigner(context.Background(), gen+".key", func(bool) ([]byte, error) { return []byte(wrong), nil }, func(string) string { return "" })
	if err == nil {
		t.Fatal("LoadSigner accepted a wrong password")
	}
	checkNoSecrets(t, "LoadSigner", clitest.Result{Stderr: err.Error()}, append(genSecrets, wrong))
}
