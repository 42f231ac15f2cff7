package verifier

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"google.golang.org/protobuf/proto"

	"github.com/signetdev/signet/pkg/artifact"
)

// MaxBundleSize bounds what is read from a bundle file. DSSE payloads
// (SBOMs) can be large; cosign caps attachments at 128 MiB.
const MaxBundleSize = 128 << 20

// Format says which bundle format a file was in.
type Format string

const (
	FormatSigstore     Format = "sigstore"      // protobuf bundle v0.1–v0.3
	FormatCosignLegacy Format = "cosign-legacy" // {"base64Signature","cert","rekorBundle"}
)

// ParseBundle reads a Sigstore bundle (v0.1, v0.2, v0.3) or a legacy cosign
// bundle and returns it as a Sigstore bundle. A legacy bundle becomes a
// v0.1 bundle (its Rekor entry has an inclusion promise only) or, without
// a Rekor entry, a v0.3 bundle.
func ParseBundle(data []byte, allowCertificateChain bool) (*bundle.Bundle, Format, error) {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, "", fmt.Errorf("not valid JSON: %w", err)
	}
	var opts []bundle.Option
	if allowCertificateChain {
		opts = append(opts, bundle.AllowCertificateChain())
	}
	if _, ok := probe["mediaType"]; ok {
		b := &bundle.Bundle{}
		for _, o := range opts {
			o(b)
		}
		if err := b.UnmarshalJSON(data); err != nil {
			return nil, FormatSigstore, fmt.Errorf("invalid Sigstore bundle: %s", describeParseError(err))
		}
		return b, FormatSigstore, nil
	}
	if _, ok := probe["base64Signature"]; ok {
		pb, err := parseLegacyBundle(data)
		if err != nil {
			return nil, FormatCosignLegacy, fmt.Errorf("invalid cosign bundle: %w", err)
		}
		// sigstore-go refuses the chain option below v0.3, and a legacy
		// bundle becomes v0.1 when it has a Rekor entry (bundle create and
		// upgrade ask for chains on whatever they read).
		if pb.GetMediaType() == mediaTypeV01 {
			opts = nil
		}
		b, err := bundle.NewBundle(pb, opts...)
		if err != nil {
			return nil, FormatCosignLegacy, fmt.Errorf("invalid cosign bundle: %s", describeParseError(err))
		}
		return b, FormatCosignLegacy, nil
	}
	return nil, "", errors.New(`neither a Sigstore bundle (no "mediaType") nor a cosign bundle (no "base64Signature")`)
}

// describeParseError names the part of the bundle a parse error is about:
// sigstore-go reports a damaged Rekor entry body only as "not a
// recognizable Rekor v1 or Rekor v2 type".
func describeParseError(err error) string {
	msg := oneLine(err.Error())
	if strings.Contains(msg, "entry body is not a recognizable Rekor") {
		return "transparency log entry: the canonicalized body is not a valid Rekor entry: " + msg
	}
	return msg
}

// legacyBundle is cosign's LocalSignedPayload (sign-blob --bundle before v3).
type legacyBundle struct {
	Base64Signature string             `json:"base64Signature"`
	Cert            string             `json:"cert"`
	RekorBundle     *legacyRekorBundle `json:"rekorBundle"`
}

type legacyRekorBundle struct {
	SignedEntryTimestamp []byte `json:"SignedEntryTimestamp"`
	Payload              struct {
		Body           string `json:"body"`
		IntegratedTime int64  `json:"integratedTime"`
		LogIndex       int64  `json:"logIndex"`
		LogID          string `json:"logID"`
	} `json:"Payload"`
}

func parseLegacyBundle(data []byte) (*protobundle.Bundle, error) {
	parts, err := LegacyParts(data)
	if err != nil {
		return nil, err
	}
	return parts.Bundle()
}

// LegacyParts reads a legacy cosign bundle into its parts (bundle create
// adds a timestamp and the log's inclusion proof to them).
func LegacyParts(data []byte) (Parts, error) {
	var lb legacyBundle
	if err := json.Unmarshal(data, &lb); err != nil {
		return Parts{}, err
	}
	sig, err := base64.StdEncoding.DecodeString(lb.Base64Signature)
	if err != nil {
		return Parts{}, fmt.Errorf("base64Signature: %w", err)
	}
	if len(sig) == 0 {
		return Parts{}, errors.New("base64Signature is empty")
	}
	parts := Parts{Signature: sig}
	if lb.Cert != "" {
		pemBytes, err := base64.StdEncoding.DecodeString(lb.Cert)
		if err != nil {
			return Parts{}, fmt.Errorf("cert: %w", err)
		}
		block, _ := pem.Decode(pemBytes)
		if block == nil {
			return Parts{}, errors.New("cert: not PEM")
		}
		switch block.Type {
		case "CERTIFICATE":
			cert, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				return Parts{}, fmt.Errorf("cert: %w", err)
			}
			parts.Certificate = cert
		case "PUBLIC KEY":
			// Key-signed: the key to trust comes from --key, not the bundle.
		default:
			return Parts{}, fmt.Errorf("cert: unexpected PEM block %q", block.Type)
		}
	}
	if lb.RekorBundle != nil {
		tle, err := legacyTlogEntry(lb.RekorBundle)
		if err != nil {
			return Parts{}, fmt.Errorf("rekorBundle: %w", err)
		}
		parts.TlogEntries = append(parts.TlogEntries, tle)
		if digest, ok := hashedRekordDigest(tle.CanonicalizedBody); ok {
			parts.MessageDigest = &digest
		}
	}
	return parts, nil
}

func legacyTlogEntry(rb *legacyRekorBundle) (*protorekor.TransparencyLogEntry, error) {
	body, err := base64.StdEncoding.DecodeString(rb.Payload.Body)
	if err != nil {
		return nil, fmt.Errorf("Payload.body: %w", err)
	}
	logID, err := hex.DecodeString(rb.Payload.LogID)
	if err != nil {
		return nil, fmt.Errorf("Payload.logID: %w", err)
	}
	var kv struct {
		Kind       string `json:"kind"`
		APIVersion string `json:"apiVersion"`
	}
	if err := json.Unmarshal(body, &kv); err != nil {
		return nil, fmt.Errorf("Payload.body: %w", err)
	}
	return &protorekor.TransparencyLogEntry{
		LogIndex:          rb.Payload.LogIndex,
		LogId:             &protocommon.LogId{KeyId: logID},
		KindVersion:       &protorekor.KindVersion{Kind: kv.Kind, Version: kv.APIVersion},
		IntegratedTime:    rb.Payload.IntegratedTime,
		InclusionPromise:  &protorekor.InclusionPromise{SignedEntryTimestamp: rb.SignedEntryTimestamp},
		CanonicalizedBody: body,
	}, nil
}

// hashedRekordDigest reads the artifact digest a hashedrekord entry logged.
func hashedRekordDigest(body []byte) (artifact.Digest, bool) {
	var e struct {
		Kind string `json:"kind"`
		Spec struct {
			Data struct {
				Hash struct {
					Algorithm string `json:"algorithm"`
					Value     string `json:"value"`
				} `json:"hash"`
			} `json:"data"`
		} `json:"spec"`
	}
	if json.Unmarshal(body, &e) != nil || e.Kind != "hashedrekord" {
		return artifact.Digest{}, false
	}
	d, err := artifact.NewDigest(e.Spec.Data.Hash.Algorithm, e.Spec.Data.Hash.Value)
	return d, err == nil
}

// Parts are the pieces of a signature given separately (cosign's
// deprecated --signature/--certificate/--rfc3161-timestamp inputs, or a
// legacy bundle), to be assembled into a bundle.
type Parts struct {
	Signature []byte
	// MessageDigest is the artifact digest the signature covers, when
	// known (a hashedrekord entry records it).
	MessageDigest *artifact.Digest
	// DigestAlgorithm is the hash to apply to the artifact when
	// MessageDigest is unknown (cosign's --signature-digest-algorithm).
	DigestAlgorithm crypto.Hash
	Certificate     *x509.Certificate
	// Chain is the certificate's issuers, leaf-most first.
	Chain       []*x509.Certificate
	TlogEntries []*protorekor.TransparencyLogEntry
	Timestamps  [][]byte
}

// Detached parts become a v0.1 bundle: the only version that accepts both
// a certificate chain and Rekor entries with a promise (SET) but no proof.
const mediaTypeV01 = "application/vnd.dev.sigstore.bundle+json;version=0.1"

// Bundle assembles the parts. A signature that is a DSSE envelope (cosign
// v2 attest-blob wrote the envelope as the "signature") becomes DSSE
// content; anything else is a message signature.
func (p Parts) Bundle() (*protobundle.Bundle, error) {
	pb := &protobundle.Bundle{VerificationMaterial: &protobundle.VerificationMaterial{}}
	if p.Certificate != nil {
		chain := &protocommon.X509CertificateChain{Certificates: []*protocommon.X509Certificate{{RawBytes: p.Certificate.Raw}}}
		for _, c := range p.Chain {
			chain.Certificates = append(chain.Certificates, &protocommon.X509Certificate{RawBytes: c.Raw})
		}
		pb.VerificationMaterial.Content = &protobundle.VerificationMaterial_X509CertificateChain{X509CertificateChain: chain}
	} else {
		pb.VerificationMaterial.Content = &protobundle.VerificationMaterial_PublicKey{PublicKey: &protocommon.PublicKeyIdentifier{}}
	}
	pb.VerificationMaterial.TlogEntries = p.TlogEntries
	if len(p.Timestamps) > 0 {
		tvd := &protobundle.TimestampVerificationData{}
		for _, ts := range p.Timestamps {
			tvd.Rfc3161Timestamps = append(tvd.Rfc3161Timestamps, &protocommon.RFC3161SignedTimestamp{SignedTimestamp: ts})
		}
		pb.VerificationMaterial.TimestampVerificationData = tvd
	}

	if env, ok := asEnvelope(p.Signature); ok {
		pb.Content = &protobundle.Bundle_DsseEnvelope{DsseEnvelope: env}
	} else {
		ms := &protocommon.MessageSignature{Signature: p.Signature}
		switch {
		case p.MessageDigest != nil:
			ms.MessageDigest = &protocommon.HashOutput{Algorithm: hashAlgorithm(p.MessageDigest.Algorithm), Digest: p.MessageDigest.Value}
		case p.DigestAlgorithm != 0:
			// The digest itself is filled in from the artifact.
			ms.MessageDigest = &protocommon.HashOutput{Algorithm: hashAlgorithm(p.DigestAlgorithm)}
		}
		pb.Content = &protobundle.Bundle_MessageSignature{MessageSignature: ms}
	}
	pb.MediaType = mediaTypeV01
	return pb, nil
}

func hashAlgorithm(h crypto.Hash) protocommon.HashAlgorithm {
	switch artifact.HashName(h) {
	case "sha384":
		return protocommon.HashAlgorithm_SHA2_384
	case "sha512":
		return protocommon.HashAlgorithm_SHA2_512
	}
	return protocommon.HashAlgorithm_SHA2_256
}

// asEnvelope recognises a DSSE envelope in JSON form.
func asEnvelope(b []byte) (*protodsse.Envelope, bool) {
	if !bytes.HasPrefix(bytes.TrimSpace(b), []byte("{")) {
		return nil, false
	}
	var e struct {
		PayloadType string `json:"payloadType"`
		Payload     []byte `json:"payload"`
		Signatures  []struct {
			KeyID string `json:"keyid"`
			Sig   []byte `json:"sig"`
		} `json:"signatures"`
	}
	if json.Unmarshal(b, &e) != nil || e.PayloadType == "" || len(e.Signatures) == 0 {
		return nil, false
	}
	env := &protodsse.Envelope{PayloadType: e.PayloadType, Payload: e.Payload}
	for _, s := range e.Signatures {
		env.Signatures = append(env.Signatures, &protodsse.Signature{Keyid: s.KeyID, Sig: s.Sig})
	}
	return env, true
}

// WithTimestamps returns b with RFC 3161 timestamps added (cosign's
// separate timestamp file of a legacy bundle).
func WithTimestamps(b *bundle.Bundle, timestamps [][]byte, allowCertificateChain bool) (*bundle.Bundle, error) {
	pb := proto.Clone(b.Bundle).(*protobundle.Bundle)
	if pb.VerificationMaterial.TimestampVerificationData == nil {
		pb.VerificationMaterial.TimestampVerificationData = &protobundle.TimestampVerificationData{}
	}
	for _, ts := range timestamps {
		pb.VerificationMaterial.TimestampVerificationData.Rfc3161Timestamps = append(pb.VerificationMaterial.TimestampVerificationData.Rfc3161Timestamps, &protocommon.RFC3161SignedTimestamp{SignedTimestamp: ts})
	}
	var opts []bundle.Option
	if allowCertificateChain {
		opts = append(opts, bundle.AllowCertificateChain())
	}
	return bundle.NewBundle(pb, opts...)
}
