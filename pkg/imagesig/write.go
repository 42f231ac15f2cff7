package imagesig

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/sigstore/sigstore-go/pkg/bundle"

	"github.com/signetdev/signet/pkg/oci"
	"github.com/signetdev/signet/pkg/signer"
)

// SignatureLayer is the legacy .sig layer (or simple-signing referrer
// layer) cosign stores for a bundle that signs payload: the payload as
// content, the signature, certificate, chain, Rekor bundle and RFC 3161
// timestamp as annotations.
func SignatureLayer(b *bundle.Bundle, payload []byte, chain []*x509.Certificate) (oci.Layer, error) {
	ms := b.GetMessageSignature()
	if ms == nil {
		return oci.Layer{}, errors.New("a legacy image signature must be a message signature over the payload")
	}
	ann, err := legacyAnnotations(b, chain)
	if err != nil {
		return oci.Layer{}, err
	}
	ann[oci.AnnotationSignature] = base64.StdEncoding.EncodeToString(ms.GetSignature())
	return oci.Layer{MediaType: oci.SimpleSigningMediaType, Data: payload, Annotations: ann}, nil
}

// AttestationLayer is the legacy .att layer for a DSSE bundle: the
// envelope as content, an empty signature annotation (the signature is in
// the envelope), the predicate type, and the verification material (the
// timestamp over the signature, as cosign v3 writes it).
//
// The content is the envelope exactly as sigstore-go sent it to Rekor v1
// (encoding/json of the protobuf envelope): cosign checks the dsse entry's
// envelopeHash against the layer's sha256.
func AttestationLayer(b *bundle.Bundle, predicateType string, chain []*x509.Certificate) (oci.Layer, error) {
	env := b.GetDsseEnvelope()
	if env == nil {
		return oci.Layer{}, errors.New("a legacy attestation must be a DSSE envelope")
	}
	data, err := json.Marshal(env)
	if err != nil {
		return oci.Layer{}, fmt.Errorf("encoding the envelope: %w", err)
	}
	ann, err := legacyAnnotations(b, chain)
	if err != nil {
		return oci.Layer{}, err
	}
	ann[oci.AnnotationSignature] = ""
	ann[oci.AnnotationPredicateType] = predicateType
	return oci.Layer{MediaType: oci.DSSEMediaType, Data: data, Annotations: ann}, nil
}

// legacyAnnotations carries a bundle's verification material the way
// cosign's legacy storage does. The legacy form has room for one Rekor v1
// entry (with its SET) and one timestamp.
func legacyAnnotations(b *bundle.Bundle, chain []*x509.Certificate) (map[string]string, error) {
	ann := map[string]string{}
	if c := signer.CertificateFile(b, false); c != nil {
		ann[oci.AnnotationCertificate] = string(c)
		// cosign writes the chain, possibly empty, whenever it writes a
		// certificate.
		var pemChain []byte
		for _, c := range chain {
			pemChain = append(pemChain, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
		}
		ann[oci.AnnotationChain] = string(pemChain)
	}
	rb, err := signer.RekorBundleAnnotation(b)
	if err != nil {
		return nil, err
	}
	if rb != nil {
		ann[oci.AnnotationBundle] = string(rb)
	}
	if len(b.GetVerificationMaterial().GetTimestampVerificationData().GetRfc3161Timestamps()) > 1 {
		return nil, errors.New("the legacy formats hold one RFC 3161 timestamp; this signature has several")
	}
	ts, err := signer.TimestampFile(b)
	if err != nil {
		return nil, err
	}
	if ts != nil {
		ann[oci.AnnotationTimestamp] = string(ts)
	}
	return ann, nil
}

// Storage is where a new signature or attestation goes.
type Storage int

const (
	// StoreBundleReferrer pushes the Sigstore bundle as an OCI 1.1
	// referrer of the image (cosign v3's default).
	StoreBundleReferrer Storage = iota
	// StoreLegacyTag appends a layer to the sha256-<hex>.sig/.att image.
	StoreLegacyTag
	// StoreLegacyReferrer pushes the legacy simple-signing layer as a
	// referrer (--new-bundle-format=false --registry-referrers-mode=oci-1-1).
	StoreLegacyReferrer
)

// Stored is a signature ready to store: its bundle and, for the legacy
// forms, the layer that carries it.
type Stored struct {
	Bundle *bundle.Bundle
	// PredicateType is the bundle's in-toto predicate type (the sign
	// statement's for a signature).
	PredicateType string
	// Layer is the legacy layer (SignatureLayer or AttestationLayer).
	Layer oci.Layer
	// Created stamps a referrer manifest (org.opencontainers.image.created).
	Created string
}

// Store writes s for target in the chosen form. suffix is ".sig" or
// ".att"; replace (attest --replace) drops legacy layers it matches.
func Store(ctx context.Context, c *oci.Client, t oci.Target, s Stored, how Storage, suffix string, replace func(oci.Layer) bool) error {
	switch how {
	case StoreLegacyTag:
		return c.AppendLegacy(ctx, t.Digest, suffix, s.Layer, replace)
	case StoreLegacyReferrer:
		_, err := c.WriteReferrer(ctx, t, oci.LegacySignatureArtifactType, []oci.Layer{s.Layer}, map[string]string{oci.AnnotationCreated: s.Created})
		return err
	default:
		data, err := s.Bundle.MarshalJSON()
		if err != nil {
			return fmt.Errorf("encoding the bundle: %w", err)
		}
		ann := map[string]string{
			oci.AnnotationBundleContent:       "dsse-envelope",
			oci.AnnotationBundlePredicateType: s.PredicateType,
			oci.AnnotationCreated:             s.Created,
		}
		if s.Bundle.GetMessageSignature() != nil {
			ann[oci.AnnotationBundleContent] = "message-signature"
		}
		_, err = c.WriteReferrer(ctx, t, oci.BundleMediaType, []oci.Layer{{MediaType: oci.BundleMediaType, Data: data}}, ann)
		return err
	}
}

// CheckLegacyServices: cosign's legacy storage holds one Rekor v1 entry (with
// its SET) and one timestamp; refuse before anything is signed.
func CheckLegacyServices(s signer.Services) error {
	for _, r := range s.Rekor {
		if r.Version != 1 {
			return fmt.Errorf("--new-bundle-format=false: legacy image signatures cannot hold a Rekor v%d entry (%s); use the default bundle format", r.Version, r.URL)
		}
	}
	if len(s.Rekor) > 1 {
		return errors.New("--new-bundle-format=false: legacy image signatures hold one Rekor entry, and the signing config names several logs")
	}
	if len(s.TSAs) > 1 {
		return errors.New("--new-bundle-format=false: legacy image signatures hold one RFC 3161 timestamp, and the signing config names several timestamp authorities")
	}
	return nil
}
