package rekorlookup

import (
	"encoding/json"
	"testing"

	"github.com/sigstore/rekor/pkg/generated/models"
)

// FuzzAnswer: whatever a log answers, converting it never panics
// (rekor's tle conversion dereferences the proof's fields unchecked).
func FuzzAnswer(f *testing.F) {
	f.Add([]byte(`[{"abc":{"body":"e30=","integratedTime":1,"logID":"00","logIndex":1,"verification":{"inclusionProof":{"checkpoint":"x","hashes":["zz"],"logIndex":1,"rootHash":"00","treeSize":2}}}}]`))
	f.Add([]byte(`[{"abc":{"body":"e30=","integratedTime":1,"logID":"00","logIndex":1}}]`))
	f.Add([]byte(`[{"abc":{"body":5}}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var ans []map[string]models.LogEntryAnon
		if json.Unmarshal(data, &ans) != nil {
			return
		}
		es, err := convert(ans)
		if err == nil {
			_ = WithSignature(es, []byte("sig"))
		}
	})
}

func TestIncompleteEntryRefused(t *testing.T) {
	var ans []map[string]models.LogEntryAnon
	if err := json.Unmarshal([]byte(`[{"abc":{"body":"e30=","integratedTime":1,"logID":"00","logIndex":1}}]`), &ans); err != nil {
		t.Fatal(err)
	}
	if _, err := convert(ans); err == nil {
		t.Fatal("an entry without an inclusion proof was converted")
	}
}

func TestHashChecked(t *testing.T) {
	c := &Client{BaseURL: "https://rekor.example"}
	if _, err := c.ByArtifactHash(t.Context(), "sha256:00"); err == nil {
		t.Fatal("a malformed hash was sent")
	}
	if _, err := c.ByUUID(t.Context(), "../../etc"); err == nil {
		t.Fatal("a path was accepted as a UUID")
	}
}
