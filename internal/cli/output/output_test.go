package output

import (
	"bytes"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/signetdev/signet/pkg/verifier"
)

func TestCertificateNamesExtensions(t *testing.T) {
	cert := &x509.Certificate{SerialNumber: big.NewInt(42), Issuer: pkix.Name{CommonName: "sigstore-intermediate"},
		NotBefore: time.Unix(0, 0), NotAfter: time.Unix(600, 0)}
	claims := verifier.CertificateClaims{
		SANs:   []string{"https://gitlab.com/acme/app//.gitlab-ci.yml@refs/heads/main", "ci@example.com"},
		Issuer: "https://gitlab.com",
		Extensions: map[string]string{
			"1.3.6.1.4.1.57264.1.8":  "https://gitlab.com",
			"1.3.6.1.4.1.57264.1.14": "refs/heads/main",
			"1.3.6.1.4.1.57264.1.99": "future",
		},
	}
	c := NewCertificate(cert, claims)
	if c.Identity != claims.SANs[0] || len(c.SubjectAlternativeNames) != 2 || c.Issuer != "https://gitlab.com" || c.SerialNumber != "42" ||
		c.CertificateIssuer != "CN=sigstore-intermediate" {
		t.Errorf("certificate: %+v", c)
	}
	want := map[string]string{"source-repository-ref": "refs/heads/main", "1.3.6.1.4.1.57264.1.99": "future"}
	if len(c.Extensions) != len(want) || c.Extensions["source-repository-ref"] != want["source-repository-ref"] || c.Extensions["1.3.6.1.4.1.57264.1.99"] != "future" {
		t.Errorf("extensions %v, want %v (the issuer is not repeated)", c.Extensions, want)
	}
	if NewCertificate(nil, claims) != nil {
		t.Error("a key signature got a certificate")
	}
}

func TestFormatFlag(t *testing.T) {
	fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
	var f Format
	f.AddFlag(fs, "output", "o")
	if f.JSON() || f.Check() != nil {
		t.Fatal("the default is not text")
	}
	if err := fs.Parse([]string{"-o", "json"}); err != nil || !f.JSON() {
		t.Fatalf("-o json: %v", err)
	}
	f.Set("xml")
	if err := f.Check(); err == nil || err.Error() != `--output "xml": want text or json` {
		t.Errorf("Check: %v", err)
	}
	var buf bytes.Buffer
	if err := Print(&buf, map[string]int{"a": 1}); err != nil || !strings.HasSuffix(buf.String(), "}\n") || !json.Valid(buf.Bytes()) {
		t.Errorf("Print: %q %v", buf.String(), err)
	}
}
