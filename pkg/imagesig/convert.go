package imagesig

import (
	"time"

	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	"github.com/sigstore/sigstore-go/pkg/root"
	"google.golang.org/protobuf/proto"
	"strings"

	"github.com/sigstore/sigstore-go/pkg/bundle"

	"github.com/signetdev/signet/pkg/oci"
	"github.com/signetdev/signet/pkg/verifier"
)

// LegacyBundle turns one layer of a legacy .sig or .att image (or of a
// simple-signing referrer) into a Sigstore bundle: a message signature
// over the layer's payload (simple-signing), or the layer's DSSE envelope
// (.att), with the certificate, chain, Rekor bundle and RFC 3161
// timestamp of its annotations. Everything here is untrusted registry
// input; the bundle is only assembled, not verified.
func LegacyBundle(l oci.Layer) (*bundle.Bundle, error) {
	var parts verifier.Parts
	switch l.MediaType {
	case oci.SimpleSigningMediaType:
		sig, err := decodeSignature(l.Annotations[oci.AnnotationSignature])
		if err != nil {
			return nil, err
		}
		parts.Signature = sig
	case oci.DSSEMediaType:
		// The envelope is the layer; Parts.Bundle recognises it.
		if !strings.HasPrefix(strings.TrimSpace(string(l.Data)), "{") {
			return nil, errors.New("DSSE layer is not a JSON envelope")
		}
		parts.Signature = l.Data
	default:
		return nil, fmt.Errorf("layer media type %q is neither %s nor %s", l.MediaType, oci.SimpleSigningMediaType, oci.DSSEMediaType)
	}
	cert, chain, err := certificates(l.Annotations)
	if err != nil {
		return nil, err
	}
	parts.Certificate, parts.Chain = cert, chain
	if rb := l.Annotations[oci.AnnotationBundle]; strings.TrimSpace(rb) != "" {
		if err := parts.AddRekorBundle([]byte(rb)); err != nil {
			return nil, fmt.Errorf("annotation %s: %w", oci.AnnotationBundle, err)
		}
	}
	if ts := l.Annotations[oci.AnnotationTimestamp]; strings.TrimSpace(ts) != "" {
		der, err := parseTimestampAnnotation(ts)
		if err != nil {
			return nil, fmt.Errorf("annotation %s: %w", oci.AnnotationTimestamp, err)
		}
		parts.Timestamps = [][]byte{der}
	}
	pb, err := parts.Bundle()
	if err != nil {
		return nil, err
	}
	switch {
	case l.MediaType == oci.DSSEMediaType && pb.GetDsseEnvelope() == nil:
		return nil, errors.New("DSSE layer is not a DSSE envelope (payloadType and signatures are required)")
	case l.MediaType == oci.SimpleSigningMediaType && pb.GetMessageSignature() == nil:
		// A signature annotation that decodes to an envelope must not turn
		// a simple-signing layer into an attestation.
		return nil, fmt.Errorf("annotation %s holds a DSSE envelope, not a signature", oci.AnnotationSignature)
	}
	// A v0.1 bundle carries a chain as is; AllowCertificateChain is for
	// v0.3 and would be refused here.
	b, err := bundle.NewBundle(pb)
	if err != nil {
		return nil, fmt.Errorf("assembling a bundle: %w", err)
	}
	return b, nil
}

func decodeSignature(s string) ([]byte, error) {
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("annotation %s is missing or empty", oci.AnnotationSignature)
	}
	sig, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("annotation %s: not base64: %w", oci.AnnotationSignature, err)
	}
	if len(sig) == 0 {
		return nil, fmt.Errorf("annotation %s is empty", oci.AnnotationSignature)
	}
	return sig, nil
}

// certificates reads the certificate and chain annotations. A missing,
// empty or whitespace-only certificate means "no certificate" (a key
// signed): cosign #4760, #4998. A chain without a certificate is ignored.
func certificates(ann map[string]string) (*x509.Certificate, []*x509.Certificate, error) {
	certPEM := strings.TrimSpace(ann[oci.AnnotationCertificate])
	if certPEM == "" {
		return nil, nil, nil
	}
	certs, err := parsePEMCertificates([]byte(certPEM))
	if err != nil {
		return nil, nil, fmt.Errorf("annotation %s: %w", oci.AnnotationCertificate, err)
	}
	if len(certs) != 1 {
		return nil, nil, fmt.Errorf("annotation %s: want one certificate, found %d", oci.AnnotationCertificate, len(certs))
	}
	chain, err := parsePEMCertificates([]byte(strings.TrimSpace(ann[oci.AnnotationChain])))
	if err != nil {
		return nil, nil, fmt.Errorf("annotation %s: %w", oci.AnnotationChain, err)
	}
	return certs[0], chain, nil
}

// maxChain bounds the certificates of one chain annotation.
const maxChain = 10

func parsePEMCertificates(data []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for len(strings.TrimSpace(string(data))) > 0 {
		block, rest := pem.Decode(data)
		if block == nil {
			return nil, errors.New("not PEM")
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("PEM block %q, want CERTIFICATE", block.Type)
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
		if len(out) > maxChain {
			return nil, fmt.Errorf("more than %d certificates", maxChain)
		}
		data = rest
	}
	return out, nil
}

// parseTimestampAnnotation reads {"SignedRFC3161Timestamp":"<b64 DER>"}.
func parseTimestampAnnotation(s string) ([]byte, error) {
	var ts struct {
		SignedRFC3161Timestamp []byte `json:"SignedRFC3161Timestamp"`
	}
	if err := json.Unmarshal([]byte(s), &ts); err != nil {
		return nil, fmt.Errorf("not a cosign RFC 3161 timestamp: %w", err)
	}
	if len(ts.SignedRFC3161Timestamp) == 0 {
		return nil, errors.New("SignedRFC3161Timestamp is empty")
	}
	return ts.SignedRFC3161Timestamp, nil
}

// ReferrerBundle reads the bundle layer of a bundle referrer.
func ReferrerBundle(l oci.Layer, allowCertificateChain bool) (*bundle.Bundle, error) {
	if l.MediaType != oci.BundleMediaType {
		return nil, fmt.Errorf("layer media type %q, want %s", l.MediaType, oci.BundleMediaType)
	}
	b, _, err := verifier.ParseBundle(l.Data, allowCertificateChain)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// envelopeTimestamp handles cosign v2's legacy attestations, whose RFC
// 3161 timestamp covers the layer (the envelope) where cosign v3 and
// bundles timestamp the signature. If the layer's timestamp verifies over
// the envelope with a timestamp authority of the trusted root, and falls
// within the certificate's validity, it is taken as checked and the
// bundle is returned without it (sigstore-go would check it against the
// signature); otherwise the bundle is returned as is and sigstore-go
// checks the timestamp as a v3 one. checked reports the first case.
func envelopeTimestamp(b *bundle.Bundle, l oci.Layer, cert *x509.Certificate, tm root.TrustedMaterial) (_ *bundle.Bundle, checked bool, _ error) {
	tvd := b.GetVerificationMaterial().GetTimestampVerificationData()
	if l.MediaType != oci.DSSEMediaType || len(tvd.GetRfc3161Timestamps()) != 1 {
		return b, false, nil
	}
	der := tvd.GetRfc3161Timestamps()[0].GetSignedTimestamp()
	for _, tsa := range tm.TimestampingAuthorities() {
		got, err := tsa.Verify(der, l.Data)
		if err != nil {
			continue
		}
		if cert != nil && (got.Time.Before(cert.NotBefore) || got.Time.After(cert.NotAfter)) {
			return nil, false, fmt.Errorf("signing time check failed: the attestation's RFC 3161 timestamp (%s) is outside the certificate's validity (%s to %s)",
				got.Time.UTC().Format(time.RFC3339), cert.NotBefore.UTC().Format(time.RFC3339), cert.NotAfter.UTC().Format(time.RFC3339))
		}
		pb := proto.Clone(b.Bundle).(*protobundle.Bundle)
		pb.VerificationMaterial.TimestampVerificationData = nil
		nb, err := bundle.NewBundle(pb)
		if err != nil {
			return nil, false, fmt.Errorf("assembling a bundle: %w", err)
		}
		return nb, true, nil
	}
	return b, false, nil
}
