package oidc

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"time"
)

// MaxTokenSize bounds an identity token (after trimming white space).
// Real ones are 1–4 KiB; Azure tokens with many groups reach ~10 KiB.
const MaxTokenSize = 64 << 10

// ExpirySkew is how long after its exp a token is still accepted here:
// the local clock may run ahead of the issuer's. Fulcio decides for good.
const ExpirySkew = time.Minute

// NotBeforeSkew is how far in the future a token's nbf may lie, the
// allowance go-oidc (and so Fulcio) grants.
const NotBeforeSkew = 5 * time.Minute

// Validation failures, for errors.Is. The message around them says which
// token and why.
var (
	ErrMalformed     = errors.New("malformed identity token")
	ErrExpired       = errors.New("identity token expired")
	ErrNotYetValid   = errors.New("identity token not yet valid")
	ErrWrongAudience = errors.New("identity token has the wrong audience")
)

// tokenError is a validation failure: its message says what is wrong, and
// errors.Is matches its kind (ErrMalformed, ErrExpired, …).
type tokenError struct {
	kind error
	msg  string
}

func (e *tokenError) Error() string { return e.msg }
func (e *tokenError) Unwrap() error { return e.kind }

func newError(kind error, format string, args ...any) error {
	return &tokenError{kind: kind, msg: fmt.Sprintf(format, args...)}
}

// Token is an identity token and what signet read from it. The claims are
// unverified: Fulcio verifies the signature; signet only rejects tokens
// that Fulcio would certainly reject.
type Token struct {
	Raw       string    `json:"-"` // never logged, never printed
	Algorithm string    // header alg, e.g. RS256, ES256, EdDSA
	Issuer    string    // iss
	Subject   string    // sub
	Email     string    // email, when the token has one
	Audience  []string  // aud
	Expiry    time.Time // exp
	NotBefore time.Time // nbf; zero when absent
	IssuedAt  time.Time // iat; zero when absent
	Source    string    // "flag", "file", "SIGSTORE_ID_TOKEN", "github-actions", "browser", "device", …
}

// String describes the token without its raw value.
func (t Token) String() string {
	from := t.Source
	switch from {
	case sourceFlag:
		from = "--identity-token"
	case sourceFile:
		from = "the --identity-token file"
	case "":
		from = "?"
	}
	return fmt.Sprintf("identity token from %s (iss %s, sub %s, aud %s, exp %s)",
		from, t.Issuer, t.Subject, quoteList(t.Audience), t.Expiry.UTC().Format(time.RFC3339))
}

// Format prints String for every verb (%v, %+v, %#v, %s, %x, …), so a
// Token printed by mistake never shows Raw.
func (t Token) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(t.String())) }

// LogValue keeps Raw out of structured logs.
func (t Token) LogValue() slog.Value { return slog.StringValue(t.String()) }

// Parse reads raw as a compact JWS (three base64url parts) carrying a JWT
// claim set, of any signature algorithm but "none". It checks the shape
// and the claims Fulcio needs (iss, sub, aud, exp), not the signature nor
// the times: see Validate.
func Parse(raw string) (*Token, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, newError(ErrMalformed, "empty token")
	}
	if len(raw) > MaxTokenSize {
		return nil, newError(ErrMalformed, "token of %d bytes, more than the %d allowed", len(raw), MaxTokenSize)
	}
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil, newError(ErrMalformed, "not a JWT (want three base64url parts, got %d)", len(parts))
	}
	var segs [3][]byte
	for i, p := range parts {
		b, err := base64.RawURLEncoding.DecodeString(p)
		if err != nil || len(b) == 0 {
			return nil, newError(ErrMalformed, "not a JWT (want three base64url parts; part %d is not base64url)", i+1)
		}
		segs[i] = b
	}

	var header struct {
		Alg *string `json:"alg"`
	}
	if err := decodeObject(segs[0], &header); err != nil {
		return nil, newError(ErrMalformed, "header is not a JSON object")
	}
	switch {
	case header.Alg == nil || *header.Alg == "":
		return nil, newError(ErrMalformed, "header has no alg")
	case strings.EqualFold(*header.Alg, "none"):
		return nil, newError(ErrMalformed, "unsigned (alg none)")
	}

	var c map[string]json.RawMessage
	if err := decodeObject(segs[1], &c); err != nil {
		return nil, newError(ErrMalformed, "claims are not a JSON object")
	}
	t := &Token{Raw: raw, Algorithm: *header.Alg}
	var err error
	if t.Issuer, err = stringClaim(c, "iss", true); err != nil {
		return nil, err
	}
	if t.Subject, err = stringClaim(c, "sub", true); err != nil {
		return nil, err
	}
	if t.Email, err = stringClaim(c, "email", false); err != nil {
		return nil, err
	}
	if t.Audience, err = audienceClaim(c); err != nil {
		return nil, err
	}
	if t.Expiry, err = timeClaim(c, "exp", true); err != nil {
		return nil, err
	}
	if t.NotBefore, err = timeClaim(c, "nbf", false); err != nil {
		return nil, err
	}
	if t.IssuedAt, err = timeClaim(c, "iat", false); err != nil {
		return nil, err
	}
	return t, nil
}

// Validate rejects a token that is expired (beyond ExpirySkew), not yet
// valid (nbf beyond NotBeforeSkew) or not meant for audience.
func (t *Token) Validate(now time.Time, audience string) error {
	if now.After(t.Expiry.Add(ExpirySkew)) {
		return newError(ErrExpired, "expired at %s (now %s)", t.Expiry.UTC().Format(time.RFC3339), clock(now, t.Expiry))
	}
	if !t.NotBefore.IsZero() && t.NotBefore.After(now.Add(NotBeforeSkew)) {
		return newError(ErrNotYetValid, "not valid before %s (now %s)", t.NotBefore.UTC().Format(time.RFC3339), clock(now, t.NotBefore))
	}
	for _, a := range t.Audience {
		if a == audience {
			return nil
		}
	}
	return newError(ErrWrongAudience, "audience is %s, want %q", quoteList(t.Audience), audience)
}

// clock prints now as a time of day when it falls on the same UTC day as
// ref, else in full.
func clock(now, ref time.Time) string {
	now, ref = now.UTC(), ref.UTC()
	if now.Format(time.DateOnly) == ref.Format(time.DateOnly) {
		return now.Format("15:04:05Z")
	}
	return now.Format(time.RFC3339)
}

func quoteList(ss []string) string {
	b, _ := json.Marshal(ss) // strings only: cannot fail
	if ss == nil {
		return "[]"
	}
	return string(b)
}

// decodeObject decodes a JSON object (and nothing after it) into v.
func decodeObject(data []byte, v any) error {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || data[0] != '{' {
		return errors.New("not an object")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("data after the object")
	}
	return nil
}

func stringClaim(c map[string]json.RawMessage, name string, required bool) (string, error) {
	raw, ok := c[name]
	if !ok || string(raw) == "null" {
		if required {
			return "", newError(ErrMalformed, "no %s claim", name)
		}
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", newError(ErrMalformed, "%s claim is not a string", name)
	}
	if required && s == "" {
		return "", newError(ErrMalformed, "empty %s claim", name)
	}
	return s, nil
}

// audienceClaim reads aud, a string or a list of strings (RFC 7519 4.1.3).
func audienceClaim(c map[string]json.RawMessage) ([]string, error) {
	raw, ok := c["aud"]
	if !ok || string(raw) == "null" {
		return nil, newError(ErrMalformed, "no aud claim")
	}
	var one string
	if err := json.Unmarshal(raw, &one); err == nil {
		return []string{one}, nil
	}
	var many []string
	if err := json.Unmarshal(raw, &many); err != nil {
		return nil, newError(ErrMalformed, "aud claim is neither a string nor a list of strings")
	}
	if len(many) == 0 {
		return nil, newError(ErrMalformed, "empty aud claim")
	}
	return many, nil
}

// timeClaim reads a NumericDate: seconds since the epoch, possibly
// fractional.
func timeClaim(c map[string]json.RawMessage, name string, required bool) (time.Time, error) {
	raw, ok := c[name]
	if !ok || string(raw) == "null" {
		if required {
			return time.Time{}, newError(ErrMalformed, "no %s claim", name)
		}
		return time.Time{}, nil
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		return time.Time{}, newError(ErrMalformed, "%s claim is not a number", name)
	}
	f, err := n.Float64()
	// Years beyond 9999 don't print in RFC 3339; no real token has them.
	if err != nil || math.IsNaN(f) || f < 0 || f > 253402300799 {
		return time.Time{}, newError(ErrMalformed, "%s claim is out of range", name)
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
}
