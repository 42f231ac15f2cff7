package keys

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParsePublicKey: any --key file content is parsed or rejected, never
// a panic.
func FuzzParsePublicKey(f *testing.F) {
	for _, p := range []string{
		"../../../shared/testdata/public-good/npm-registry-publish-key.pub",
		"../../../shared/testdata/conformance/managed-key-happy-path/key.pub",
	} {
		if b, err := os.ReadFile(filepath.Clean(p)); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"))
	f.Add([]byte("-----BEGIN RSA PUBLIC KEY-----\nAAAA\n-----END RSA PUBLIC KEY-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		pub, err := ParsePublicKey(data)
		if err != nil {
			return
		}
		_, _ = Verifier(pub)
	})
}
