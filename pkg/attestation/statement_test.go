package attestation

import (
	"strings"
	"testing"
	"time"
)

func TestNewStatement(t *testing.T) {
	now := time.Date(2026, 11, 21, 13, 0, 0, 0, time.UTC)
	sum := make([]byte, 32)
	for _, tc := range []struct {
		typ, pred, wantType, wantPred, wantErr string
	}{
		{"custom", "any text", "https://cosign.sigstore.dev/attestation/v1", `{"Data":"any text","Timestamp":"2026-11-21T13:00:00Z"}`, ""},
		{"slsaprovenance1", `{"buildDefinition":{},"runDetails":{}}`, "https://slsa.dev/provenance/v1", `{"buildDefinition":{},"runDetails":{}}`, ""},
		{"slsaprovenance1", `{"buildDefinition":{}}`, "", "", "required field runDetails missing"},
		{"slsaprovenance", `{"builder":{"id":"x"},"buildType":"y"}`, "https://slsa.dev/provenance/v0.2", `{"buildType":"y","builder":{"id":"x"}}`, ""},
		{"spdx", "SPDXVersion: SPDX-2.3", "https://spdx.dev/Document", `"SPDXVersion: SPDX-2.3"`, ""},
		{"cyclonedx", "not json", "", "", "is not JSON"},
		{"https://example.com/mine/v1", `{"k":1}`, "https://example.com/mine/v1", `{"k":1}`, ""},
		{"nonsense", `{}`, "", "", "invalid predicate type"},
	} {
		got, err := NewStatement(tc.typ, "app.tar.gz", sum, []byte(tc.pred), now)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: err %v, want %q", tc.typ, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.typ, err)
			continue
		}
		st, err := ParseStatement(got)
		if err != nil {
			t.Fatalf("%s: own statement does not parse: %v", tc.typ, err)
		}
		if st.PredicateType != tc.wantType || string(st.Predicate) != tc.wantPred || st.Subject[0].Name != "app.tar.gz" || len(st.Subject[0].Digest["sha256"]) != 64 {
			t.Errorf("%s: %s", tc.typ, got)
		}
	}
}

func TestParseStatementRejects(t *testing.T) {
	for name, in := range map[string]string{
		"not json":     `{`,
		"wrong type":   `{"_type":"x","predicateType":"p","subject":[{"name":"a","digest":{"sha256":"00"}}]}`,
		"no predicate": `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a","digest":{"sha256":"00"}}]}`,
		"no subject":   `{"_type":"https://in-toto.io/Statement/v1","predicateType":"p"}`,
		"no digest":    `{"_type":"https://in-toto.io/Statement/v1","predicateType":"p","subject":[{"name":"a"}]}`,
	} {
		if _, err := ParseStatement([]byte(in)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// FuzzParseStatement: --statement files are user input; never a panic.
func FuzzParseStatement(f *testing.F) {
	f.Add([]byte(`{"_type":"https://in-toto.io/Statement/v1","predicateType":"p","subject":[{"name":"a","digest":{"sha256":"00"}}],"predicate":{}}`))
	f.Fuzz(func(t *testing.T, data []byte) { _, _ = ParseStatement(data) })
}
