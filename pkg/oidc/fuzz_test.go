package oidc

import (
	"strings"
	"testing"
	"time"
)

// FuzzParse: Parse never panics; a token it accepts round-trips, keeps
// its raw value out of String, and Validate answers without panicking.
func FuzzParse(f *testing.F) {
	for _, alg := range []string{"RS256", "ES256", "EdDSA"} {
		f.Add(jwt(f, alg, claims(nil)))
	}
	good := jwt(f, "RS256", claims(map[string]any{"aud": []string{"a", "sigstore"}, "exp": 1.5e9, "email": "x@y"}))
	f.Add(good)
	f.Add(strings.Replace(good, ".", "", 1))
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add("a.b.c")
	f.Add("")
	f.Add(strings.Repeat(".", 5))
	f.Fuzz(func(t *testing.T, raw string) {
		tok, err := Parse(raw)
		if err != nil {
			return
		}
		if tok.Raw != strings.TrimSpace(raw) || tok.Issuer == "" || tok.Subject == "" || len(tok.Audience) == 0 || tok.Expiry.IsZero() {
			t.Fatalf("accepted an incomplete token: %+v", *tok)
		}
		if strings.Contains(tok.String(), tok.Raw) {
			t.Fatal("String shows the raw token")
		}
		again, err := Parse(tok.Raw)
		if err != nil || again.Subject != tok.Subject || !again.Expiry.Equal(tok.Expiry) {
			t.Fatalf("re-parse: %v", err)
		}
		_ = tok.Validate(time.Unix(1_800_000_000, 0), "sigstore")
	})
}
