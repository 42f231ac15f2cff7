package verifier

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"net/url"
	"strings"
	"testing"
	"time"
)

func derString(t *testing.T, s string) []byte {
	b, err := asn1.MarshalWithParams(s, "utf8")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// gitlabCert is shaped like a Fulcio certificate for a GitLab CI job.
func gitlabCert(t *testing.T, extra ...pkix.Extension) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	san, _ := url.Parse("https://gitlab.example.com/acme/app//.gitlab-ci.yml@refs/heads/main")
	exts := []pkix.Extension{
		{Id: fulcioOID(1), Value: []byte("https://gitlab.example.com")},
		{Id: fulcioOID(8), Value: derString(t, "https://gitlab.example.com")},
		{Id: fulcioOID(11), Value: derString(t, "gitlab-hosted")},
		{Id: fulcioOID(12), Value: derString(t, "https://gitlab.example.com/acme/app")},
		{Id: fulcioOID(14), Value: derString(t, "refs/heads/main")},
		{Id: fulcioOID(20), Value: derString(t, "push")},
		{Id: fulcioOID(22), Value: derString(t, "private")},
	}
	tmpl := &x509.Certificate{
		SerialNumber:    big.NewInt(1),
		NotBefore:       time.Now(),
		NotAfter:        time.Now().Add(10 * time.Minute),
		URIs:            []*url.URL{san},
		EmailAddresses:  []string{"second-san@example.com"},
		ExtraExtensions: append(exts, extra...),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func mustMatcher(t *testing.T, flag, exact, re string) Matcher {
	m, err := NewMatcher(flag, exact, re)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestIdentityCheck(t *testing.T) {
	cert := gitlabCert(t)
	san := "https://gitlab.example.com/acme/app//.gitlab-ci.yml@refs/heads/main"
	iss := "https://gitlab.example.com"
	ext := func(name, exact, re string) ExtensionMatcher {
		for _, c := range Claims {
			if c.Name == name {
				return ExtensionMatcher{OID: c.OID.String(), Name: "--certificate-" + name, Matcher: mustMatcher(t, name, exact, re)}
			}
		}
		t.Fatalf("no claim %s", name)
		return ExtensionMatcher{}
	}
	tests := []struct {
		name    string
		id      Identity
		wantErr string
	}{
		{"exact", Identity{SAN: Matcher{Exact: san}, Issuer: Matcher{Exact: iss}}, ""},
		{"any SAN matches", Identity{SAN: Matcher{Exact: "second-san@example.com"}, Issuer: Matcher{Exact: iss}}, ""},
		{"regexp is not anchored, as in cosign", Identity{SAN: mustMatcher(t, "i", "", "acme/app"), Issuer: mustMatcher(t, "o", "", "gitlab")}, ""},
		{"anchored regexp", Identity{SAN: mustMatcher(t, "i", "", "^https://gitlab\\.example\\.com/acme/"), Issuer: Matcher{Exact: iss}}, ""},
		{"wrong SAN", Identity{SAN: Matcher{Exact: san + "x"}, Issuer: Matcher{Exact: iss}}, `expected identity (SAN) "` + san + `x", certificate has "` + san + `", "second-san@example.com" (issuer "` + iss + `")`},
		{"wrong issuer", Identity{SAN: Matcher{Exact: san}, Issuer: Matcher{Exact: "https://gitlab.com"}}, `expected OIDC issuer "https://gitlab.com", certificate has "https://gitlab.example.com"`},
		{"extensions match", Identity{SAN: Matcher{Exact: san}, Issuer: Matcher{Exact: iss}, Extensions: []ExtensionMatcher{
			ext("source-repository-ref", "refs/heads/main", ""), ext("runner-environment", "gitlab-hosted", ""),
			ext("source-repository-uri", "", "^https://gitlab.example.com/acme/"), ext("source-repository-visibility", "private", ""),
		}}, ""},
		{"extension differs", Identity{SAN: Matcher{Exact: san}, Issuer: Matcher{Exact: iss}, Extensions: []ExtensionMatcher{ext("source-repository-ref", "refs/heads/dev", "")}},
			`expected --certificate-source-repository-ref (1.3.6.1.4.1.57264.1.14) "refs/heads/dev", certificate has "refs/heads/main"`},
		{"extension absent", Identity{SAN: Matcher{Exact: san}, Issuer: Matcher{Exact: iss}, Extensions: []ExtensionMatcher{ext("deployment-environment", "production", "")}},
			`expected --certificate-deployment-environment (1.3.6.1.4.1.57264.1.23) "production", certificate has no such extension`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.id.Check(cert)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v, want it to contain %s", err, tc.wantErr)
			}
		})
	}
}

func TestParseClaims(t *testing.T) {
	c, err := ParseClaims(gitlabCert(t, pkix.Extension{Id: fulcioOID(24), Value: derString(t, "project_path:acme/app:ref_type:branch:ref:main")}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Issuer != "https://gitlab.example.com" || c.Extensions["1.3.6.1.4.1.57264.1.24"] != "project_path:acme/app:ref_type:branch:ref:main" || c.Extensions["1.3.6.1.4.1.57264.1.1"] != "https://gitlab.example.com" {
		t.Fatalf("%+v", c)
	}
	// The v2 issuer (.8) wins over the legacy raw one (.1).
	c, err = ParseClaims(gitlabCert(t))
	if err != nil {
		t.Fatal(err)
	}
	if c.Issuer != "https://gitlab.example.com" {
		t.Fatal(c.Issuer)
	}
	// A .8+ extension that is not a DER string is an error, not garbage.
	if _, err := ParseClaims(gitlabCert(t, pkix.Extension{Id: fulcioOID(19), Value: []byte("raw")})); err == nil || !strings.Contains(err.Error(), "1.3.6.1.4.1.57264.1.19") {
		t.Fatalf("malformed extension: %v", err)
	}
}

func TestNewMatcher(t *testing.T) {
	if _, err := NewMatcher("certificate-identity", "a", "b"); err == nil || !strings.Contains(err.Error(), "mutually exclusive") {
		t.Error(err)
	}
	if _, err := NewMatcher("certificate-identity", "", "("); err == nil || !strings.Contains(err.Error(), "--certificate-identity-regexp") {
		t.Error(err)
	}
}

func TestPolicyValidate(t *testing.T) {
	if err := (Policy{}).Validate(); err == nil || !strings.Contains(err.Error(), "--certificate-identity or --certificate-identity-regexp and --certificate-oidc-issuer or --certificate-oidc-issuer-regexp are required") {
		t.Error(err)
	}
	if err := (Policy{Identity: Identity{SAN: Matcher{Exact: "x"}}}).Validate(); err == nil || !strings.Contains(err.Error(), "--certificate-oidc-issuer") {
		t.Error(err)
	}
}
