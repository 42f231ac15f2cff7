package verifier

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
)

// MediaTypeV03 is the media type of a v0.3 bundle.
const MediaTypeV03 = "application/vnd.dev.sigstore.bundle.v0.3+json"

// IsV03 says whether a media type is v0.3 (in either spelling).
func IsV03(mediaType string) bool {
	return mediaType == MediaTypeV03 || mediaType == "application/vnd.dev.sigstore.bundle+json;version=0.3"
}

// FetchEntry returns a log's entry at an index, with its inclusion proof.
type FetchEntry func(ctx context.Context, logIndex int64) (*protorekor.TransparencyLogEntry, error)

// AddInclusionProofs gives each Rekor entry that has only a promise (a
// v0.1 bundle, a legacy cosign bundle) its inclusion proof, fetched from
// the log. The fetched entry must be the same entry: same log, index and
// body, so a log cannot swap in another signature; its promise is kept
// when the log sends none.
func AddInclusionProofs(ctx context.Context, pb *protobundle.Bundle, fetch FetchEntry) error {
	for i, e := range pb.GetVerificationMaterial().GetTlogEntries() {
		if e.GetInclusionProof() != nil {
			continue
		}
		got, err := fetch(ctx, e.GetLogIndex())
		if err != nil {
			return fmt.Errorf("transparency log entry %d: fetching its inclusion proof: %w", e.GetLogIndex(), err)
		}
		switch {
		case got.GetLogIndex() != e.GetLogIndex():
			return fmt.Errorf("transparency log entry %d: the log returned entry %d", e.GetLogIndex(), got.GetLogIndex())
		case !bytes.Equal(got.GetLogId().GetKeyId(), e.GetLogId().GetKeyId()):
			return fmt.Errorf("transparency log entry %d: the log that answered is not the one in the bundle (log ID differs)", e.GetLogIndex())
		case !bytes.Equal(got.GetCanonicalizedBody(), e.GetCanonicalizedBody()):
			return fmt.Errorf("transparency log entry %d: the log holds a different entry at this index", e.GetLogIndex())
		case got.GetInclusionProof() == nil:
			return fmt.Errorf("transparency log entry %d: the log sent no inclusion proof", e.GetLogIndex())
		}
		if got.GetInclusionPromise() == nil || len(got.GetInclusionPromise().GetSignedEntryTimestamp()) == 0 {
			got.InclusionPromise = e.GetInclusionPromise()
		}
		pb.VerificationMaterial.TlogEntries[i] = got
	}
	return nil
}

// ToV03 rewrites pb as a v0.3 bundle: the leaf certificate alone (v0.3
// has no chains; the CAs come from the trusted root) and the v0.3 media
// type. Every Rekor entry must have its inclusion proof by now.
func ToV03(pb *protobundle.Bundle) error {
	vm := pb.GetVerificationMaterial()
	if vm == nil || vm.Content == nil {
		return errors.New("the bundle has no certificate or public key")
	}
	if ch, ok := vm.Content.(*protobundle.VerificationMaterial_X509CertificateChain); ok {
		certs := ch.X509CertificateChain.GetCertificates()
		if len(certs) == 0 {
			return errors.New("the bundle's certificate chain is empty")
		}
		vm.Content = &protobundle.VerificationMaterial_Certificate{Certificate: certs[0]}
	}
	for _, e := range vm.GetTlogEntries() {
		if e.GetInclusionProof() == nil {
			return fmt.Errorf("transparency log entry %d has no inclusion proof, which a v0.3 bundle needs", e.GetLogIndex())
		}
	}
	pb.MediaType = MediaTypeV03
	return nil
}
