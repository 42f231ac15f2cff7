// Package output is the machine-readable side of signet's verbs: the
// --output/-o (or, where cosign already gives --output another meaning,
// --output-format) flag, and the JSON shapes several verbs share. The
// schemas are documented in docs/JSON-OUTPUT.md; fields are only ever
// added, never renamed.
package output

import (
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/spf13/pflag"

	"github.com/signetdev/signet/internal/cli"
	"github.com/signetdev/signet/pkg/verifier"
)

// Text and JSON are the formats.
const (
	Text = "text"
	JSON = "json"
)

// Format is an output format flag.
type Format struct {
	flag  string
	value string
}

// AddFlag registers the flag as name (and short, if not ""), default text.
func (f *Format) AddFlag(fs *pflag.FlagSet, name, short string) {
	f.flag = name
	fs.StringVarP(&f.value, name, short, Text, "output format (text|json); json prints one JSON document on stdout (see docs/JSON-OUTPUT.md)")
	// Not from COSIGN_OUTPUT: cosign reads it for sign-blob's signature
	// file, and verify's -o is the only one of cosign's it could mean.
	_ = fs.SetAnnotation(name, cli.NoEnvFlag, []string{"true"})
}

// Set chooses the format (tests, and verbs that build options by hand).
func (f *Format) Set(v string) { f.value = v }

// Check rejects a format other than text and json, naming the flag.
func (f *Format) Check() error {
	switch f.value {
	case Text, JSON, "":
		return nil
	}
	return fmt.Errorf("--%s %q: want text or json", f.flag, f.value)
}

// JSON reports whether JSON was asked for. Progress bars and the
// human-readable lines on stdout are off then.
func (f *Format) JSON() bool { return f.value == JSON }

// Print writes v as one indented JSON document and a newline.
func Print(w io.Writer, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding the JSON output: %w", err)
	}
	_, err = w.Write(append(data, '\n'))
	return err
}

// Certificate is what a Fulcio certificate says about who signed.
type Certificate struct {
	// Identity is the subject alternative name identities are matched
	// against (--certificate-identity): a URI, an email address...
	Identity string `json:"identity"`
	// SubjectAlternativeNames are all of them, when there are several.
	SubjectAlternativeNames []string `json:"subjectAlternativeNames,omitempty"`
	// Issuer is the OIDC issuer (--certificate-oidc-issuer).
	Issuer string `json:"issuer"`
	// Extensions are Fulcio's extensions by the name signet's flags use
	// (--certificate-<name>); an extension signet has no name for is
	// keyed by its dotted OID.
	Extensions   map[string]string `json:"extensions,omitempty"`
	SerialNumber string            `json:"serialNumber"`
	NotBefore    time.Time         `json:"notBefore"`
	NotAfter     time.Time         `json:"notAfter"`
	// CertificateIssuer is the issuing CA's subject (Fulcio's intermediate).
	CertificateIssuer string `json:"certificateIssuer"`
}

// The OIDC issuer extensions (legacy and current), reported as Issuer.
const (
	issuerV1 = "1.3.6.1.4.1.57264.1.1"
	issuerV2 = "1.3.6.1.4.1.57264.1.8"
)

// NewCertificate describes cert from its parsed claims.
func NewCertificate(cert *x509.Certificate, claims verifier.CertificateClaims) *Certificate {
	if cert == nil {
		return nil
	}
	c := &Certificate{
		Issuer:            claims.Issuer,
		SerialNumber:      cert.SerialNumber.String(),
		NotBefore:         cert.NotBefore.UTC(),
		NotAfter:          cert.NotAfter.UTC(),
		CertificateIssuer: cert.Issuer.String(),
	}
	if len(claims.SANs) > 0 {
		c.Identity = claims.SANs[0]
	}
	if len(claims.SANs) > 1 {
		c.SubjectAlternativeNames = claims.SANs
	}
	names := map[string]string{}
	for _, cl := range verifier.Claims {
		names[cl.OID.String()] = cl.Name
	}
	for oid, v := range claims.Extensions {
		if oid == issuerV1 || oid == issuerV2 {
			continue // Issuer, above
		}
		if c.Extensions == nil {
			c.Extensions = map[string]string{}
		}
		if n, ok := names[oid]; ok {
			c.Extensions[n] = v
		} else {
			c.Extensions[oid] = v
		}
	}
	return c
}

// Timestamp is one verified time the signature is known to have existed.
type Timestamp struct {
	// Type is "Tlog" (a transparency log's integrated time) or
	// "TimestampAuthority" (an RFC 3161 timestamp), as sigstore-go says.
	Type string    `json:"type"`
	URI  string    `json:"uri,omitempty"`
	Time time.Time `json:"time"`
}

// NewTimestamps converts sigstore-go's verified timestamps.
func NewTimestamps(ts []verify.TimestampVerificationResult) []Timestamp {
	out := make([]Timestamp, 0, len(ts))
	for _, t := range ts {
		out = append(out, Timestamp{Type: t.Type, URI: t.URI, Time: t.Timestamp.UTC()})
	}
	return out
}
