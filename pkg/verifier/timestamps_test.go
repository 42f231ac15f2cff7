package verifier_test

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/signetdev/signet/internal/testing/fakesigstore"
	"github.com/signetdev/signet/pkg/verifier"

	"github.com/signetdev/signet/pkg/artifact"
)

// TestBundleTimestampsAlwaysVerified: a bundle's RFC 3161 timestamps are
// the signing time even without --use-signed-timestamps. cosign, without
// the flag, accepts a bundle whose TSA time lies outside the certificate's
// validity; signet does not.
func TestBundleTimestampsAlwaysVerified(t *testing.T) {
	fs := fakesigstore.New(t)
	content := []byte("hello, timestamps")
	art := artifact.Artifact{Name: "a", Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(content)), nil }}
	base := verifier.Policy{
		Identity:        exactIdentity("ci@example.com", "https://issuer.example"),
		IgnoreSCTUnsafe: true, // fake certificates carry no SCT
	}
	now := time.Now()
	inside := now.Add(time.Minute)       // the certificate is valid for ten minutes from now
	outside := now.Add(30 * time.Minute) // after it expired, while the fake log's key is valid

	tests := []struct {
		name    string
		opts    fakesigstore.SignOptions
		policy  func(verifier.Policy) verifier.Policy
		wantErr string
	}{
		{"integrated time only", fakesigstore.SignOptions{IntegratedTime: inside}, nil, ""},
		{"TSA inside validity", fakesigstore.SignOptions{IntegratedTime: inside, TSATimes: []time.Time{inside}}, nil, ""},
		{"TSA outside validity, no flag", fakesigstore.SignOptions{IntegratedTime: inside, TSATimes: []time.Time{outside}}, nil, "certificate chain check failed"},
		{"TSA outside validity, with flag", fakesigstore.SignOptions{IntegratedTime: inside, TSATimes: []time.Time{outside}}, func(p verifier.Policy) verifier.Policy { p.UseSignedTimestamps = true; return p }, "certificate chain check failed"},
		{"flag but no TSA", fakesigstore.SignOptions{IntegratedTime: inside}, func(p verifier.Policy) verifier.Policy { p.UseSignedTimestamps = true; return p }, "signing time check failed: --use-signed-timestamps requires an RFC 3161 timestamp, and the bundle carries none"},
		{"integrated time outside validity", fakesigstore.SignOptions{IntegratedTime: outside}, nil, "integrated time outside certificate validity"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := fs.SignBlob(t, "ci@example.com", "https://issuer.example", content, tc.opts)
			p := base
			if tc.policy != nil {
				p = tc.policy(p)
			}
			_, err := verifier.Verify(context.Background(), b, art, p, fs.TrustedMaterial())
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("want success: %v", err)
			case tc.wantErr != "" && err == nil:
				t.Fatalf("verified, want %q", tc.wantErr)
			case tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr):
				t.Fatalf("error %q does not contain %q", err, tc.wantErr)
			}
		})
	}
}
