package kube

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"testing"
)

func TestCAIssuesVerifiableCertificates(t *testing.T) {
	ca, err := NewCA("test-ca")
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca.CertPEM)

	serving, err := ca.ServingCert("webhook")
	if err != nil {
		t.Fatal(err)
	}
	cert := parseLeaf(t, serving)
	if _, err := cert.Verify(x509.VerifyOptions{Roots: pool, DNSName: "127.0.0.1"}); err != nil {
		t.Errorf("serving certificate does not verify for 127.0.0.1: %v", err)
	}
	if _, err := tls.X509KeyPair(serving.CertPEM, serving.KeyPEM); err != nil {
		t.Errorf("serving key does not match its certificate: %v", err)
	}

	client, err := ca.ClientCert("admin", "system:masters")
	if err != nil {
		t.Fatal(err)
	}
	cc := parseLeaf(t, client)
	if _, err := cc.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("client certificate does not verify for client auth: %v", err)
	}
	if cc.Subject.CommonName != "admin" || len(cc.Subject.Organization) != 1 || cc.Subject.Organization[0] != "system:masters" {
		t.Errorf("client subject %v, want CN=admin O=system:masters", cc.Subject)
	}
	if _, err := cc.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err == nil {
		t.Error("the client certificate verifies for server auth too")
	}
}

func parseLeaf(t *testing.T, l Leaf) *x509.Certificate {
	t.Helper()
	b, _ := pem.Decode(l.CertPEM)
	if b == nil {
		t.Fatal("no PEM certificate")
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestWarnings(t *testing.T) {
	h := http.Header{}
	h.Add("Warning", `299 - "image example.com/app:1 is not signed (mode warn)"`)
	h.Add("Warning", `malformed`)
	got := warnings(h)
	want := []string{"image example.com/app:1 is not signed (mode warn)", "malformed"}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("warnings = %q, want %q", got, want)
	}
}

func TestFreePortsAreDistinctAndEphemeral(t *testing.T) {
	ports, err := freePorts(5)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, p := range ports {
		if seen[p] {
			t.Errorf("port %d returned twice", p)
		}
		seen[p] = true
		// The local Sigstore stack's fixed ports are all below 10000.
		if p < 10000 {
			t.Errorf("port %d is outside the ephemeral range", p)
		}
	}
}

func TestIsSignetModule(t *testing.T) {
	for in, want := range map[string]bool{
		"module github.com/signetdev/signet\n\ngo 1.26\n":  true,
		"// comment\nmodule github.com/signetdev/signet\n": true,
		"module signet.test/kubebuild\n":                   false,
		"module github.com/signetdev/signet/tools\n":       false,
	} {
		if got := isSignetModule([]byte(in)); got != want {
			t.Errorf("isSignetModule(%q) = %v, want %v", in, got, want)
		}
	}
}
