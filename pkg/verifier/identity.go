package verifier

import (
	"crypto/x509"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Matcher matches a string exactly or with a regular expression. Regular
// expressions are Go RE2 and, as in cosign, not anchored: use ^…$ to pin a
// whole value.
type Matcher struct {
	Exact  string
	Regexp *regexp.Regexp
}

// NewMatcher builds a matcher from an exact value and a pattern; at most
// one may be set. flag names the pair in errors.
func NewMatcher(flag, exact, pattern string) (Matcher, error) {
	if exact != "" && pattern != "" {
		return Matcher{}, fmt.Errorf("--%s and --%s-regexp are mutually exclusive", flag, flag)
	}
	if pattern == "" {
		return Matcher{Exact: exact}, nil
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return Matcher{}, fmt.Errorf("--%s-regexp: invalid regular expression: %w", flag, err)
	}
	return Matcher{Regexp: re}, nil
}

// IsZero reports whether the matcher matches anything (nothing was asked).
func (m Matcher) IsZero() bool { return m.Exact == "" && m.Regexp == nil }

// Match reports whether v satisfies the matcher.
func (m Matcher) Match(v string) bool {
	if m.Regexp != nil {
		return m.Regexp.MatchString(v)
	}
	return m.Exact == v
}

func (m Matcher) String() string {
	if m.Regexp != nil {
		return fmt.Sprintf("matching /%s/", m.Regexp.String())
	}
	return fmt.Sprintf("%q", m.Exact)
}

// ExtensionMatcher pins one certificate extension.
type ExtensionMatcher struct {
	OID     string // dotted
	Name    string // for messages: the flag name
	Matcher Matcher
}

// Identity is who must have signed: the certificate's SAN and OIDC issuer,
// and optionally any Fulcio extension.
type Identity struct {
	SAN        Matcher
	Issuer     Matcher
	Extensions []ExtensionMatcher
}

// IsZero reports whether no identity constraint was given.
func (id Identity) IsZero() bool {
	return id.SAN.IsZero() && id.Issuer.IsZero() && len(id.Extensions) == 0
}

// validate enforces cosign's rule: keyless verification needs both an
// identity and an issuer.
func (id Identity) validate() error {
	var missing []string
	if id.SAN.IsZero() {
		missing = append(missing, "--certificate-identity or --certificate-identity-regexp")
	}
	if id.Issuer.IsZero() {
		missing = append(missing, "--certificate-oidc-issuer or --certificate-oidc-issuer-regexp")
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s %s required for verification in keyless mode", strings.Join(missing, " and "), map[bool]string{true: "are", false: "is"}[len(missing) > 1])
	}
	return nil
}

// ErrIdentityMismatch is wrapped by every identity mismatch.
var ErrIdentityMismatch = errors.New("certificate identity mismatch")

// Check tests a certificate against the identity. The error names the
// claim that failed, what was expected and what the certificate holds.
func (id Identity) Check(cert *x509.Certificate) error {
	claims, err := ParseClaims(cert)
	if err != nil {
		return err
	}
	return id.check(claims)
}

func (id Identity) check(c CertificateClaims) error {
	if !id.SAN.IsZero() {
		ok := false
		for _, s := range c.SANs {
			if id.SAN.Match(s) {
				ok = true
				break
			}
		}
		if !ok {
			return fmt.Errorf("%w: expected identity (SAN) %s, certificate has %s (issuer %q)", ErrIdentityMismatch, id.SAN, describeSANs(c.SANs), c.Issuer)
		}
	}
	if !id.Issuer.IsZero() && !id.Issuer.Match(c.Issuer) {
		return fmt.Errorf("%w: expected OIDC issuer %s, certificate has %q (identity %s)", ErrIdentityMismatch, id.Issuer, c.Issuer, describeSANs(c.SANs))
	}
	for _, e := range id.Extensions {
		v, present := c.Extensions[e.OID]
		if !present {
			return fmt.Errorf("%w: expected %s (%s) %s, certificate has no such extension", ErrIdentityMismatch, e.Name, e.OID, e.Matcher)
		}
		if !e.Matcher.Match(v) {
			return fmt.Errorf("%w: expected %s (%s) %s, certificate has %q", ErrIdentityMismatch, e.Name, e.OID, e.Matcher, v)
		}
	}
	return nil
}
