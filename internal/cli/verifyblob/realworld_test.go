package verifyblob_test

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/signetdev/signet/internal/testing/clitest"
	"github.com/signetdev/signet/internal/testing/shared"
)

// TestConformance runs every conformance case through the CLI, by path and
// by digest, with only the flags the README allows; none may touch the
// network.
func TestConformance(t *testing.T) {
	for _, c := range shared.Conformance(t) {
		t.Run(c.Name, func(t *testing.T) {
			for _, art := range []string{c.Artifact, c.ArtifactDigest(t)} {
				r := clitest.Run(t, clitest.Options{}, c.VerifyArgs(art)...)
				if r.NetworkCalls != 0 {
					t.Errorf("%s: %d network calls, want none", art, r.NetworkCalls)
				}
				if c.WantFail {
					r.CheckOneErrorLine(t)
					continue
				}
				if r.Code != 0 || !strings.Contains(r.Stderr, "Verified OK") {
					t.Errorf("%s: exit %d, stderr:\n%s", art, r.Code, r.Stderr)
				}
			}
		})
	}
}

// statementSubjectDigest reads a subject digest out of a DSSE bundle.
func statementSubjectDigest(t *testing.T, bundlePath, alg string) string {
	t.Helper()
	var b struct {
		DsseEnvelope struct {
			Payload string `json:"payload"`
		} `json:"dsseEnvelope"`
	}
	data, err := os.ReadFile(bundlePath)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &b); err != nil {
		t.Fatal(err)
	}
	payload, err := base64.StdEncoding.DecodeString(b.DsseEnvelope.Payload)
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Subject []struct {
			Digest map[string]string `json:"digest"`
		} `json:"subject"`
	}
	if err := json.Unmarshal(payload, &st); err != nil {
		t.Fatal(err)
	}
	return st.Subject[0].Digest[alg]
}

// TestPublicGood runs every verification listed in the shared testdata
// README (cosign syntax, accepted as is) and a few that must fail.
func TestPublicGood(t *testing.T) {
	pg := func(name string) string { return shared.Path(t, "public-good", name) }
	prod := shared.Path(t, "trust", "production-trusted-root.json")
	gh := []string{
		"--certificate-identity", "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main",
		"--certificate-oidc-issuer", "https://token.actions.githubusercontent.com",
	}
	email := []string{"--certificate-identity", "brian@dehamer.com", "--certificate-oidc-issuer", "https://github.com/login/oauth"}
	dsseDigest := statementSubjectDigest(t, pg("dsse.sigstore.json"), "sha512")
	ociDigest := statementSubjectDigest(t, pg("oci-attestation.sigstore.json"), "sha256")

	cat := func(parts ...[]string) []string {
		var out []string
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	vba := []string{"verify-blob-attestation", "--trusted-root", prod}
	tests := []struct {
		name    string
		args    []string
		wantErr string // empty: must verify
	}{
		{"npm provenance v1", cat(vba, []string{"--bundle", pg("npm-sigstore-2.0.0.provenance.sigstore.json"), "--type", "slsaprovenance1"}, gh, []string{pg("sigstore-2.0.0.tgz")}), ""},
		{"npm provenance v0.2", cat(vba, []string{"--bundle", pg("npm-sigstore-1.3.0.provenance.sigstore.json"), "--type", "slsaprovenance02"}, gh, []string{pg("sigstore-1.3.0.tgz")}), ""},
		{"npm publish attestation, managed key", cat(vba, []string{"--bundle", pg("npm-sigstore-1.3.0.publish.sigstore.json"), "--key", pg("npm-registry-publish-key.pub"), "--type", "https://github.com/npm/attestation/tree/main/specs/publish/v0.1", pg("sigstore-1.3.0.tgz")}), ""},
		{"dsse v0.1 by sha512 digest", cat(vba, []string{"--bundle", pg("dsse.sigstore.json"), "--type", "slsaprovenance02"}, email, []string{"--digest", dsseDigest, "--digestAlg", "sha512"}), ""},
		{"oci attestation v0.3", cat(vba, []string{"--bundle", pg("oci-attestation.sigstore.json"), "--type", "https://cosign.sigstore.dev/attestation/v1", "--certificate-identity", "cody@soyland.com", "--certificate-oidc-issuer", "https://github.com/login/oauth", "--digest", ociDigest, "--digestAlg", "sha256"}), ""},
		{"otherName SAN, private instance", []string{"verify-blob", "--bundle", pg("othername.sigstore.json"), "--certificate-identity", "foo!oidc.local", "--certificate-oidc-issuer", "http://oidc.local:8080", "--trusted-root", pg("scaffolding-trusted-root.json"), "sha256:bc103b4a84971ef6459b294a2b98568a2bfb72cded09d4acd1e16366a401f95b"}, ""},

		// signet's decision, documented in docs/VERIFICATION.md: a DSSE
		// envelope whose extra signature does not verify (here a forged
		// copy that the Rekor entry never saw) is rejected.
		{"dsse with an unverifiable second signature", cat(vba, []string{"--bundle", pg("dsse-2sigs.sigstore.json"), "--type", "slsaprovenance02"}, email, []string{"--digest", dsseDigest, "--digestAlg", "sha512"}), "signature 2 does not verify"},
		{"wrong predicate type", cat(vba, []string{"--bundle", pg("npm-sigstore-2.0.0.provenance.sigstore.json"), "--type", "slsaprovenance02"}, gh, []string{pg("sigstore-2.0.0.tgz")}), `expected predicate type "https://slsa.dev/provenance/v0.2", the attestation has "https://slsa.dev/provenance/v1"`},
		{"default type is custom", cat(vba, []string{"--bundle", pg("npm-sigstore-2.0.0.provenance.sigstore.json")}, gh, []string{pg("sigstore-2.0.0.tgz")}), "attestation type mismatch"},
		{"other tarball", cat(vba, []string{"--bundle", pg("npm-sigstore-2.0.0.provenance.sigstore.json"), "--type", "slsaprovenance1"}, gh, []string{pg("sigstore-1.3.0.tgz")}), "artifact is not a subject of the attestation"},
		{"wrong identity", cat(vba, []string{"--bundle", pg("npm-sigstore-2.0.0.provenance.sigstore.json"), "--type", "slsaprovenance1", "--certificate-identity", "https://github.com/evil/x", "--certificate-oidc-issuer", "https://token.actions.githubusercontent.com", pg("sigstore-2.0.0.tgz")}), `expected identity (SAN) "https://github.com/evil/x", certificate has "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main"`},
		{"wrong issuer", cat(vba, []string{"--bundle", pg("npm-sigstore-2.0.0.provenance.sigstore.json"), "--type", "slsaprovenance1", "--certificate-identity-regexp", "sigstore-js", "--certificate-oidc-issuer", "https://gitlab.com", pg("sigstore-2.0.0.tgz")}), `expected OIDC issuer "https://gitlab.com", certificate has "https://token.actions.githubusercontent.com"`},
		{"extension pinned", cat(vba, []string{"--bundle", pg("npm-sigstore-2.0.0.provenance.sigstore.json"), "--type", "slsaprovenance1"}, gh, []string{"--certificate-source-repository-ref", "refs/heads/main", "--certificate-runner-environment", "github-hosted", "--certificate-build-trigger", "push", "--certificate-source-repository-uri-regexp", "^https://github.com/sigstore/sigstore-js$", "--certificate-github-workflow-repository", "sigstore/sigstore-js", pg("sigstore-2.0.0.tgz")}), ""},
		{"extension mismatch", cat(vba, []string{"--bundle", pg("npm-sigstore-2.0.0.provenance.sigstore.json"), "--type", "slsaprovenance1"}, gh, []string{"--certificate-source-repository-ref", "refs/heads/dev", pg("sigstore-2.0.0.tgz")}), `expected --certificate-source-repository-ref (1.3.6.1.4.1.57264.1.14) "refs/heads/dev", certificate has "refs/heads/main"`},
		{"key with identity", cat(vba, []string{"--bundle", pg("npm-sigstore-1.3.0.publish.sigstore.json"), "--key", pg("npm-registry-publish-key.pub"), "--certificate-identity", "x", pg("sigstore-1.3.0.tgz")}), "--key cannot be combined with certificate identity flags"},
		{"key-signed bundle verified keyless", cat(vba, []string{"--bundle", pg("npm-sigstore-1.3.0.publish.sigstore.json"), "--type", "https://github.com/npm/attestation/tree/main/specs/publish/v0.1"}, gh, []string{pg("sigstore-1.3.0.tgz")}), "the bundle is signed with a key, not a certificate: verify it with --key"},
		{"certificate bundle verified with a key", cat(vba, []string{"--bundle", pg("npm-sigstore-2.0.0.provenance.sigstore.json"), "--type", "slsaprovenance1", "--key", pg("npm-registry-publish-key.pub"), pg("sigstore-2.0.0.tgz")}), "the bundle is signed with a certificate, not a key"},
		{"keyless without issuer", cat(vba, []string{"--bundle", pg("npm-sigstore-2.0.0.provenance.sigstore.json"), "--type", "slsaprovenance1", "--certificate-identity", "x", pg("sigstore-2.0.0.tgz")}), "--certificate-oidc-issuer or --certificate-oidc-issuer-regexp is required"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := clitest.Run(t, clitest.Options{}, tc.args...)
			if r.NetworkCalls != 0 {
				t.Errorf("%d network calls, want none", r.NetworkCalls)
			}
			if tc.wantErr == "" {
				if r.Code != 0 || strings.TrimSpace(r.Stderr) != "Verified OK" {
					t.Fatalf("exit %d, stderr:\n%s", r.Code, r.Stderr)
				}
				return
			}
			r.CheckOneErrorLine(t)
			if !strings.Contains(r.ErrLine(), tc.wantErr) {
				t.Fatalf("error line %q does not contain %q", r.ErrLine(), tc.wantErr)
			}
		})
	}
}

// TestNoTrustedRootNoNetwork: without --trusted-root, with no TUF cache and
// no network, signet falls back to its embedded production trusted root
// with one warning line, and still verifies a public-good bundle. With
// --offline it does not even try the network.
func TestNoTrustedRootNoNetwork(t *testing.T) {
	c := shared.ConformanceCase{}
	for _, cc := range shared.Conformance(t) {
		if cc.Name == "happy-path-v0.3" {
			c = cc
		}
	}
	if c.Name == "" {
		t.Skip("happy-path-v0.3 not in the shared conformance cases")
	}
	args := []string{"verify-blob", "--bundle", c.Bundle, "--certificate-identity", c.Identity, "--certificate-oidc-issuer", c.Issuer}
	for _, offline := range []bool{false, true} {
		a := append([]string{}, args...)
		if offline {
			a = append(a, "--offline")
		}
		r := clitest.Run(t, clitest.Options{}, append(a, c.Artifact)...)
		if r.Code != 0 || !strings.Contains(r.Stderr, "Verified OK") {
			t.Fatalf("offline=%v: exit %d: %s", offline, r.Code, r.Stderr)
		}
		var warnings []string
		for _, l := range r.StderrLines() {
			if strings.HasPrefix(l, "WARNING: ") {
				warnings = append(warnings, l)
			}
		}
		if len(warnings) != 1 || !strings.Contains(warnings[0], "using the trusted root embedded in signet (production, taken 2026-11)") {
			t.Errorf("offline=%v: want one warning about the embedded root, got %q", offline, warnings)
		}
		if offline && r.NetworkCalls != 0 {
			t.Errorf("--offline made %d network calls", r.NetworkCalls)
		}
		if !offline && r.NetworkCalls == 0 {
			t.Errorf("without --offline and without a cache, TUF should have been tried")
		}
	}
}
