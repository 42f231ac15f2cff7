package attpolicy

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signetdev/signet/pkg/policy/engine"
)

// A --policy file of maxPolicySize (4 MiB) is read and compiled; one byte
// more is refused before it is read, naming the file and the limit.
func TestPolicyFileAtAndPastTheLimit(t *testing.T) {
	for _, tc := range []struct{ ext, doc string }{
		{".rego", "package signature\n\nallow := true\n"},
		{".cue", "predicateType: \"https://cosign.sigstore.dev/attestation/v1\"\n"},
	} {
		for _, n := range []int{maxPolicySize, maxPolicySize + 1} {
			file := filepath.Join(t.TempDir(), "policy"+tc.ext)
			data := append([]byte(tc.doc), bytes.Repeat([]byte{' '}, n-len(tc.doc))...)
			if err := os.WriteFile(file, data, 0o600); err != nil {
				t.Fatal(err)
			}
			c, err := Load(context.Background(), engine.Local{}, []string{file})
			if n == maxPolicySize {
				if err != nil || c == nil {
					t.Fatalf("%s at the limit: %v", tc.ext, err)
				}
				continue
			}
			if err == nil || !strings.Contains(err.Error(), "--policy "+file) || !strings.Contains(err.Error(), "larger than the 4194304 bytes allowed") {
				t.Fatalf("%s past the limit: %v", tc.ext, err)
			}
		}
	}
}
