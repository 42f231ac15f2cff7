package verifyblob

import (
	"context"
	"crypto"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"google.golang.org/protobuf/proto"

	"github.com/signetdev/signet/internal/cli"
	"github.com/signetdev/signet/internal/httpx"
	"github.com/signetdev/signet/pkg/artifact"
	"github.com/signetdev/signet/pkg/rekorlookup"
)

// lookUpEntry finds a detached signature's Rekor v1 entry online, as
// cosign does when a signature comes without a bundle: the log's search
// index lists the entries for the artifact's SHA-256, and the one that
// logged this signature is kept. pkg/verifier then verifies the entry
// (SET, inclusion proof, logged signature, key and digest) like any other.
func lookUpEntry(ctx context.Context, f *cli.Factory, rekorURL string, b *bundle.Bundle, art artifact.Artifact) (*bundle.Bundle, error) {
	ms := b.GetMessageSignature()
	if ms == nil {
		return nil, errors.New("a DSSE --signature without a bundle cannot be looked up in Rekor: pass the --bundle cosign wrote, or --insecure-ignore-tlog")
	}
	sums, err := artifact.Sum(art, crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("hashing the artifact to look its signature up in Rekor: %w", err)
	}
	rc := &rekorlookup.Client{BaseURL: rekorURL, HTTP: &http.Client{Transport: httpx.NewRetry(f.Transport)}}
	found, err := rc.ByArtifactHash(ctx, hex.EncodeToString(sums[crypto.SHA256]))
	if err == nil {
		if found = rekorlookup.WithSignature(found, ms.GetSignature()); len(found) == 0 {
			err = rekorlookup.ErrNotFound
		}
	}
	if err != nil {
		return nil, fmt.Errorf("--signature without a bundle: looking the signature up in the Rekor log %s (--rekor-url) failed: %w; pass the --bundle cosign wrote (it carries the log entry), or --insecure-ignore-tlog", rekorURL, err)
	}
	f.Debugf("found the signature's Rekor entry online: log index %d", found[0].GetLogIndex())
	pb := proto.Clone(b.Bundle).(*protobundle.Bundle)
	pb.VerificationMaterial.TlogEntries = found[:1]
	return bundle.NewBundle(pb)
}
