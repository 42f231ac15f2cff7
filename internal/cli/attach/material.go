package attach

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/signetdev/signet/internal/cli"
	"github.com/signetdev/signet/pkg/signer"
)

func readPEM(f *cli.Factory, flag, path string) ([]byte, error) {
	b, err := readInput(f, flag, path)
	if err != nil {
		return nil, err
	}
	if blk, _ := pem.Decode(b); blk == nil || blk.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("%s %s: want PEM certificates, found none", flag, path)
	}
	return b, nil
}

// logEntry is one entry of a Rekor v1 API response
// ({"<uuid>": logEntry}), as `rekor-cli get --format json` and the API
// return it.
type logEntry struct {
	Body           string `json:"body"`
	IntegratedTime *int64 `json:"integratedTime"`
	LogIndex       *int64 `json:"logIndex"`
	LogID          string `json:"logID"`
	Verification   *struct {
		SignedEntryTimestamp []byte `json:"signedEntryTimestamp"`
	} `json:"verification"`
}

// ParseRekorResponse accepts --rekor-response in either form cosign users
// have: the bundle annotation itself ({"SignedEntryTimestamp","Payload"})
// or a Rekor API log entry response. It returns the annotation value.
func ParseRekorResponse(b []byte) (string, error) {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(b, &probe); err != nil {
		return "", fmt.Errorf("want a Rekor bundle or log entry (JSON object): %w", err)
	}
	var rb signer.RekorBundle
	if _, ok := probe["SignedEntryTimestamp"]; ok {
		if err := json.Unmarshal(b, &rb); err != nil {
			return "", fmt.Errorf("rekor bundle: %w", err)
		}
	} else {
		if len(probe) != 1 {
			return "", fmt.Errorf("want a Rekor bundle or a response with exactly one log entry, found %d entries", len(probe))
		}
		var e logEntry
		for _, raw := range probe {
			if err := json.Unmarshal(raw, &e); err != nil {
				return "", fmt.Errorf("rekor log entry: %w", err)
			}
		}
		if e.Verification == nil || e.IntegratedTime == nil || e.LogIndex == nil {
			return "", errors.New("rekor log entry: missing verification.signedEntryTimestamp, integratedTime or logIndex")
		}
		rb = signer.RekorBundle{SignedEntryTimestamp: e.Verification.SignedEntryTimestamp,
			Payload: signer.RekorPayload{Body: e.Body, IntegratedTime: *e.IntegratedTime, LogIndex: *e.LogIndex, LogID: e.LogID}}
	}
	if len(rb.SignedEntryTimestamp) == 0 || rb.Payload.Body == "" || rb.Payload.LogID == "" {
		return "", errors.New("rekor bundle: missing SignedEntryTimestamp, body or logID")
	}
	if _, err := base64.StdEncoding.DecodeString(rb.Payload.Body); err != nil {
		return "", fmt.Errorf("rekor bundle: body is not base64: %w", err)
	}
	out, err := json.Marshal(rb)
	return string(out), err
}

// TimestampAnnotation turns an RFC 3161 response (DER, or its base64)
// into cosign's dev.sigstore.cosign/rfc3161timestamp annotation.
func TimestampAnnotation(b []byte) (string, error) {
	der := b
	if len(b) == 0 || b[0] != 0x30 { // not a DER SEQUENCE: try base64
		d, err := base64.StdEncoding.DecodeString(string(bytes.TrimSpace(b)))
		if err != nil || len(d) == 0 || d[0] != 0x30 {
			return "", errors.New("want an RFC 3161 timestamp response (DER or base64 DER)")
		}
		der = d
	}
	out, err := signer.TimestampJSON(der)
	return string(out), err
}
