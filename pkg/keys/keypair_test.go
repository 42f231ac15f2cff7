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

func TestGenerateKeyPair(t *testing.T) {
	var confirmed []bool
	kp, err := GenerateKeyPair(func(confirm bool) ([]byte, error) {
		confirmed = append(confirmed, confirm)
		return []byte("pw"), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(confirmed) != 1 || !confirmed[0] {
		t.Errorf("password asked %v, want once with confirmation", confirmed)
	}
	if b, _ := pem.Decode(kp.PrivateKeyPEM); b == nil || b.Type != PEMTypeEncrypted {
		t.Fatalf("private key PEM %q", kp.PrivateKeyPEM)
	}
	if b, _ := pem.Decode(kp.PublicKeyPEM); b == nil || b.Type != "PUBLIC KEY" {
		t.Fatalf("public key PEM %q", kp.PublicKeyPEM)
	}
	priv, err := DecryptPrivateKey(kp.PrivateKeyPEM, staticPass("pw", nil))
	if err != nil {
		t.Fatal(err)
	}
	if KeyKind(priv.Public()) != "ECDSA P-256" {
		t.Errorf("generated %s", KeyKind(priv.Public()))
	}
	samePublicKey(t, priv, kp.PublicKeyPEM)
}

func TestParsePrivateKeyPEM(t *testing.T) {
	for _, c := range []struct{ file, kind string }{
		{"openssl-rsa2048.pem", "RSA 2048"},
		{"openssl-ec-p384.pem", "ECDSA P-384"},
		{"openssl-ec-p256-pkcs8.pem", "ECDSA P-256"},
		{"openssl-ed25519.pem", "Ed25519"},
	} {
		priv, err := ParsePrivateKeyPEM(readTestdata(t, c.file))
		if err != nil {
			t.Errorf("%s: %v", c.file, err)
			continue
		}
		if KeyKind(priv.Public()) != c.kind {
			t.Errorf("%s: %s, want %s", c.file, KeyKind(priv.Public()), c.kind)
		}
		samePublicKey(t, priv, readTestdata(t, strings.TrimSuffix(c.file, ".pem")+".pub"))
	}

	p224, err := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p224DER, err := x509.MarshalPKCS8PrivateKey(p224)
	if err != nil {
		t.Fatal(err)
	}
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p256DER, _ := x509.MarshalECPrivateKey(p256)
	legacy := &pem.Block{Type: "EC PRIVATE KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-128-CBC,00"}, Bytes: p256DER}
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"RSA 1024", readTestdata(t, "openssl-rsa1024.pem"), "RSA 1024 key rejected: key size not supported: 1024"},
		{"P-224", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p224DER}), "ECDSA P-224 key rejected"},
		{"PKCS#8 labelled EC", pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: p224DER}), "parsing EC PRIVATE KEY:"},
		{"legacy PEM encryption", pem.EncodeToMemory(legacy), "legacy PEM password (Proc-Type)"},
		{"encrypted PKCS#8", pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{0}}), "encrypted PKCS#8) is not supported"},
		{"cosign key", readTestdata(t, "cosign-v3.1.3.key"), `"ENCRYPTED SIGSTORE PRIVATE KEY" is already a cosign key`},
		{"public key", readTestdata(t, "cosign-v3.1.3.pub"), `unsupported PEM block "PUBLIC KEY"`},
		{"garbage", []byte("not pem"), "not a PEM file"},
		{"bad DER", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: []byte{0x30, 0}}), "parsing RSA PRIVATE KEY:"},
	} {
		_, err := ParsePrivateKeyPEM(c.data)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}

// An imported key decrypts to the same key, whatever its input encoding,
// and the password is asked once, with confirmation.
func TestImportKeyPair(t *testing.T) {
	for _, f := range []string{"openssl-rsa2048.pem", "openssl-ec-p384.pem", "openssl-ed25519.pem"} {
		var confirmed []bool
		kp, err := ImportKeyPair(readTestdata(t, f), func(confirm bool) ([]byte, error) {
			confirmed = append(confirmed, confirm)
			return []byte("pw"), nil
		})
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if len(confirmed) != 1 || !confirmed[0] {
			t.Errorf("%s: password asked %v", f, confirmed)
		}
		pub := readTestdata(t, strings.TrimSuffix(f, ".pem")+".pub")
		if string(kp.PublicKeyPEM) != string(pub) {
			t.Errorf("%s: public key\n%s\nwant (openssl)\n%s", f, kp.PublicKeyPEM, pub)
		}
		priv, err := DecryptPrivateKey(kp.PrivateKeyPEM, staticPass("pw", nil))
		if err != nil {
			t.Fatal(err)
		}
		samePublicKey(t, priv, pub)
	}
	calls := 0
	if _, err := ImportKeyPair(readTestdata(t, "openssl-rsa1024.pem"), staticPass("pw", &calls)); err == nil || calls != 0 {
		t.Errorf("weak key: err %v, password asked %d times", err, calls)
	}
}

func TestWriteKeyPair(t *testing.T) {
	kp := &KeyPair{PrivateKeyPEM: []byte("private\n"), PublicKeyPEM: []byte("public\n")}
	dir := t.TempDir()
	keyPath, pubPath, err := WriteKeyPair(filepath.Join(dir, "k"), kp)
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]struct {
		data string
		mode os.FileMode
	}{keyPath: {"private\n", 0o600}, pubPath: {"public\n", 0o644}} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(path)
		if string(b) != want.data || fi.Mode().Perm() != want.mode {
			t.Errorf("%s: %q mode %v, want %q %v", path, b, fi.Mode().Perm(), want.data, want.mode)
		}
	}

	// Failures leave nothing behind: a missing directory, and a .pub that
	// is a directory (found before the key is renamed into place).
	if _, _, err := WriteKeyPair(filepath.Join(dir, "missing", "k"), kp); err == nil {
		t.Error("wrote into a missing directory")
	}
	if err := os.Mkdir(filepath.Join(dir, "d.pub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, _, err := WriteKeyPair(filepath.Join(dir, "d"), kp); err == nil || !strings.Contains(err.Error(), "d.pub: is a directory") {
		t.Errorf("err = %v", err)
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if got := strings.Join(names, " "); got != "d.pub k.key k.pub" {
		t.Errorf("directory holds %s", got)
	}
}
