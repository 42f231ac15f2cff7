// Package rekorlookup finds entries in a Rekor v1 log, online: by log
// index (to add the inclusion proof a v0.1 bundle lacks), by a proposed
// entry, and by artifact hash through the log's search index (what cosign
// does for a detached signature that comes without a bundle). Every
// answer is bounded and converted to the protobuf entry a bundle carries;
// verifying it stays with pkg/verifier.
package rekorlookup

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"github.com/sigstore/rekor/pkg/generated/models"
	"github.com/sigstore/rekor/pkg/tle"
	// The entry kinds signatures are logged as, for tle's parsing.
	_ "github.com/sigstore/rekor/pkg/types/dsse/v0.0.1"
	_ "github.com/sigstore/rekor/pkg/types/hashedrekord/v0.0.1"
	_ "github.com/sigstore/rekor/pkg/types/intoto/v0.0.2"

	"github.com/signetdev/signet/internal/fileutil"
)

// Limits on what is read from the log.
const (
	maxAnswer  = 16 << 20
	maxEntries = 64 // entries looked at for one hash
)

// ErrNotFound means the log has no matching entry.
var ErrNotFound = errors.New("no matching entry in the transparency log")

// ErrNoSearchIndex means the log answered that its search index is off.
var ErrNoSearchIndex = errors.New("the Rekor log has no search index (its retrieve API is disabled)")

// Client talks to one Rekor v1 log.
type Client struct {
	// BaseURL is the log's URL, e.g. https://rekor.sigstore.dev.
	BaseURL string
	HTTP    *http.Client
}

func (c *Client) url(path string) (string, error) {
	u, err := url.Parse(strings.TrimSuffix(c.BaseURL, "/"))
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", fmt.Errorf("Rekor URL %q: want http(s)://host[:port]", c.BaseURL)
	}
	return u.String() + path, nil
}

func (c *Client) do(ctx context.Context, method, path string, body any, out any) error {
	target, err := c.url(path)
	if err != nil {
		return err
	}
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, r)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("Rekor %s: %w", c.BaseURL, err)
	}
	defer resp.Body.Close()
	data, err := fileutil.ReadAllLimit(resp.Body, maxAnswer)
	if err != nil {
		return fmt.Errorf("Rekor %s: reading the answer: %w", c.BaseURL, err)
	}
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return ErrNotFound
	case resp.StatusCode == http.StatusNotImplemented:
		return ErrNoSearchIndex
	case resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated:
		return fmt.Errorf("Rekor %s: %s %s: HTTP %s: %s", c.BaseURL, method, path, resp.Status, oneLine(data))
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("Rekor %s: %s %s: not the expected JSON: %w", c.BaseURL, method, path, err)
	}
	return nil
}

func oneLine(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// ByIndex returns the entry at index, with its inclusion proof.
func (c *Client) ByIndex(ctx context.Context, index int64) (*protorekor.TransparencyLogEntry, error) {
	var ans map[string]models.LogEntryAnon
	if err := c.do(ctx, http.MethodGet, "/api/v1/log/entries?logIndex="+strconv.FormatInt(index, 10), nil, &ans); err != nil {
		return nil, fmt.Errorf("log index %d: %w", index, err)
	}
	es, err := convert([]map[string]models.LogEntryAnon{ans})
	if err != nil {
		return nil, fmt.Errorf("log index %d: %w", index, err)
	}
	if len(es) != 1 {
		return nil, fmt.Errorf("log index %d: %d entries in the answer, want 1", index, len(es))
	}
	return es[0], nil
}

// ByUUID returns the entry with this UUID.
func (c *Client) ByUUID(ctx context.Context, uuid string) (*protorekor.TransparencyLogEntry, error) {
	if !hexID(uuid) {
		return nil, fmt.Errorf("entry UUID %q: not hex", uuid)
	}
	var ans map[string]models.LogEntryAnon
	if err := c.do(ctx, http.MethodGet, "/api/v1/log/entries/"+uuid, nil, &ans); err != nil {
		return nil, fmt.Errorf("entry %s: %w", uuid, err)
	}
	es, err := convert([]map[string]models.LogEntryAnon{ans})
	if err != nil || len(es) != 1 {
		return nil, fmt.Errorf("entry %s: want one entry: %v", uuid, err)
	}
	return es[0], nil
}

// ByEntry returns the log's entries equal to proposed (a hashedrekord or
// dsse entry in Rekor's JSON form): cosign's search by entry.
func (c *Client) ByEntry(ctx context.Context, proposed json.RawMessage) ([]*protorekor.TransparencyLogEntry, error) {
	var ans []map[string]models.LogEntryAnon
	if err := c.do(ctx, http.MethodPost, "/api/v1/log/entries/retrieve", map[string]any{"entries": []json.RawMessage{proposed}}, &ans); err != nil {
		return nil, err
	}
	es, err := convert(ans)
	if err != nil {
		return nil, err
	}
	if len(es) == 0 {
		return nil, ErrNotFound
	}
	return es, nil
}

// ByArtifactHash returns the entries the log's search index lists for an
// artifact's SHA-256 (hex), at most maxEntries of them.
func (c *Client) ByArtifactHash(ctx context.Context, sha256Hex string) ([]*protorekor.TransparencyLogEntry, error) {
	if len(sha256Hex) != 64 || !hexID(sha256Hex) {
		return nil, fmt.Errorf("artifact hash %q: want 64 hex digits", sha256Hex)
	}
	var uuids []string
	if err := c.do(ctx, http.MethodPost, "/api/v1/index/retrieve", map[string]string{"hash": "sha256:" + strings.ToLower(sha256Hex)}, &uuids); err != nil {
		return nil, fmt.Errorf("searching by artifact hash: %w", err)
	}
	if len(uuids) == 0 {
		return nil, ErrNotFound
	}
	if len(uuids) > maxEntries {
		uuids = uuids[:maxEntries]
	}
	out := make([]*protorekor.TransparencyLogEntry, 0, len(uuids))
	for _, u := range uuids {
		e, err := c.ByUUID(ctx, u)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

func hexID(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F') {
			return false
		}
	}
	return true
}

func convert(ans []map[string]models.LogEntryAnon) ([]*protorekor.TransparencyLogEntry, error) {
	var out []*protorekor.TransparencyLogEntry
	for _, m := range ans {
		for uuid, e := range m {
			if e.LogIndex == nil || e.Body == nil || e.IntegratedTime == nil || e.LogID == nil {
				return nil, fmt.Errorf("entry %s: incomplete (no logIndex, body, integratedTime or logID)", uuid)
			}
			if v := e.Verification; v == nil || v.InclusionProof == nil || v.InclusionProof.RootHash == nil ||
				v.InclusionProof.LogIndex == nil || v.InclusionProof.TreeSize == nil || v.InclusionProof.Checkpoint == nil {
				return nil, fmt.Errorf("entry %s: no complete inclusion proof", uuid)
			}
			pe, err := tle.GenerateTransparencyLogEntry(e)
			if err != nil {
				return nil, fmt.Errorf("entry %s: %w", uuid, err)
			}
			out = append(out, pe)
		}
	}
	return out, nil
}

// WithSignature keeps the hashedrekord entries that logged sig: what an
// artifact-hash search finds may be other signatures of the same artifact.
func WithSignature(entries []*protorekor.TransparencyLogEntry, sig []byte) []*protorekor.TransparencyLogEntry {
	want := base64.StdEncoding.EncodeToString(sig)
	var out []*protorekor.TransparencyLogEntry
	for _, e := range entries {
		var body struct {
			Kind string `json:"kind"`
			Spec struct {
				Signature struct {
					Content string `json:"content"`
				} `json:"signature"`
			} `json:"spec"`
		}
		if json.Unmarshal(e.GetCanonicalizedBody(), &body) == nil && body.Kind == "hashedrekord" && body.Spec.Signature.Content == want {
			out = append(out, e)
		}
	}
	return out
}

// LegacyBundleJSON is an entry in cosign's Rekor bundle form, as a legacy
// .sig layer's dev.sigstore.cosign/bundle annotation holds it.
func LegacyBundleJSON(e *protorekor.TransparencyLogEntry) ([]byte, error) {
	if e.GetInclusionPromise() == nil {
		return nil, fmt.Errorf("entry %d has no signed entry timestamp", e.GetLogIndex())
	}
	return json.Marshal(map[string]any{
		"SignedEntryTimestamp": e.GetInclusionPromise().GetSignedEntryTimestamp(),
		"Payload": map[string]any{
			"body":           base64.StdEncoding.EncodeToString(e.GetCanonicalizedBody()),
			"integratedTime": e.GetIntegratedTime(),
			"logIndex":       e.GetLogIndex(),
			"logID":          hex.EncodeToString(e.GetLogId().GetKeyId()),
		},
	})
}
