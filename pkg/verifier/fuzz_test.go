package verifier_test

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"

	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/signetdev/signet/internal/testing/shared"
	"github.com/signetdev/signet/pkg/verifier"

	"github.com/signetdev/signet/pkg/artifact"
)

// seedBundles adds every real bundle as a seed, when ../shared is there.
func seedBundles(f *testing.F) {
	dir, err := sharedDir()
	if err != nil {
		return
	}
	paths, _ := filepath.Glob(filepath.Join(dir, "conformance", "*", "bundle.sigstore.json"))
	more, _ := filepath.Glob(filepath.Join(dir, "public-good", "*.sigstore.json"))
	for _, p := range append(paths, more...) {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
}

func sharedDir() (string, error) { return shared.Find() }

// FuzzParseBundle: any bytes either parse or fail with an error; no panic.
func FuzzParseBundle(f *testing.F) {
	seedBundles(f)
	f.Add([]byte(`{"base64Signature":"AAAA","cert":"","rekorBundle":{"SignedEntryTimestamp":"AA==","Payload":{"body":"e30=","integratedTime":1,"logIndex":1,"logID":"00"}}}`))
	f.Add([]byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}`))
	// Rekor bodies that crashed Rekor's types (GHSA-frqx-jfcm-6jjr,
	// GHSA-273p-m2cw-6833, GHSA-843x-px86-vq42).
	for _, mb := range malformedBodies {
		f.Add([]byte(`{"base64Signature":"AAAA","rekorBundle":{"SignedEntryTimestamp":"AA==","Payload":{"body":"` +
			base64.StdEncoding.EncodeToString([]byte(mb.body)) + `","integratedTime":1,"logIndex":1,"logID":"00"}}}`))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, chain := range []bool{false, true} {
			b, _, err := verifier.ParseBundle(data, chain)
			if err == nil && b == nil {
				t.Fatal("nil bundle without error")
			}
		}
	})
}

// FuzzVerify: a parsed bundle of any content is verified or rejected; the
// verifier never panics on hostile bundles.
func FuzzVerify(f *testing.F) {
	seedBundles(f)
	dir, err := sharedDir()
	var tm root.TrustedMaterial = &root.BaseTrustedMaterial{}
	if err == nil {
		if tr, err := root.NewTrustedRootFromPath(filepath.Join(dir, "trust", "production-trusted-root.json")); err == nil {
			tm = tr
		}
	}
	d, _ := artifact.ParseDigest("sha256:a0cfc71271d6e278e57cd332ff957c3f7043fdda354c4cbb190a30d56efa01bf")
	p := verifier.Policy{Identity: exactIdentity(shared.ConformanceIdentity, shared.ConformanceIssuer)}
	f.Fuzz(func(t *testing.T, data []byte) {
		b, _, err := verifier.ParseBundle(data, false)
		if err != nil {
			return
		}
		_, _ = verifier.Verify(context.Background(), b, artifact.Artifact{Name: "a", Digest: &d}, p, tm)
	})
}

// FuzzParseClaims: certificates with odd Fulcio extensions never panic.
func FuzzParseClaims(f *testing.F) {
	if dir, err := sharedDir(); err == nil {
		paths, _ := filepath.Glob(filepath.Join(dir, "conformance", "*", "bundle.sigstore.json"))
		for _, p := range paths {
			data, _ := os.ReadFile(p)
			b, _, err := verifier.ParseBundle(data, false)
			if err != nil {
				continue
			}
			if vc, err := b.VerificationContent(); err == nil && vc.Certificate() != nil {
				f.Add(vc.Certificate().Raw)
			}
		}
	}
	f.Fuzz(func(t *testing.T, der []byte) {
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return
		}
		c, err := verifier.ParseClaims(cert)
		if err != nil {
			return
		}
		_ = verifier.Identity{SAN: verifier.Matcher{Exact: "x"}, Issuer: verifier.Matcher{Exact: "y"}}.Check(cert)
		_ = c
		_ = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	})
}
