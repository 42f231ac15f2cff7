package keys

import (
	"bytes"
	"crypto"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sigstore/sigstore/pkg/cryptoutils"
)

// vectorPassword protects every encrypted file in testdata (README.md).
const vectorPassword = "signet-test-vector"

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// staticPass returns password and counts calls.
func staticPass(password string, calls *int) PassFunc {
	return func(bool) ([]byte, error) {
		if calls != nil {
			*calls++
		}
		return []byte(password), nil
	}
}

func samePublicKey(t *testing.T, priv crypto.Signer, pubPEM []byte) {
	t.Helper()
	want, err := cryptoutils.UnmarshalPEMToPublicKey(pubPEM)
	if err != nil {
		t.Fatal(err)
	}
	if err := cryptoutils.EqualKeys(priv.Public(), want); err != nil {
		t.Error(err)
	}
}

// Keys made by cosign v3.1.3 (and by go-securesystemslib with the other
// two accepted scrypt costs) decrypt, and hold the key their .pub names.
func TestDecryptThirdPartyVectors(t *testing.T) {
	for _, c := range []struct{ key, password, pub, kind string }{
		{"cosign-v3.1.3.key", vectorPassword, "cosign-v3.1.3.pub", "ECDSA P-256"},
		{"cosign-v3.1.3-nopass.key", "", "cosign-v3.1.3-nopass.pub", "ECDSA P-256"},
		{"cosign-import-rsa2048.key", vectorPassword, "openssl-rsa2048.pub", "RSA 2048"},
		{"cosign-import-ed25519.key", vectorPassword, "openssl-ed25519.pub", "Ed25519"},
		{"securesystemslib-n32768.key", vectorPassword, "openssl-ec-p256-pkcs8.pub", "ECDSA P-256"},
		{"securesystemslib-n131072.key", vectorPassword, "openssl-ec-p256-pkcs8.pub", "ECDSA P-256"},
	} {
		t.Run(c.key, func(t *testing.T) {
			data := readTestdata(t, c.key)
			if !IsEncryptedPrivateKey(data) {
				t.Error("IsEncryptedPrivateKey = false")
			}
			calls := 0
			priv, err := DecryptPrivateKey(data, staticPass(c.password, &calls))
			if err != nil {
				t.Fatal(err)
			}
			if calls != 1 {
				t.Errorf("password asked %d times", calls)
			}
			if got := KeyKind(priv.Public()); got != c.kind {
				t.Errorf("key kind %s, want %s", got, c.kind)
			}
			samePublicKey(t, priv, readTestdata(t, c.pub))
		})
	}
}

// The legacy PEM type is still read.
func TestDecryptCosignPEMType(t *testing.T) {
	block, _ := pem.Decode(readTestdata(t, "cosign-v3.1.3.key"))
	block.Type = PEMTypeEncryptedCosign
	priv, err := DecryptPrivateKey(pem.EncodeToMemory(block), staticPass(vectorPassword, nil))
	if err != nil {
		t.Fatal(err)
	}
	samePublicKey(t, priv, readTestdata(t, "cosign-v3.1.3.pub"))
}

func TestEncryptRoundTrip(t *testing.T) {
	plain := []byte("a PKCS#8 key would be here")
	for _, p := range []ScryptParams{LegacyScrypt, DefaultScrypt, StrongScrypt} {
		for _, password := range []string{"correct horse", ""} {
			doc, err := Encrypt(plain, []byte(password), p)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Decrypt(doc, []byte(password))
			if err != nil || !bytes.Equal(got, plain) {
				t.Errorf("N=%d %q: %q, %v", p.N, password, got, err)
			}
			if _, err := Decrypt(doc, []byte(password+"x")); !errors.Is(err, ErrWrongPassword) {
				t.Errorf("N=%d %q: wrong password gave %v", p.N, password, err)
			}
		}
	}
	if _, err := Encrypt(plain, nil, ScryptParams{N: 1024, R: 8, P: 1}); err == nil {
		t.Error("Encrypt accepted parameters cosign cannot decrypt")
	}
}

// The JSON document has cosign's shape and field order, and sizes.
func TestEncryptFormat(t *testing.T) {
	doc, err := Encrypt([]byte("x"), []byte("pw"), DefaultScrypt)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(doc), `{"kdf":{"name":"scrypt","params":{"N":65536,"r":8,"p":1},"salt":"`) ||
		!strings.Contains(string(doc), `"cipher":{"name":"nacl/secretbox","nonce":"`) ||
		!strings.Contains(string(doc), `"ciphertext":"`) {
		t.Errorf("unexpected document %s", doc)
	}
	var d encryptedKey
	if err := json.Unmarshal(doc, &d); err != nil {
		t.Fatal(err)
	}
	if len(d.KDF.Salt) != 32 || len(d.Cipher.Nonce) != 24 || len(d.Ciphertext) != 1+16 {
		t.Errorf("salt %d, nonce %d, ciphertext %d bytes", len(d.KDF.Salt), len(d.Cipher.Nonce), len(d.Ciphertext))
	}
	// Two encryptions of the same key differ (fresh salt and nonce).
	doc2, _ := Encrypt([]byte("x"), []byte("pw"), DefaultScrypt)
	if bytes.Equal(doc, doc2) {
		t.Error("two encryptions are identical")
	}
}

// editDoc changes the JSON inside the cosign vector and re-wraps it.
func editDoc(t *testing.T, edit func(m map[string]any)) []byte {
	t.Helper()
	block, _ := pem.Decode(readTestdata(t, "cosign-v3.1.3.key"))
	var m map[string]any
	if err := json.Unmarshal(block.Bytes, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: block.Type, Bytes: b})
}

func flipB64(t *testing.T, s any, i int) string {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s.(string))
	if err != nil {
		t.Fatal(err)
	}
	b[i%len(b)] ^= 1
	return base64.StdEncoding.EncodeToString(b)
}

func TestDecryptRejects(t *testing.T) {
	sub := func(m map[string]any, k string) map[string]any { return m[k].(map[string]any) }
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"tampered ciphertext", editDoc(t, func(m map[string]any) { m["ciphertext"] = flipB64(t, m["ciphertext"], 40) }),
			"decrypting: wrong password or corrupted key"},
		{"tampered authenticator", editDoc(t, func(m map[string]any) { m["ciphertext"] = flipB64(t, m["ciphertext"], 0) }),
			"decrypting: wrong password or corrupted key"},
		{"tampered salt", editDoc(t, func(m map[string]any) { sub(m, "kdf")["salt"] = flipB64(t, sub(m, "kdf")["salt"], 3) }),
			"decrypting: wrong password or corrupted key"},
		{"tampered nonce", editDoc(t, func(m map[string]any) { sub(m, "cipher")["nonce"] = flipB64(t, sub(m, "cipher")["nonce"], 3) }),
			"decrypting: wrong password or corrupted key"},
		{"small N", editDoc(t, func(m map[string]any) { sub(sub(m, "kdf"), "params")["N"] = 1024 }),
			"decrypting: unsupported scrypt parameters N=1024 r=8 p=1 (want N 32768, 65536 or 131072 with r=8, p=1)"},
		{"huge N", editDoc(t, func(m map[string]any) { sub(sub(m, "kdf"), "params")["N"] = 1 << 30 }),
			"unsupported scrypt parameters N=1073741824"},
		{"r=16", editDoc(t, func(m map[string]any) { sub(sub(m, "kdf"), "params")["r"] = 16 }),
			"unsupported scrypt parameters N=65536 r=16 p=1"},
		{"p=2", editDoc(t, func(m map[string]any) { sub(sub(m, "kdf"), "params")["p"] = 2 }),
			"unsupported scrypt parameters N=65536 r=8 p=2"},
		{"kdf", editDoc(t, func(m map[string]any) { sub(m, "kdf")["name"] = "pbkdf2" }),
			`unsupported key derivation "pbkdf2" (want "scrypt")`},
		{"cipher", editDoc(t, func(m map[string]any) { sub(m, "cipher")["name"] = "aes-gcm" }),
			`unsupported cipher "aes-gcm" (want "nacl/secretbox")`},
		{"short nonce", editDoc(t, func(m map[string]any) { sub(m, "cipher")["nonce"] = "AAAA" }),
			"nonce is 3 bytes, want 24"},
		{"short ciphertext", editDoc(t, func(m map[string]any) { m["ciphertext"] = "AAAA" }),
			"ciphertext is 3 bytes, shorter than its authenticator"},
		{"not JSON", pem.EncodeToMemory(&pem.Block{Type: PEMTypeEncrypted, Bytes: []byte("garbage")}),
			"decrypting: not an encrypted key document"},
		{"not PEM", []byte("cosign.key"), "not a PEM file"},
		{"public key", readTestdata(t, "cosign-v3.1.3.pub"), `PEM block "PUBLIC KEY" is a public key; give the private key (cosign.key)`},
		{"plain private key", readTestdata(t, "openssl-ec-p384.pem"), `PEM block "EC PRIVATE KEY" is not an encrypted cosign key; make one with import-key-pair`},
		{"certificate", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1}}), `unsupported PEM block "CERTIFICATE"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			_, err := DecryptPrivateKey(c.data, staticPass(vectorPassword, nil))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want %q", err, c.want)
			}
			if strings.HasPrefix(c.name, "huge") && time.Since(start) > time.Second {
				t.Errorf("rejecting took %v: the key was derived", time.Since(start))
			}
		})
	}
}

func TestDecryptWrongPassword(t *testing.T) {
	for _, c := range []struct{ key, password string }{
		{"cosign-v3.1.3.key", "wrong"},
		{"cosign-v3.1.3.key", ""},
		{"cosign-v3.1.3-nopass.key", vectorPassword},
		{"cosign-v3.1.3.key", vectorPassword + "\n"}, // a piped password keeps its newline, as in cosign
	} {
		_, err := DecryptPrivateKey(readTestdata(t, c.key), staticPass(c.password, nil))
		if !errors.Is(err, ErrWrongPassword) || err.Error() != "decrypting: wrong password or corrupted key" {
			t.Errorf("%s with %q: %v", c.key, c.password, err)
		}
	}
}

// The password is asked for only once the file is a cosign key, and a
// failure to get it is returned as is.
func TestDecryptPassFunc(t *testing.T) {
	calls := 0
	if _, err := DecryptPrivateKey(readTestdata(t, "cosign-v3.1.3.pub"), staticPass("x", &calls)); err == nil || calls != 0 {
		t.Errorf("err %v, %d password calls", err, calls)
	}
	boom := errors.New("no terminal")
	_, err := DecryptPrivateKey(readTestdata(t, "cosign-v3.1.3.key"), func(confirm bool) ([]byte, error) {
		if confirm {
			t.Error("decryption asked for confirmation")
		}
		return nil, boom
	})
	if !errors.Is(err, boom) {
		t.Errorf("err = %v", err)
	}
	// A nil PassFunc means the empty password.
	if _, err := DecryptPrivateKey(readTestdata(t, "cosign-v3.1.3-nopass.key"), nil); err != nil {
		t.Error(err)
	}
}
