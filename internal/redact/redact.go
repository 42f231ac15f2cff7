// Package redact hides the secrets a key reference or URL may carry before
// signet echoes it: a PKCS#11 URI's pin-value, the password of a URL's
// user info, and query parameters that hold tokens or passwords. Every
// message that names a --key, --kms, image or service URL goes through it,
// because users paste these strings with their secrets inside.
package redact

import "strings"

// Marker replaces a secret.
const Marker = "REDACTED"

// secretParams are attribute or query names whose value is a secret
// (compared without case). pin-value is RFC 7512's; the others are the
// spellings URLs use for credentials.
var secretParams = map[string]bool{
	"pin-value":     true,
	"password":      true,
	"passwd":        true,
	"pass":          true,
	"token":         true, // not in pkcs11: URIs, where it is the label
	"access_token":  true,
	"access-token":  true,
	"id_token":      true,
	"client_secret": true,
	"secret":        true,
	"api_key":       true,
	"apikey":        true,
}

// Ref returns s with every secret replaced by Marker; anything else is
// kept byte for byte, so the user still recognises what they typed.
func Ref(s string) string {
	var b strings.Builder
	for _, p := range parts(s) {
		if p.secret {
			b.WriteString(Marker)
		} else {
			b.WriteString(p.text)
		}
	}
	return b.String()
}

// Secrets returns the secret values s holds (see parts). Empty values are
// not secrets.
func Secrets(s string) []string {
	var out []string
	for _, p := range parts(s) {
		if p.secret && p.text != "" {
			out = append(out, p.text)
		}
	}
	return out
}

type part struct {
	text   string
	secret bool
}

// parts splits s into runs of text and secrets: parameter values named in
// secretParams (in a pkcs11: URI, the path attributes and query, where
// only pin-value is secret: token= is the token's label; in a URL, the
// query), and the password of user info ("user:pass@host"), also in a
// scheme-less registry reference.
func parts(s string) []part {
	var out []part
	// User info first: it comes before any query.
	if start, end := userinfoPassword(s); end > start {
		out = append(out, part{text: s[:start]}, part{text: s[start:end], secret: true})
		s = s[end:]
	}
	pkcs11 := strings.HasPrefix(strings.ToLower(s), "pkcs11:")
	i := len("pkcs11:")
	if !pkcs11 {
		if i = strings.IndexByte(s, '?') + 1; i == 0 {
			return append(out, part{text: s})
		}
	}
	out = append(out, part{text: s[:i]})
	s = s[i:]
	for s != "" {
		j := strings.IndexAny(s, "?;&#")
		field, sep := s, ""
		if j >= 0 {
			field, sep = s[:j], s[j:j+1]
		}
		k, v, ok := strings.Cut(field, "=")
		name := strings.ToLower(k)
		if ok && v != "" && (name == "pin-value" || (!pkcs11 && secretParams[name])) {
			out = append(out, part{text: k + "="}, part{text: v, secret: true})
		} else {
			out = append(out, part{text: field})
		}
		out = append(out, part{text: sep})
		if j < 0 {
			break
		}
		s = s[j+1:]
	}
	return out
}

// userinfoPassword returns the byte range of the password in
// "user:password@" at the start of the authority of a URL (after
// "scheme://") or of a scheme-less registry reference. "name:tag@sha256:…"
// is a digest reference, not user info.
func userinfoPassword(s string) (start, end int) {
	off := 0
	if i := strings.Index(s, "://"); i >= 0 {
		off = i + 3
	}
	auth := s[off:]
	if i := strings.IndexAny(auth, "/?#"); i >= 0 {
		auth = auth[:i]
	}
	at := strings.LastIndexByte(auth, '@')
	if at < 0 {
		return 0, 0
	}
	if rest := s[off+at+1:]; strings.HasPrefix(rest, "sha256:") || strings.HasPrefix(rest, "sha512:") {
		return 0, 0
	}
	colon := strings.IndexByte(auth[:at], ':')
	if colon < 0 {
		return 0, 0
	}
	return off + colon + 1, off + at
}

// Error returns err with every secret of refs removed from its message;
// errors.Is and errors.As still see the original. A provider's error may
// quote the reference it was given, so the caller's redacted prefix alone
// is not enough.
func Error(err error, refs ...string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	changed := false
	for _, ref := range refs {
		for _, sec := range Secrets(ref) {
			if strings.Contains(msg, sec) {
				msg = strings.ReplaceAll(msg, sec, Marker)
				changed = true
			}
		}
	}
	if !changed {
		return err
	}
	return &redacted{msg: msg, err: err}
}

type redacted struct {
	msg string
	err error
}

func (r *redacted) Error() string { return r.msg }
func (r *redacted) Unwrap() error { return r.err }
