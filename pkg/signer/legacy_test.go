package signer_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/bundle"

	"github.com/signetdev/signet/internal/testing/fakesigstore"
	"github.com/signetdev/signet/pkg/artifact"
	"github.com/signetdev/signet/pkg/signer"
	"github.com/signetdev/signet/pkg/verifier"
)

// TestLegacyOutputsRoundTrip: a bundle rendered in cosign's legacy formats
// reads back and verifies (legacy bundle), and the detached files carry
// what cosign v2 wrote: base64 signature, base64 of the PEM certificate,
// the timestamp JSON.
func TestLegacyOutputsRoundTrip(t *testing.T) {
	fs := fakesigstore.New(t)
	content := []byte("legacy round trip")
	b := fs.SignBlob(t, "ci@example.com", "https://issuer.example", content, fakesigstore.SignOptions{TSATimes: []time.Time{time.Now()}})

	data, err := signer.LegacyBundle(b)
	if err != nil {
		t.Fatal(err)
	}
	var lb map[string]any
	if err := json.Unmarshal(data, &lb); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"base64Signature", "cert", "rekorBundle"} {
		if lb[k] == nil {
			t.Errorf("legacy bundle lacks %q: %s", k, data)
		}
	}
	back, format, err := verifier.ParseBundle(data, false)
	if err != nil || format != verifier.FormatCosignLegacy {
		t.Fatalf("reading it back: %v (%s)", err, format)
	}
	art := artifact.Artifact{Name: "a", Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(content)), nil }}
	p := verifier.Policy{
		Identity:        verifier.Identity{SAN: verifier.Matcher{Exact: "ci@example.com"}, Issuer: verifier.Matcher{Exact: "https://issuer.example"}},
		IgnoreSCTUnsafe: true,
	}
	if _, err := verifier.Verify(context.Background(), back, art, p, fs.TrustedMaterial()); err != nil {
		t.Fatalf("legacy bundle does not verify: %v", err)
	}

	sigFile, err := signer.SignatureFile(b, true)
	if err != nil {
		t.Fatal(err)
	}
	if raw, err := base64.StdEncoding.DecodeString(string(sigFile)); err != nil || !bytes.Equal(raw, b.GetMessageSignature().GetSignature()) {
		t.Errorf("--output-signature is not the base64 signature: %q", sigFile)
	}
	certFile := signer.CertificateFile(b, true)
	pemBytes, err := base64.StdEncoding.DecodeString(string(certFile))
	if block, _ := pem.Decode(pemBytes); err != nil || block == nil || block.Type != "CERTIFICATE" {
		t.Errorf("--output-certificate is not base64 of a PEM certificate: %q", certFile)
	}
	if raw := signer.CertificateFile(b, false); !bytes.HasPrefix(raw, []byte("-----BEGIN CERTIFICATE-----")) {
		t.Errorf("--b64=false certificate is not PEM: %q", raw)
	}
	ts, err := signer.TimestampFile(b)
	if err != nil || !bytes.Contains(ts, []byte(`"SignedRFC3161Timestamp":"`)) {
		t.Errorf("timestamp file %s: %v", ts, err)
	}
	sum := sha256.Sum256(content)
	if !bytes.Equal(b.GetMessageSignature().GetMessageDigest().GetDigest(), sum[:]) {
		t.Fatal("fixture digest")
	}
}

// A key-signed legacy bundle carries no "cert": a public key there is what
// GHSA-fx35-mq7g-6g98 abused (cosign 3.1.3 stopped writing it, and
// refuses bundles that hold one).
func TestLegacyBundleNeverHoldsAKey(t *testing.T) {
	pb, err := verifier.Parts{Signature: []byte("signature bytes")}.Bundle()
	if err != nil {
		t.Fatal(err)
	}
	b, err := bundle.NewBundle(pb)
	if err != nil {
		t.Fatal(err)
	}
	data, err := signer.LegacyBundle(b)
	if err != nil {
		t.Fatal(err)
	}
	var lb map[string]any
	if err := json.Unmarshal(data, &lb); err != nil {
		t.Fatal(err)
	}
	if _, ok := lb["cert"]; ok || lb["base64Signature"] == nil {
		t.Errorf("key-signed legacy bundle: %s", data)
	}
}
