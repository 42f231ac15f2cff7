package verifier_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"

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

// tsaSwap is trusted material whose TSAs are replaced.
type tsaSwap struct {
	root.TrustedMaterial
	tsas []root.TimestampingAuthority
}

func (s tsaSwap) TimestampingAuthorities() []root.TimestampingAuthority { return s.tsas }

// TestUnlistedTSA: a timestamp from a TSA the trusted root does not list
// is left out with one warning when another verified time remains (the
// Rekor integrated time, or a listed TSA's timestamp); without one, or
// with --use-signed-timestamps and no listed timestamp, verification
// fails. A listed TSA's timestamp is still verified.
func TestUnlistedTSA(t *testing.T) {
	fs, other := fakesigstore.New(t), fakesigstore.New(t)
	content := []byte("hello, private TSA")
	art := artifact.Artifact{Name: "a", Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(content)), nil }}
	inside := time.Now().Add(time.Minute)
	outside := time.Now().Add(30 * time.Minute)
	onlyOther := tsaSwap{fs.TrustedMaterial(), other.TrustedMaterial().TimestampingAuthorities()}
	both := tsaSwap{fs.TrustedMaterial(), append(other.TrustedMaterial().TimestampingAuthorities(), fs.TrustedMaterial().TimestampingAuthorities()...)}

	withOtherStamp := func(b *bundle.Bundle, at time.Time) *bundle.Bundle {
		nb, err := verifier.WithTimestamps(b, [][]byte{other.Timestamp(t, b.GetMessageSignature().GetSignature(), at)}, false)
		if err != nil {
			t.Fatal(err)
		}
		return nb
	}
	tests := []struct {
		name     string
		opts     fakesigstore.SignOptions
		extra    func(*bundle.Bundle) *bundle.Bundle
		tm       root.TrustedMaterial
		policy   func(*verifier.Policy)
		wantErr  string
		wantWarn string
	}{
		{name: "unlisted, integrated time remains", opts: fakesigstore.SignOptions{IntegratedTime: inside, TSATimes: []time.Time{inside}}, tm: onlyOther,
			wantWarn: "ignoring 1 RFC 3161 timestamp(s) from a TSA not in the trusted root (issued by CN=sigstore-tsa-intermediate"},
		{name: "unlisted outside validity is not used", opts: fakesigstore.SignOptions{IntegratedTime: inside, TSATimes: []time.Time{outside}}, tm: onlyOther,
			wantWarn: "the signing time comes from the Rekor integrated time"},
		{name: "unlisted, --use-signed-timestamps", opts: fakesigstore.SignOptions{IntegratedTime: inside, TSATimes: []time.Time{inside}}, tm: onlyOther,
			policy: func(p *verifier.Policy) { p.UseSignedTimestamps = true }, wantErr: "--use-signed-timestamps: the bundle's RFC 3161 timestamps come from a TSA the trusted root does not list"},
		{name: "unlisted, log ignored: no verified time", opts: fakesigstore.SignOptions{IntegratedTime: inside, TSATimes: []time.Time{inside}}, tm: onlyOther,
			policy: func(p *verifier.Policy) { p.IgnoreTlogUnsafe = true }, wantErr: "no verified signing time"},
		{name: "unlisted beside a listed one", opts: fakesigstore.SignOptions{IntegratedTime: inside, TSATimes: []time.Time{inside}}, tm: onlyOther,
			extra: func(b *bundle.Bundle) *bundle.Bundle { return withOtherStamp(b, inside) }, policy: func(p *verifier.Policy) { p.UseSignedTimestamps = true },
			wantWarn: "the signing time comes from the other timestamps"},
		{name: "listed outside validity still fails", opts: fakesigstore.SignOptions{IntegratedTime: inside, TSATimes: []time.Time{inside}}, tm: onlyOther,
			extra: func(b *bundle.Bundle) *bundle.Bundle { return withOtherStamp(b, outside) }, wantErr: "certificate chain check failed"},
		{name: "both listed: verified, no warning", opts: fakesigstore.SignOptions{IntegratedTime: inside, TSATimes: []time.Time{inside}}, tm: both,
			extra: func(b *bundle.Bundle) *bundle.Bundle { return withOtherStamp(b, inside) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := fs.SignBlob(t, "ci@example.com", "https://issuer.example", content, tc.opts)
			if tc.extra != nil {
				b = tc.extra(b)
			}
			var warnings []string
			p := verifier.Policy{
				Identity:        exactIdentity("ci@example.com", "https://issuer.example"),
				IgnoreSCTUnsafe: true,
				Warnf:           func(f string, a ...any) { warnings = append(warnings, fmt.Sprintf(f, a...)) },
			}
			if tc.policy != nil {
				tc.policy(&p)
			}
			_, err := verifier.Verify(context.Background(), b, art, p, tc.tm)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("want success: %v", err)
			case tc.wantErr != "" && err == nil:
				t.Fatalf("verified, want %q", tc.wantErr)
			case tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr):
				t.Fatalf("error %q does not contain %q", err, tc.wantErr)
			}
			if tc.wantWarn == "" && tc.wantErr == "" && len(warnings) > 0 {
				t.Errorf("unexpected warnings: %q", warnings)
			}
			if tc.wantWarn != "" && (len(warnings) != 1 || !strings.Contains(warnings[0], tc.wantWarn)) {
				t.Errorf("warnings %q, want one containing %q", warnings, tc.wantWarn)
			}
		})
	}
}
