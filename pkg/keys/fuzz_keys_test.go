package keys

import (
	"os"
	"path/filepath"
	"testing"
)

// seedTestdata adds every file of testdata matching pattern to the corpus.
func seedTestdata(f *testing.F, pattern string) {
	paths, _ := filepath.Glob(filepath.Join("testdata", pattern))
	for _, p := range paths {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
}

// FuzzDecryptPrivateKey: any --key file is decrypted or rejected, never a
// panic, with the vectors' password so that valid files reach the key
// parser. (scrypt makes each valid input cost ~0.1 s.)
func FuzzDecryptPrivateKey(f *testing.F) {
	seedTestdata(f, "*.key")
	seedTestdata(f, "*.pub")
	f.Fuzz(func(t *testing.T, data []byte) {
		priv, err := DecryptPrivateKey(data, func(bool) ([]byte, error) { return []byte("signet-test-vector"), nil })
		if err == nil && priv == nil {
			t.Fatal("nil key without an error")
		}
	})
}

// FuzzDecrypt: the JSON document inside the PEM block, with cheap scrypt
// parameters ruled out before any derivation.
func FuzzDecrypt(f *testing.F) {
	doc, err := Encrypt([]byte("plaintext"), []byte("pw"), LegacyScrypt)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(doc, []byte("pw"))
	f.Add([]byte(`{"kdf":{"name":"scrypt","params":{"N":1,"r":8,"p":1},"salt":""},"cipher":{"name":"nacl/secretbox","nonce":""},"ciphertext":""}`), []byte(""))
	f.Add([]byte(`{"kdf":{"name":"scrypt","params":{"n":32768,"R":8,"P":1}}}`), []byte("pw"))
	f.Fuzz(func(t *testing.T, data, password []byte) {
		_, _ = Decrypt(data, password)
	})
}

// FuzzParsePrivateKeyPEM: any import-key-pair --key file is parsed or
// rejected, never a panic.
func FuzzParsePrivateKeyPEM(f *testing.F) {
	seedTestdata(f, "*.pem")
	seedTestdata(f, "*.key")
	f.Add([]byte("-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		priv, err := ParsePrivateKeyPEM(data)
		if err == nil && priv.Public() == nil {
			t.Fatal("key without a public key")
		}
	})
}
