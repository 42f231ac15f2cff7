package attestation

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestVulnPredicateKeepsTheReport: each report kind becomes cosign's vuln
// predicate shape with the report, byte for byte, in scanner.result and
// the scanner and times read from it (cosign signs an empty shell).
func TestVulnPredicateKeepsTheReport(t *testing.T) {
	for _, tc := range []struct {
		file, uri, version, db, start, end string
	}{
		{"trivy.cdx.json", "pkg:github/aquasecurity/trivy@0.58.1", "0.58.1", "", "2026-11-20T10:15:30Z", "2026-11-20T10:15:30Z"},
		{"trivy.json", "pkg:github/aquasecurity/trivy@0.58.1", "0.58.1", "", "2026-11-20T10:15:30.123456789Z", "2026-11-20T10:15:30.123456789Z"},
		{"grype.json", "pkg:github/anchore/grype@0.86.1", "0.86.1", "2026-11-19T01:31:10Z", "2026-11-20T09:15:30.5Z", "2026-11-20T09:15:30.5Z"},
		{"sarif.json", "pkg:github/aquasecurity/trivy@0.58.1", "0.58.1", "", "2026-11-20T10:15:00Z", "2026-11-20T10:15:30Z"},
	} {
		report, err := os.ReadFile(filepath.Join("testdata", tc.file))
		if err != nil {
			t.Fatal(err)
		}
		st, err := NewStatement("vuln", "registry.local/acme/app", make([]byte, 32), report, time.Now())
		if err != nil {
			t.Fatalf("%s: %v", tc.file, err)
		}
		var got struct {
			PredicateType string `json:"predicateType"`
			Predicate     struct {
				Invocation map[string]any `json:"invocation"`
				Scanner    struct {
					URI, Version string
					DB           struct{ URI, Version string }
					Result       json.RawMessage
				}
				Metadata struct{ ScanStartedOn, ScanFinishedOn string }
			}
		}
		if err := json.Unmarshal(st, &got); err != nil {
			t.Fatal(err)
		}
		p := got.Predicate
		if got.PredicateType != VulnPredicateType || p.Scanner.URI != tc.uri || p.Scanner.Version != tc.version || p.Scanner.DB.Version != tc.db ||
			p.Metadata.ScanStartedOn != tc.start || p.Metadata.ScanFinishedOn != tc.end {
			t.Errorf("%s: %s", tc.file, st)
		}
		for _, k := range []string{"parameters", "uri", "event_id", "builder.id"} {
			if _, ok := p.Invocation[k]; !ok {
				t.Errorf("%s: invocation lacks cosign's %s", tc.file, k)
			}
		}
		var want, have any
		_ = json.Unmarshal(report, &want)
		_ = json.Unmarshal(p.Scanner.Result, &have)
		w, _ := json.Marshal(want)
		h, _ := json.Marshal(have)
		if string(w) != string(h) {
			t.Errorf("%s: the report did not survive in scanner.result", tc.file)
		}
	}
}

func TestVulnPredicateRefusals(t *testing.T) {
	for in, want := range map[string]string{
		`{"foo":1,"bar":2}`:    "neither cosign's vuln predicate",
		`[1,2]`:                "is not a JSON object",
		`{"scanner":"trivy"}`:  "does not fit it",
		`{"bomFormat":"SPDX"}`: `bomFormat is "SPDX", want CycloneDX`,
		`{"SchemaVersion":2,"Results":[],"CreatedAt":"yesterday"}`: `CreatedAt "yesterday" is not an RFC 3339 time`,
	} {
		if _, err := NewStatement("vuln", "x", make([]byte, 32), []byte(in), time.Now()); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", in, err, want)
		}
	}
	// cosign's own vuln predicate is kept as given, unknown fields too.
	own := `{"invocation":{"uri":"ci"},"scanner":{"uri":"s","version":"1","result":{"x":1}},"metadata":{"scanStartedOn":"2026-11-20T10:00:00Z","scanFinishedOn":"2026-11-20T10:01:00Z"},"extra":true}`
	st, err := NewStatement("vuln", "x", make([]byte, 32), []byte(own), time.Now())
	if err != nil || !strings.Contains(string(st), `"extra":true`) {
		t.Errorf("own predicate: %v %s", err, st)
	}
}

// TestTypedPredicatesNeverLoseData: a file that does not fit its type's
// schema is refused naming the fields (cosign would sign {} or drop them).
func TestTypedPredicatesNeverLoseData(t *testing.T) {
	for _, tc := range []struct{ typ, pred, want string }{
		{"slsaprovenance1", `{"builder":{"id":"x"},"buildType":"y","invocation":{}}`, "required fields missing: buildDefinition, runDetails"},
		{"slsaprovenance", `{"builder":"x","buildType":"y"}`, "builder is a JSON string, want object"},
		{"link", `{"name":"build"}`, "required fields missing: _type, materials, products, byproducts, command, environment"},
	} {
		if _, err := NewStatement(tc.typ, "x", make([]byte, 32), []byte(tc.pred), time.Now()); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.typ, err, tc.want)
		}
	}
}

// FuzzVulnPredicate: reports are user files; never a panic.
func FuzzVulnPredicate(f *testing.F) {
	for _, n := range []string{"trivy.cdx.json", "trivy.json", "grype.json", "sarif.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", n))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) { _, _ = VulnPredicate(data) })
}

// TestNumbersKeepTheirDigits: cosign's float64 round trip rounds
// 12345678901234567891; signet signs it as written.
func TestNumbersKeepTheirDigits(t *testing.T) {
	st, err := NewStatement("cyclonedx", "x", make([]byte, 32), []byte(`{"bomFormat":"CycloneDX","n":12345678901234567891,"f":0.1000000000000000055511151231257827}`), time.Now())
	if err != nil || !strings.Contains(string(st), `"n":12345678901234567891`) || !strings.Contains(string(st), `"f":0.1000000000000000055511151231257827`) {
		t.Errorf("%v %s", err, st)
	}
}
