//go:build e2e

package e2e

import (
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signetdev/signet/internal/testing/stack"
)

// Fulcio certificate extensions (1.3.6.1.4.1.57264.1.N) and the embedded
// SCT list (RFC 6962).
var (
	oidIssuerV2      = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 8}
	oidRunnerEnv     = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 11}
	oidSourceRepoURI = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 12}
	oidSourceRepoRef = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 14}
	oidBuildTrigger  = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 20}
	oidRunInvocation = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 21}
	oidSCTList       = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11129, 2, 4, 2}
)

type rekorCase struct {
	name          string
	signingConfig func(*stack.Env) string
	kindVersion   string // of the tlog entry
}

var rekorCases = []rekorCase{
	{"rekor-v1", func(e *stack.Env) string { return e.SigningConfigV1 }, "0.0.1"},
	{"rekor-v2", func(e *stack.Env) string { return e.SigningConfigV2 }, "0.0.2"},
}

// TestSmokeBlob: a token from our issuer → a real Fulcio certificate with
// the GitLab SAN and extensions → cosign v3 sign-blob with the signing
// config → cosign v3 verify-blob with the trusted root, SCT enforced.
func TestSmokeBlob(t *testing.T) {
	env := stack.Get(t)
	env.RequireFull(t)
	cosign := env.RequireCosign(t)
	for _, rc := range rekorCases {
		t.Run(rc.name, func(t *testing.T) {
			req := stack.TokenRequest{ProjectPath: "acme/widgets", Ref: "main"}
			identity := env.Identity(req)
			if want := "https://gitlab.example.com/acme/widgets//.gitlab-ci.yml@refs/heads/main"; identity != want {
				t.Fatalf("identity %q, want %q", identity, want)
			}
			dir := t.TempDir()
			blob := writeFile(t, dir, "artifact.txt", "signet smoke test "+rc.name+"\n")
			bundle := filepath.Join(dir, "artifact.sigstore.json")
			env.Run(t, cosign, "sign-blob", "--yes",
				"--signing-config", rc.signingConfig(env), "--trusted-root", env.TrustedRoot,
				"--identity-token", env.Token(t, req), "--bundle", bundle, blob)

			b := readBundle(t, bundle)
			checkGitLabCert(t, env, b.cert(t), identity, "https://gitlab.example.com/acme/widgets", "refs/heads/main")
			if len(b.VerificationMaterial.TlogEntries) != 1 {
				t.Fatalf("bundle has %d tlog entries, want 1", len(b.VerificationMaterial.TlogEntries))
			}
			if kv := b.VerificationMaterial.TlogEntries[0].KindVersion; kv.Kind != "hashedrekord" || kv.Version != rc.kindVersion {
				t.Errorf("tlog entry %s %s, want hashedrekord %s", kv.Kind, kv.Version, rc.kindVersion)
			}
			if n := len(b.VerificationMaterial.TimestampVerificationData.RFC3161Timestamps); n != 1 {
				t.Errorf("bundle has %d RFC 3161 timestamps, want 1", n)
			}

			verify := []string{"verify-blob", "--bundle", bundle, "--trusted-root", env.TrustedRoot,
				"--certificate-oidc-issuer", env.OIDCIssuer}
			env.Run(t, cosign, append(verify, "--certificate-identity", identity, blob)...)

			// Negative checks: another identity, another issuer, another blob.
			wrongID := env.Identity(stack.TokenRequest{ProjectPath: "acme/other"})
			expectFail(t, env, cosign, append(verify, "--certificate-identity", wrongID, blob)...)
			expectFail(t, env, cosign, "verify-blob", "--bundle", bundle, "--trusted-root", env.TrustedRoot,
				"--certificate-oidc-issuer", "https://gitlab.com", "--certificate-identity", identity, blob)
			other := writeFile(t, dir, "other.txt", "tampered\n")
			expectFail(t, env, cosign, append(verify, "--certificate-identity", identity, other)...)
		})
	}
}

// TestSmokeImage: push a random image to the local registry, cosign sign it
// keylessly, cosign verify it; a wrong identity is rejected.
func TestSmokeImage(t *testing.T) {
	env := stack.Get(t)
	env.RequireFull(t)
	cosign := env.RequireCosign(t)
	for _, rc := range rekorCases {
		t.Run(rc.name, func(t *testing.T) {
			ref := env.PushRandomImage(t, "smoke/"+rc.name)
			req := stack.TokenRequest{ProjectPath: "acme/images", Ref: "v1.0.0", RefType: "tag"}
			identity := env.Identity(req)
			env.Run(t, cosign, "sign", "--yes",
				"--signing-config", rc.signingConfig(env), "--trusted-root", env.TrustedRoot,
				"--identity-token", env.Token(t, req), ref)

			out := env.Run(t, cosign, "verify", "--trusted-root", env.TrustedRoot,
				"--certificate-identity", identity, "--certificate-oidc-issuer", env.OIDCIssuer, ref)
			var payloads []json.RawMessage
			if err := json.Unmarshal([]byte(out), &payloads); err != nil || len(payloads) == 0 {
				t.Fatalf("cosign verify output is not a JSON list of payloads (%v):\n%s", err, out)
			}
			if !strings.Contains(out, ref[strings.Index(ref, "@")+1:]) {
				t.Errorf("verified payloads do not name the image digest:\n%s", out)
			}
			expectFail(t, env, cosign, "verify", "--trusted-root", env.TrustedRoot,
				"--certificate-identity", env.Identity(stack.TokenRequest{ProjectPath: "acme/images"}),
				"--certificate-oidc-issuer", env.OIDCIssuer, ref)
		})
	}
}

// TestTokenRejected: Fulcio refuses expired and wrong-audience tokens from
// our issuer, so the issuer's overrides reach a real relying party.
func TestTokenRejected(t *testing.T) {
	env := stack.Get(t)
	cosign := env.RequireCosign(t)
	blob := writeFile(t, t.TempDir(), "blob", "x")
	for name, req := range map[string]stack.TokenRequest{
		"expired":        {TTL: "-1h"},
		"wrong-audience": {Audience: "not-sigstore"},
		"wrong-issuer":   {Issuer: "https://gitlab.com"},
	} {
		t.Run(name, func(t *testing.T) {
			_, errOut := expectFail(t, env, cosign, "sign-blob", "--yes", "--signing-config", env.SigningConfig,
				"--trusted-root", env.TrustedRoot, "--identity-token", env.Token(t, req),
				"--bundle", filepath.Join(t.TempDir(), "b.json"), blob)
			if !strings.Contains(errOut, "Fulcio") && !strings.Contains(errOut, "400") && !strings.Contains(errOut, "401") {
				t.Errorf("failure does not come from Fulcio:\n%s", errOut)
			}
		})
	}
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func expectFail(t *testing.T, env *stack.Env, bin string, args ...string) (string, string) {
	t.Helper()
	out, errOut, err := env.TryRun(t, bin, args...)
	if err == nil {
		t.Fatalf("%s %s: succeeded, want failure\nstdout:\n%s\nstderr:\n%s", filepath.Base(bin), strings.Join(args, " "), out, errOut)
	}
	return out, errOut
}

// bundle is the part of a protobuf-JSON Sigstore bundle these tests read.
type bundle struct {
	MediaType            string `json:"mediaType"`
	VerificationMaterial struct {
		Certificate struct {
			RawBytes string `json:"rawBytes"`
		} `json:"certificate"`
		TlogEntries []struct {
			LogIndex    string `json:"logIndex"`
			KindVersion struct {
				Kind    string `json:"kind"`
				Version string `json:"version"`
			} `json:"kindVersion"`
		} `json:"tlogEntries"`
		TimestampVerificationData struct {
			RFC3161Timestamps []struct {
				SignedTimestamp string `json:"signedTimestamp"`
			} `json:"rfc3161Timestamps"`
		} `json:"timestampVerificationData"`
	} `json:"verificationMaterial"`
}

func readBundle(t *testing.T, path string) *bundle {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var b bundle
	if err := json.Unmarshal(data, &b); err != nil {
		t.Fatalf("parsing bundle: %v", err)
	}
	return &b
}

func (b *bundle) cert(t *testing.T) *x509.Certificate {
	t.Helper()
	der, err := base64.StdEncoding.DecodeString(b.VerificationMaterial.Certificate.RawBytes)
	if err != nil || len(der) == 0 {
		t.Fatalf("bundle (%s) has no certificate: %v", b.MediaType, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// checkGitLabCert asserts the SAN, the GitLab extensions and an embedded SCT.
func checkGitLabCert(t *testing.T, env *stack.Env, cert *x509.Certificate, identity, repoURI, ref string) {
	t.Helper()
	if len(cert.URIs) != 1 || cert.URIs[0].String() != identity {
		t.Errorf("certificate SAN URIs %v, want [%s]", cert.URIs, identity)
	}
	want := map[string]string{
		oidIssuerV2.String():      env.OIDCIssuer,
		oidSourceRepoURI.String(): repoURI,
		oidSourceRepoRef.String(): ref,
		oidRunnerEnv.String():     "gitlab-hosted",
		oidBuildTrigger.String():  "push",
		oidRunInvocation.String(): repoURI + "/-/jobs/2000",
	}
	got := map[string]string{}
	hasSCT := false
	for _, ext := range cert.Extensions {
		if ext.Id.Equal(oidSCTList) {
			hasSCT = true
		}
		if _, ok := want[ext.Id.String()]; ok {
			var s string
			if _, err := asn1.Unmarshal(ext.Value, &s); err != nil {
				t.Errorf("extension %s: %v", ext.Id, err)
			}
			got[ext.Id.String()] = s
		}
	}
	for oid, w := range want {
		if got[oid] != w {
			t.Errorf("extension %s = %q, want %q", oid, got[oid], w)
		}
	}
	if !hasSCT {
		t.Error("certificate carries no embedded SCT")
	}
}
