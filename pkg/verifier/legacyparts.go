package verifier

import (
	"encoding/json"
	"errors"
	"fmt"
)

// AddRekorBundle adds cosign's Rekor bundle, as stored in the
// dev.sigstore.cosign/bundle annotation of a legacy .sig/.att layer
// ({"SignedEntryTimestamp":"<b64>","Payload":{"body":"<b64>","integratedTime":N,"logIndex":N,"logID":"<hex>"}}),
// to the parts: a transparency log entry with an inclusion promise and,
// for a hashedrekord entry, the artifact digest it logged.
func (p *Parts) AddRekorBundle(data []byte) error {
	var rb legacyRekorBundle
	if err := json.Unmarshal(data, &rb); err != nil {
		return fmt.Errorf("not a cosign Rekor bundle: %w", err)
	}
	if len(rb.SignedEntryTimestamp) == 0 {
		return errors.New("SignedEntryTimestamp is empty")
	}
	if rb.Payload.Body == "" {
		return errors.New("Payload.body is empty")
	}
	tle, err := legacyTlogEntry(&rb)
	if err != nil {
		return err
	}
	p.TlogEntries = append(p.TlogEntries, tle)
	if digest, ok := hashedRekordDigest(tle.CanonicalizedBody); ok {
		p.MessageDigest = &digest
	}
	return nil
}
