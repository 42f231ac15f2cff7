package fakesigstore

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"net/url"
	"testing"
	"time"

	"github.com/signetdev/signet/pkg/verifier"
)

// ClaimsSAN and ClaimsIssuer are the identity of ClaimsLeaf.
const (
	ClaimsSAN    = "https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main"
	ClaimsIssuer = "https://token.example"
)

// ClaimsLeaf is a leaf template (for CA.SignBlob) for ClaimsSAN from
// ClaimsIssuer, valid ten minutes, carrying every Fulcio claim signet
// matches (verifier.Claims), each with the value ClaimValue(name).
func ClaimsLeaf(t testing.TB) *x509.Certificate {
	t.Helper()
	san, err := url.Parse(ClaimsSAN)
	if err != nil {
		t.Fatal(err)
	}
	leaf := &x509.Certificate{NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(10 * time.Minute), URIs: []*url.URL{san},
		ExtraExtensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 8}, Value: derUTF8(t, ClaimsIssuer)}}}
	for _, c := range verifier.Claims {
		val := derUTF8(t, ClaimValue(c.Name))
		if c.OID[len(c.OID)-1] <= 6 {
			val = []byte(ClaimValue(c.Name)) // the legacy GitHub OIDs hold raw strings
		}
		leaf.ExtraExtensions = append(leaf.ExtraExtensions, pkix.Extension{Id: c.OID, Value: val})
	}
	return leaf
}

// ClaimValue is the value ClaimsLeaf gives the claim.
func ClaimValue(name string) string { return "value-of-" + name }

func derUTF8(t testing.TB, s string) []byte {
	t.Helper()
	b, err := asn1.MarshalWithParams(s, "utf8")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Leaf is a leaf template (for CA.SignBlob) for an email identity from
// issuer, valid from notBefore to notAfter.
func Leaf(t testing.TB, email, issuer string, notBefore, notAfter time.Time) *x509.Certificate {
	t.Helper()
	return &x509.Certificate{NotBefore: notBefore, NotAfter: notAfter, EmailAddresses: []string{email},
		ExtraExtensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 8}, Value: derUTF8(t, issuer)}}}
}
