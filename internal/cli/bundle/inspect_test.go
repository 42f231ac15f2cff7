package bundle

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/signetdev/signet/internal/testing/shared"
)

// FuzzInspect: any bundle file, however damaged, is outlined or refused
// with an error, never a panic.
func FuzzInspect(f *testing.F) {
	matches, _ := filepath.Glob(filepath.Join(shared.Dir(f), "conformance", "*", "bundle.sigstore.json"))
	for _, m := range matches {
		if data, err := os.ReadFile(m); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(`{"mediaType":"x","verificationMaterial":{"timestampVerificationData":{"rfc3161Timestamps":[{"signedTimestamp":"AA=="}]}}}`))
	f.Fuzz(func(t *testing.T, data []byte) { _ = Inspect(io.Discard, data) })
}
