package attach

import (
	"encoding/base64"
	"strings"
	"testing"
)

func TestSBOMMediaType(t *testing.T) {
	for _, tc := range []struct{ typ, format, path, want, err string }{
		{"spdx", "", "sbom.spdx.json", "text/spdx+json", ""},
		{"spdx", "", "s.txt", "text/spdx", ""},
		{"spdx", "", "-", "text/spdx", ""},
		{"spdx", "xml", "s.txt", "", `invalid SBOM input format "xml"`},
		{"cyclonedx", "", "c.xml", "application/vnd.cyclonedx+xml", ""},
		{"cyclonedx", "xml", "c.json", "application/vnd.cyclonedx+json", ""},
		{"syft", "", "s.txt", "application/vnd.syft+json", ""},
		{"bogus", "", "c.json", "", `unknown SBOM type "bogus"`},
	} {
		got, err := SBOMMediaType(tc.typ, tc.format, tc.path)
		if got != tc.want || (tc.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("SBOMMediaType(%q,%q,%q) = %q, %v; want %q, %q", tc.typ, tc.format, tc.path, got, err, tc.want, tc.err)
		}
	}
}

func TestParseRekorResponse(t *testing.T) {
	body := base64.StdEncoding.EncodeToString([]byte(`{"kind":"hashedrekord"}`))
	want := `{"SignedEntryTimestamp":"c2V0","Payload":{"body":"` + body + `","integratedTime":7,"logIndex":3,"logID":"ab"}}`
	for _, in := range []string{
		want,
		`{"uuid1":{"body":"` + body + `","integratedTime":7,"logIndex":3,"logID":"ab","verification":{"signedEntryTimestamp":"c2V0"}}}`,
	} {
		got, err := ParseRekorResponse([]byte(in))
		if err != nil || got != want {
			t.Errorf("ParseRekorResponse(%s) = %s, %v; want %s", in, got, err, want)
		}
	}
	for _, bad := range []string{`[]`, `{}`, `{"a":{},"b":{}}`, `{"a":{"body":"x"}}`, `{"SignedEntryTimestamp":"c2V0","Payload":{"body":"!!","logID":"ab"}}`} {
		if _, err := ParseRekorResponse([]byte(bad)); err == nil {
			t.Errorf("ParseRekorResponse(%s) accepted", bad)
		}
	}
}

func TestParseEnvelopes(t *testing.T) {
	stmt := base64.StdEncoding.EncodeToString([]byte(`{"predicateType":"https://example.com/p"}`))
	env := `{"payloadType":"application/vnd.in-toto+json","payload":"` + stmt + `","signatures":[{"sig":"MEU="}]}`
	docs, types, err := ParseEnvelopes([]byte(env + "\n" + env + "\n"))
	if err != nil || len(docs) != 2 || types[1] != "https://example.com/p" {
		t.Fatalf("ParseEnvelopes: %d docs, %v, %v", len(docs), types, err)
	}
	for _, bad := range []string{"", `{"payloadType":"text/plain","payload":"","signatures":[{"sig":"x"}]}`,
		`{"payloadType":"application/vnd.in-toto+json","payload":"` + stmt + `","signatures":[]}`} {
		if _, _, err := ParseEnvelopes([]byte(bad)); err == nil {
			t.Errorf("ParseEnvelopes(%q) accepted", bad)
		}
	}
}

func FuzzParseRekorResponse(f *testing.F) {
	f.Add([]byte(`{"SignedEntryTimestamp":"c2V0","Payload":{"body":"e30=","integratedTime":1,"logIndex":1,"logID":"ab"}}`))
	f.Add([]byte(`{"u":{"body":"e30=","integratedTime":1,"logIndex":1,"logID":"ab","verification":{"signedEntryTimestamp":"c2V0"}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		out, err := ParseRekorResponse(b)
		if err == nil {
			if again, err := ParseRekorResponse([]byte(out)); err != nil || again != out {
				t.Fatalf("not a fixed point: %s -> %s, %v", out, again, err)
			}
		}
	})
}

func FuzzParseEnvelopes(f *testing.F) {
	f.Add([]byte(`{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[{"sig":"x"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		docs, types, err := ParseEnvelopes(b)
		if err == nil && len(docs) != len(types) {
			t.Fatalf("%d docs, %d types", len(docs), len(types))
		}
	})
}
