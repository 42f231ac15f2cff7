package verifier

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"net/url"

	"github.com/sigstore/rekor-tiles/v2/pkg/note"
	rekorverify "github.com/sigstore/rekor-tiles/v2/pkg/verify"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore/pkg/signature"
)

// checkRekorV2Entries holds Rekor v2 entries to what Rekor v1 entries are
// held to. sigstore-go proves that an entry rebuilt from the bundle's
// signature, key and digest is in the log under the signed checkpoint, and
// ignores the entry's own body, root hash and tree size; so a bundle whose
// body or proof fields were altered would still pass. Here the body must
// be the leaf the proof includes, the proof must agree with the
// checkpoint, and the logged signature and key must be the bundle's, each
// failure saying which.
func checkRekorV2Entries(b *bundle.Bundle, tm root.TrustedMaterial) error {
	entries, err := b.TlogEntries()
	if err != nil {
		return err
	}
	sigContent, err := b.SignatureContent()
	if err != nil {
		return err
	}
	vc, err := b.VerificationContent()
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !e.IsRekorV2() || !e.HasInclusionProof() {
			continue
		}
		tl, ok := tm.RekorLogs()[hex.EncodeToString([]byte(e.LogKeyID()))]
		if !ok {
			continue // not counted as verified either; the threshold decides
		}
		where := fmt.Sprintf("Rekor v2 entry %d", e.LogIndex())
		u, err := url.Parse(tl.BaseURL)
		if err != nil || u.Hostname() == "" {
			return fmt.Errorf("%s: trusted root gives the log no usable baseUrl %q", where, tl.BaseURL)
		}
		v, err := signature.LoadVerifier(tl.PublicKey, tl.SignatureHashFunc)
		if err != nil {
			return fmt.Errorf("%s: loading the log's key: %w", where, err)
		}
		nv, err := note.NewNoteVerifier(u.Hostname(), v)
		if err != nil {
			return fmt.Errorf("%s: loading the log's key: %w", where, err)
		}
		tle := e.TransparencyLogEntry()
		proof := tle.GetInclusionProof()
		cp, err := rekorverify.VerifyCheckpoint(proof.GetCheckpoint().GetEnvelope(), nv)
		if err != nil {
			return fmt.Errorf("%s: checkpoint: %w", where, err)
		}
		if !bytes.Equal(cp.Hash, proof.GetRootHash()) {
			return fmt.Errorf("%s: inclusion proof root hash %x is not the checkpoint's %x", where, proof.GetRootHash(), cp.Hash)
		}
		if proof.GetTreeSize() < 0 || uint64(proof.GetTreeSize()) != cp.Size {
			return fmt.Errorf("%s: inclusion proof tree size %d is not the checkpoint's %d", where, proof.GetTreeSize(), cp.Size)
		}
		if err := rekorverify.VerifyInclusionProof(tle, cp); err != nil {
			return fmt.Errorf("%s: the entry body is not the leaf the inclusion proof includes: %w", where, err)
		}
		if !bytes.Equal(e.Signature(), sigContent.Signature()) {
			return fmt.Errorf("%s: the bundle's signature is not the one recorded in the log entry", where)
		}
		if !vc.CompareKey(e.PublicKey(), tm) {
			return fmt.Errorf("%s: the bundle's certificate or key is not the one recorded in the log entry", where)
		}
	}
	return nil
}
