package imagesig

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/signetdev/signet/internal/testing/fakesigstore"
	"github.com/signetdev/signet/pkg/oci"
	"github.com/signetdev/signet/pkg/signer"
)

// TestSignatureLayerRoundTrip: the legacy layer carries the bundle's
// signature, certificate, Rekor entry and timestamp in cosign's
// annotations, and reading the layer back gives the same evidence.
func TestSignatureLayerRoundTrip(t *testing.T) {
	fs := fakesigstore.New(t)
	payload := []byte(`{"critical":{}}`)
	now := time.Now()
	b := fs.SignBlob(t, "ci@example.com", "https://issuer.example", payload, fakesigstore.SignOptions{IntegratedTime: now, TSATimes: []time.Time{now}})
	l, err := SignatureLayer(b, payload, nil)
	if err != nil {
		t.Fatal(err)
	}
	if l.MediaType != oci.SimpleSigningMediaType || !bytes.Equal(l.Data, payload) {
		t.Fatalf("layer %s %q", l.MediaType, l.Data)
	}
	if got := l.Annotations[oci.AnnotationSignature]; got != base64.StdEncoding.EncodeToString(b.GetMessageSignature().GetSignature()) {
		t.Errorf("signature annotation %q", got)
	}
	for _, k := range []string{oci.AnnotationCertificate, oci.AnnotationBundle, oci.AnnotationTimestamp} {
		if strings.TrimSpace(l.Annotations[k]) == "" {
			t.Errorf("annotation %s missing", k)
		}
	}
	if _, ok := l.Annotations[oci.AnnotationChain]; !ok {
		t.Error("chain annotation missing (cosign writes it, possibly empty, with a certificate)")
	}
	back, err := LegacyBundle(l)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(back.GetMessageSignature().GetSignature(), b.GetMessageSignature().GetSignature()) {
		t.Error("signature changed")
	}
	e0, e1 := b.GetVerificationMaterial().GetTlogEntries()[0], back.GetVerificationMaterial().GetTlogEntries()[0]
	if e0.GetLogIndex() != e1.GetLogIndex() || e0.GetIntegratedTime() != e1.GetIntegratedTime() ||
		!bytes.Equal(e0.GetCanonicalizedBody(), e1.GetCanonicalizedBody()) ||
		!bytes.Equal(e0.GetInclusionPromise().GetSignedEntryTimestamp(), e1.GetInclusionPromise().GetSignedEntryTimestamp()) {
		t.Error("Rekor entry changed")
	}
	if !bytes.Equal(b.GetVerificationMaterial().GetTimestampVerificationData().GetRfc3161Timestamps()[0].GetSignedTimestamp(),
		back.GetVerificationMaterial().GetTimestampVerificationData().GetRfc3161Timestamps()[0].GetSignedTimestamp()) {
		t.Error("timestamp changed")
	}
	if _, err := AttestationLayer(b, "x", nil); err == nil {
		t.Error("a message signature became an attestation layer")
	}
}

func TestCheckLegacyServices(t *testing.T) {
	v1 := signer.Rekor{URL: "https://rekor.example", Version: 1}
	for _, tc := range []struct {
		s    signer.Services
		want string
	}{
		{signer.Services{Rekor: []signer.Rekor{v1}, TSAs: []string{"https://tsa"}}, ""},
		{signer.Services{}, ""},
		{signer.Services{Rekor: []signer.Rekor{{URL: "https://log2.example", Version: 2}}}, "Rekor v2"},
		{signer.Services{Rekor: []signer.Rekor{v1, v1}}, "one Rekor entry"},
		{signer.Services{TSAs: []string{"a", "b"}}, "one RFC 3161 timestamp"},
	} {
		err := CheckLegacyServices(tc.s)
		if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%+v: %v, want %q", tc.s, err, tc.want)
		}
	}
}
