package oidc

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseAlgorithms(t *testing.T) {
	for _, alg := range []string{"RS256", "ES256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			raw := jwt(t, alg, claims(map[string]any{"aud": []string{"other", "sigstore"}, "email": "dev@example.com"}))
			tok, err := Parse(" \n" + raw + "\r\n")
			if err != nil {
				t.Fatal(err)
			}
			if tok.Raw != raw || tok.Algorithm != alg || tok.Issuer != "https://issuer.example" ||
				tok.Subject != "repo:acme/app:ref:refs/heads/main" || tok.Email != "dev@example.com" ||
				!tok.Expiry.Equal(now.Add(10*time.Minute)) || !tok.NotBefore.Equal(now.Add(-time.Minute)) ||
				len(tok.Audience) != 2 || tok.Audience[1] != "sigstore" {
				t.Errorf("parsed %+v", *tok)
			}
			if err := tok.Validate(now, "sigstore"); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestParseMalformed(t *testing.T) {
	good := token(t, nil)
	parts := strings.Split(good, ".")
	enc := func(v any) string { b, _ := json.Marshal(v); return b64(b) }
	hdr := enc(map[string]string{"alg": "RS256"})
	with := func(c map[string]any) string { return hdr + "." + enc(c) + "." + parts[2] }
	for _, tc := range []struct{ name, raw, want string }{
		{"empty", "  ", "empty token"},
		{"two parts", parts[0] + "." + parts[1], "not a JWT (want three base64url parts, got 2)"},
		{"JWE", good + ".x.y", "got 5"},
		{"bad base64", parts[0] + ".%%%." + parts[2], "part 2 is not base64url"},
		{"padded", parts[0] + "=." + parts[1] + "." + parts[2], "part 1 is not base64url"},
		{"empty signature", parts[0] + "." + parts[1] + ".", "part 3 is not base64url"},
		{"header not JSON", b64([]byte("hello")) + "." + parts[1] + "." + parts[2], "header is not a JSON object"},
		{"header array", b64([]byte(`["RS256"]`)) + "." + parts[1] + "." + parts[2], "header is not a JSON object"},
		{"no alg", enc(map[string]string{"typ": "JWT"}) + "." + parts[1] + "." + parts[2], "header has no alg"},
		{"alg none", enc(map[string]string{"alg": "none"}) + "." + parts[1] + "." + parts[2], "unsigned (alg none)"},
		{"claims not JSON", hdr + "." + b64([]byte("{")) + "." + parts[2], "claims are not a JSON object"},
		{"trailing data", hdr + "." + b64([]byte(`{"iss":"x"} {}`)) + "." + parts[2], "claims are not a JSON object"},
		{"no iss", with(claims(map[string]any{"iss": nil})), "no iss claim"},
		{"iss number", with(claims(map[string]any{"iss": 7})), "iss claim is not a string"},
		{"no sub", with(claims(map[string]any{"sub": nil})), "no sub claim"},
		{"empty sub", with(claims(map[string]any{"sub": ""})), "empty sub claim"},
		{"no aud", with(claims(map[string]any{"aud": nil})), "no aud claim"},
		{"aud number", with(claims(map[string]any{"aud": 3})), "aud claim is neither a string nor a list of strings"},
		{"aud empty list", with(claims(map[string]any{"aud": []string{}})), "empty aud claim"},
		{"no exp", with(claims(map[string]any{"exp": nil})), "no exp claim"},
		{"exp string", with(claims(map[string]any{"exp": "soon"})), "exp claim is not a number"},
		{"exp negative", with(claims(map[string]any{"exp": -5})), "exp claim is out of range"},
		{"exp huge", with(claims(map[string]any{"exp": 1e300})), "exp claim is out of range"},
		{"nbf string", with(claims(map[string]any{"nbf": "x"})), "nbf claim is not a number"},
		{"oversized", with(claims(map[string]any{"pad": strings.Repeat("x", MaxTokenSize)})), "more than the 65536 allowed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.raw)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrMalformed) {
				t.Fatalf("Parse: %v, want ErrMalformed with %q", err, tc.want)
			}
			if p := strings.Split(tc.raw, "."); len(p) > 1 && len(p[1]) > 20 && strings.Contains(err.Error(), p[1]) {
				t.Errorf("error echoes the token: %v", err)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	exp := time.Date(2026, 11, 21, 13, 0, 0, 0, time.UTC)
	tok, err := Parse(token(t, map[string]any{"exp": exp.Unix(), "nbf": exp.Add(-time.Hour).Unix()}))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		now  time.Time
		aud  string
		kind error
		want string
	}{
		{"valid", exp.Add(-time.Minute), "sigstore", nil, ""},
		{"expired within skew", exp.Add(ExpirySkew), "sigstore", nil, ""},
		{"expired", exp.Add(20*time.Minute + 11*time.Second), "sigstore", ErrExpired, "expired at 2026-11-21T13:00:00Z (now 13:20:11Z)"},
		{"expired days ago", exp.Add(72 * time.Hour), "sigstore", ErrExpired, "expired at 2026-11-21T13:00:00Z (now 2026-11-24T13:00:00Z)"},
		{"nbf within skew", exp.Add(-time.Hour - NotBeforeSkew), "sigstore", nil, ""},
		{"not yet valid", exp.Add(-2 * time.Hour), "sigstore", ErrNotYetValid, "not valid before 2026-11-21T12:00:00Z (now 11:00:00Z)"},
		{"wrong audience", exp.Add(-time.Minute), "not-sigstore", ErrWrongAudience, `audience is ["sigstore"], want "not-sigstore"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tok.Validate(tc.now, tc.aud)
			if tc.kind == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, tc.kind) || err.Error() != tc.want {
				t.Fatalf("Validate: %v, want %q", err, tc.want)
			}
		})
	}
}

// TestTokenNeverPrintsRaw: however a Token is printed or logged, its raw
// value stays out.
func TestTokenNeverPrintsRaw(t *testing.T) {
	tok, err := Parse(token(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	tok.Source = "github-actions"
	var outs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
		outs = append(outs, fmt.Sprintf(verb, tok), fmt.Sprintf(verb, *tok))
	}
	js, _ := json.Marshal(tok)
	var log strings.Builder
	slog.New(slog.NewTextHandler(&log, nil)).Info("got", "token", tok, "value", *tok)
	outs = append(outs, string(js), log.String())
	sig := tok.Raw[strings.LastIndex(tok.Raw, ".")+1:]
	for _, o := range outs {
		if strings.Contains(o, tok.Raw) || strings.Contains(o, sig) {
			t.Errorf("printed the raw token: %s", o)
		}
	}
	if want := "identity token from github-actions (iss https://issuer.example, sub repo:acme/app:ref:refs/heads/main"; !strings.HasPrefix(outs[0], want) {
		t.Errorf("String() = %s", outs[0])
	}
}

func TestIdentityTokenFlag(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, alg := range []string{"RS256", "ES256", "EdDSA"} {
		raw := jwt(t, alg, claims(nil))
		t.Run("inline "+alg, func(t *testing.T) {
			o, _ := testOptions(t, env{})
			o.IdentityToken = raw
			if tok := mustGet(t, o); tok.Source != "flag" || tok.Raw != raw || tok.Algorithm != alg {
				t.Errorf("got %v (%s)", tok, tok.Source)
			}
		})
		t.Run("file "+alg, func(t *testing.T) {
			o, _ := testOptions(t, env{})
			o.IdentityToken = write("tok-"+alg, raw+"\n")
			if tok := mustGet(t, o); tok.Source != "file" || tok.Raw != raw {
				t.Errorf("got %v (%s)", tok, tok.Source)
			}
		})
	}
	t.Run("file named like a JWT", func(t *testing.T) {
		o, _ := testOptions(t, env{})
		o.IdentityToken = write("id.token.jwt", token(t, nil))
		if tok := mustGet(t, o); tok.Source != "file" {
			t.Errorf("source %s", tok.Source)
		}
	})
	t.Run("wins over ambient", func(t *testing.T) {
		o, _ := testOptions(t, env{EnvSigstoreIDToken: token(t, map[string]any{"sub": "env"})})
		o.IdentityToken = token(t, map[string]any{"sub": "flag"})
		if tok := mustGet(t, o); tok.Subject != "flag" {
			t.Errorf("subject %s", tok.Subject)
		}
	})

	good := token(t, nil)
	parts := strings.Split(good, ".")
	for _, tc := range []struct {
		name, value string
		want        []string
	}{
		{"garbage", "not-a-token", []string{"--identity-token: not a JWT (want three base64url parts), nor the path of a file"}},
		{"two parts", parts[0] + "." + parts[1], []string{"--identity-token: not a JWT (want three base64url parts), nor the path of a file"}},
		{"bad JSON", parts[0] + ".e30x." + parts[2], []string{"--identity-token: claims are not a JSON object"}},
		{"expired", token(t, map[string]any{"exp": now.Add(-20 * time.Minute).Unix()}), []string{"--identity-token: expired at 2027-01-15T07:40:00Z (now 08:00:00Z)"}},
		{"wrong audience", token(t, map[string]any{"aud": "not-sigstore"}), []string{`--identity-token: audience is ["not-sigstore"], want "sigstore"`}},
		{"not yet valid", token(t, map[string]any{"nbf": now.Add(time.Hour).Unix()}), []string{"--identity-token: not valid before"}},
		{"file with garbage", write("garbage", "hello\n"), []string{"--identity-token file " + filepath.Join(dir, "garbage") + ": not a JWT (want three base64url parts, got 1)"}},
		{"oversized file", write("big", strings.Repeat("a", MaxTokenSize+5000)), []string{"--identity-token file", "larger than"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, _ := testOptions(t, env{})
			o.IdentityToken = tc.value
			err := getErr(t, o, tc.want...)
			if !strings.HasPrefix(tc.value, dir) && strings.Contains(err.Error(), tc.value) {
				t.Errorf("error echoes the value: %v", err)
			}
		})
	}
}
