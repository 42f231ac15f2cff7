package signer

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/sigstore/sigstore-go/pkg/bundle"
)

// The formats below are cosign's before v3, still read by CI scripts:
// the blob bundle {"base64Signature","cert","rekorBundle"}, the detached
// signature and certificate files, and the RFC 3161 timestamp file.

type legacyBundle struct {
	Base64Signature string       `json:"base64Signature"`
	Cert            string       `json:"cert,omitempty"`
	RekorBundle     *RekorBundle `json:"rekorBundle,omitempty"`
}

// RekorBundle is a Rekor v1 entry with its SET in cosign's pre-v3 form:
// the rekorBundle of a legacy blob bundle and the dev.sigstore.cosign/bundle
// annotation of a legacy image signature.
type RekorBundle struct {
	SignedEntryTimestamp []byte       `json:"SignedEntryTimestamp"`
	Payload              RekorPayload `json:"Payload"`
}

// RekorPayload is the logged entry of a RekorBundle.
type RekorPayload struct {
	Body           string `json:"body"`
	IntegratedTime int64  `json:"integratedTime"`
	LogIndex       int64  `json:"logIndex"`
	LogID          string `json:"logID"`
}

// LegacyBundle renders b as cosign's pre-v3 blob bundle. That format holds
// one Rekor v1 entry (with its SET) and no timestamp: a Rekor v2 entry is
// an error, and RFC 3161 timestamps go to their own file. A key-signed
// bundle gets no "cert": a public key there is what GHSA-fx35-mq7g-6g98
// abused, and cosign ≥ 3.1.3 refuses a bundle that carries one.
func LegacyBundle(b *bundle.Bundle) ([]byte, error) {
	sig, err := legacySignature(b)
	if err != nil {
		return nil, err
	}
	lb := legacyBundle{Base64Signature: base64.StdEncoding.EncodeToString(sig)}
	if c := certificatePEM(b); c != nil {
		lb.Cert = base64.StdEncoding.EncodeToString(c)
	}
	rb, err := rekorBundle(b)
	if err != nil {
		return nil, err
	}
	lb.RekorBundle = rb
	return json.Marshal(lb)
}

// rekorBundle is the bundle's one Rekor v1 entry in cosign's pre-v3 form,
// or nil when the signature was not logged.
func rekorBundle(b *bundle.Bundle) (*RekorBundle, error) {
	entries := b.GetVerificationMaterial().GetTlogEntries()
	if len(entries) > 1 {
		return nil, errors.New("the legacy formats hold one Rekor entry; this signature has several")
	}
	if len(entries) == 0 {
		return nil, nil
	}
	e := entries[0]
	if e.GetInclusionPromise() == nil {
		return nil, errors.New("the legacy formats need a Rekor v1 entry with a signed entry timestamp; Rekor v2 entries have none (use the default bundle format)")
	}
	return &RekorBundle{
		SignedEntryTimestamp: e.GetInclusionPromise().GetSignedEntryTimestamp(),
		Payload: RekorPayload{
			Body:           base64.StdEncoding.EncodeToString(e.GetCanonicalizedBody()),
			IntegratedTime: e.GetIntegratedTime(),
			LogIndex:       e.GetLogIndex(),
			LogID:          hex.EncodeToString(e.GetLogId().GetKeyId()),
		},
	}, nil
}

// RekorBundleAnnotation is the dev.sigstore.cosign/bundle annotation of a
// legacy image signature: {"SignedEntryTimestamp","Payload":{…}}, or nil
// when the signature was not logged.
func RekorBundleAnnotation(b *bundle.Bundle) ([]byte, error) {
	rb, err := rekorBundle(b)
	if err != nil || rb == nil {
		return nil, err
	}
	return json.Marshal(rb)
}

// legacySignature is what cosign called the signature: the message
// signature, or for an attestation the whole DSSE envelope (cosign v2
// attest-blob).
func legacySignature(b *bundle.Bundle) ([]byte, error) {
	if ms := b.GetMessageSignature(); ms != nil {
		return ms.GetSignature(), nil
	}
	env := b.GetDsseEnvelope()
	if env == nil {
		return nil, errors.New("bundle has no signature")
	}
	type sig struct {
		KeyID string `json:"keyid"`
		Sig   []byte `json:"sig"`
	}
	out := struct {
		PayloadType string `json:"payloadType"`
		Payload     []byte `json:"payload"`
		Signatures  []sig  `json:"signatures"`
	}{PayloadType: env.GetPayloadType(), Payload: env.GetPayload()}
	for _, s := range env.GetSignatures() {
		out.Signatures = append(out.Signatures, sig{KeyID: s.GetKeyid(), Sig: s.GetSig()})
	}
	return json.Marshal(out)
}

// certificatePEM is the bundle's signing certificate as PEM, or nil.
func certificatePEM(b *bundle.Bundle) []byte {
	vm := b.GetVerificationMaterial()
	var der []byte
	switch {
	case vm.GetCertificate() != nil:
		der = vm.GetCertificate().GetRawBytes()
	case len(vm.GetX509CertificateChain().GetCertificates()) > 0:
		der = vm.GetX509CertificateChain().GetCertificates()[0].GetRawBytes()
	default:
		return nil
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// SignatureFile is --output-signature's content: the signature in base64
// (or raw with --b64=false), as cosign v2 wrote it, without a newline.
func SignatureFile(b *bundle.Bundle, b64 bool) ([]byte, error) {
	sig, err := legacySignature(b)
	if err != nil {
		return nil, err
	}
	if !b64 {
		return sig, nil
	}
	return []byte(base64.StdEncoding.EncodeToString(sig)), nil
}

// CertificateFile is --output-certificate's content: the PEM certificate,
// base64-encoded unless --b64=false, as cosign v2 wrote it. Nil when the
// signature has no certificate.
func CertificateFile(b *bundle.Bundle, b64 bool) []byte {
	c := certificatePEM(b)
	if c == nil || !b64 {
		return c
	}
	return []byte(base64.StdEncoding.EncodeToString(c))
}

// TimestampFile is --rfc3161-timestamp's content:
// {"SignedRFC3161Timestamp":"<base64 DER>"} of the bundle's first
// timestamp, or nil when it has none.
func TimestampFile(b *bundle.Bundle) ([]byte, error) {
	ts := b.GetVerificationMaterial().GetTimestampVerificationData().GetRfc3161Timestamps()
	if len(ts) == 0 {
		return nil, nil
	}
	return TimestampJSON(ts[0].GetSignedTimestamp())
}

// TimestampJSON is cosign's form of a DER RFC 3161 timestamp response:
// {"SignedRFC3161Timestamp":"<base64 DER>"}, the --rfc3161-timestamp file
// and the dev.sigstore.cosign/rfc3161timestamp annotation.
func TimestampJSON(der []byte) ([]byte, error) {
	out, err := json.Marshal(struct{ SignedRFC3161Timestamp []byte }{der})
	if err != nil {
		return nil, fmt.Errorf("encoding the timestamp: %w", err)
	}
	return out, nil
}
