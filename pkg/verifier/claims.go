package verifier

import (
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"net"
	"strings"

	"github.com/sigstore/sigstore/pkg/cryptoutils"
)

// Claim names a value Fulcio puts in a certificate: the OIDC issuer and the
// extensions under 1.3.6.1.4.1.57264.1. Flag names derive from these
// (--certificate-<name>, --certificate-<name>-regexp).
type Claim struct {
	Name string // flag suffix, e.g. "source-repository-ref"
	OID  asn1.ObjectIdentifier
	Doc  string
}

var fulcioArc = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1}

func fulcioOID(n int) asn1.ObjectIdentifier {
	return append(append(asn1.ObjectIdentifier{}, fulcioArc...), n)
}

// Claims are the Fulcio certificate extensions signet can match, in OID
// order (Fulcio docs/oid-info.md). The legacy GitHub OIDs .2–.6 are matched
// by cosign's --certificate-github-workflow-* flags; they are listed so that
// error messages can name them.
var Claims = []Claim{
	{"github-workflow-trigger", fulcioOID(2), "GitHub workflow trigger (legacy OID .2)"},
	{"github-workflow-sha", fulcioOID(3), "GitHub workflow commit SHA (legacy OID .3)"},
	{"github-workflow-name", fulcioOID(4), "GitHub workflow name (legacy OID .4)"},
	{"github-workflow-repository", fulcioOID(5), "GitHub workflow repository (legacy OID .5)"},
	{"github-workflow-ref", fulcioOID(6), "GitHub workflow ref (legacy OID .6)"},
	{"build-signer-uri", fulcioOID(9), "build signer URI: the build instructions that signed (OID .9)"},
	{"build-signer-digest", fulcioOID(10), "build signer digest (OID .10)"},
	{"runner-environment", fulcioOID(11), "runner environment, e.g. github-hosted, gitlab-hosted, self-hosted (OID .11)"},
	{"source-repository-uri", fulcioOID(12), "source repository URI (OID .12)"},
	{"source-repository-digest", fulcioOID(13), "source repository commit digest (OID .13)"},
	{"source-repository-ref", fulcioOID(14), "source repository ref, e.g. refs/heads/main (OID .14)"},
	{"source-repository-identifier", fulcioOID(15), "source repository immutable identifier (OID .15)"},
	{"source-repository-owner-uri", fulcioOID(16), "source repository owner URI (OID .16)"},
	{"source-repository-owner-identifier", fulcioOID(17), "source repository owner immutable identifier (OID .17)"},
	{"build-config-uri", fulcioOID(18), "build config URI: the top-level build instructions (OID .18)"},
	{"build-config-digest", fulcioOID(19), "build config digest (OID .19)"},
	{"build-trigger", fulcioOID(20), "build trigger, e.g. push, pipeline source (OID .20)"},
	{"run-invocation-uri", fulcioOID(21), "run invocation URI: the CI job (OID .21)"},
	{"source-repository-visibility", fulcioOID(22), "source repository visibility at signing, e.g. public, private (OID .22)"},
	{"deployment-environment", fulcioOID(23), "deployment environment (OID .23)"},
	{"token-subject", fulcioOID(24), "OIDC token subject (OID .24)"},
}

var (
	oidIssuerV1 = fulcioOID(1)
	oidIssuerV2 = fulcioOID(8)
)

// CertificateClaims is what a Fulcio certificate says about its subject.
type CertificateClaims struct {
	// SANs are every subject alternative name: URIs, emails, DNS names, IP
	// addresses and the Fulcio otherName (username) SAN.
	SANs []string
	// Issuer is the OIDC issuer (OID .8, else the legacy .1).
	Issuer string
	// Extensions maps a dotted OID to its string value.
	Extensions map[string]string
}

// ParseClaims reads the identity claims of a certificate. It fails only on
// malformed extensions; a certificate without Fulcio extensions yields
// empty claims.
func ParseClaims(cert *x509.Certificate) (CertificateClaims, error) {
	c := CertificateClaims{Extensions: map[string]string{}}
	for _, u := range cert.URIs {
		c.SANs = append(c.SANs, u.String())
	}
	c.SANs = append(c.SANs, cert.EmailAddresses...)
	c.SANs = append(c.SANs, cert.DNSNames...)
	for _, ip := range cert.IPAddresses {
		c.SANs = append(c.SANs, net.IP(ip).String())
	}
	if other, err := cryptoutils.UnmarshalOtherNameSAN(cert.Extensions); err == nil && other != "" {
		c.SANs = append(c.SANs, other)
	}

	for _, ext := range cert.Extensions {
		if !hasPrefix(ext.Id, fulcioArc) || len(ext.Id) != len(fulcioArc)+1 {
			continue
		}
		n := ext.Id[len(fulcioArc)]
		var v string
		switch {
		case n == 7: // otherName SAN marker, handled above
			continue
		case n <= 6:
			// The first extensions hold the raw string, not DER.
			v = string(ext.Value)
		default:
			var s string
			rest, err := asn1.Unmarshal(ext.Value, &s)
			if err != nil {
				return CertificateClaims{}, fmt.Errorf("certificate extension %s: not a DER string: %w", ext.Id, err)
			}
			if len(rest) != 0 {
				return CertificateClaims{}, fmt.Errorf("certificate extension %s: trailing data after DER string", ext.Id)
			}
			v = s
		}
		c.Extensions[ext.Id.String()] = v
	}
	if v, ok := c.Extensions[oidIssuerV2.String()]; ok {
		c.Issuer = v
	} else {
		c.Issuer = c.Extensions[oidIssuerV1.String()]
	}
	return c, nil
}

func hasPrefix(oid, prefix asn1.ObjectIdentifier) bool {
	if len(oid) < len(prefix) {
		return false
	}
	return oid[:len(prefix)].Equal(prefix)
}

// describeSANs renders SANs for an error message.
func describeSANs(sans []string) string {
	if len(sans) == 0 {
		return "none"
	}
	q := make([]string, len(sans))
	for i, s := range sans {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}
