package verify_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/signetdev/signet/internal/testing/clitest"
	"github.com/signetdev/signet/internal/testing/regtest"
	"github.com/signetdev/signet/pkg/imagesig"
	"github.com/signetdev/signet/pkg/oci"
)

// pushImage pushes a random image and returns its digest reference.
func pushImage(t *testing.T, host, repo string) name.Digest {
	t.Helper()
	_, d := regtest.PushRandom(t, host, repo)
	return d
}

// keySigLayer signs the simple-signing payload for d with key, as
// `cosign sign --key --tlog-upload=false` stores it.
func keySigLayer(t *testing.T, key *ecdsa.PrivateKey, d name.Digest, ann map[string]string) oci.Layer {
	t.Helper()
	h, _ := name.NewDigest(d.String())
	hash, err := hashOf(h)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := imagesig.NewSimpleSigning(d.Context().Name(), hash, ann)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(payload)
	sig, err := ecdsa.SignASN1(rand.Reader, key, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return oci.Layer{MediaType: oci.SimpleSigningMediaType, Data: payload, Annotations: map[string]string{
		oci.AnnotationSignature: base64.StdEncoding.EncodeToString(sig),
	}}
}

func writeKey(t *testing.T, key *ecdsa.PrivateKey) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "cosign.pub")
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestVerifyExitCodes runs verify against an in-process registry, with
// and without the referrers API: verified (0), unsigned (10), missing
// image (11), signed by another key or for other annotations (12).
func TestVerifyExitCodes(t *testing.T) {
	for _, referrers := range []bool{false, true} {
		t.Run(map[bool]string{false: "no referrers API", true: "referrers API"}[referrers], func(t *testing.T) {
			host := regtest.Registry(t, referrers)
			signed := pushImage(t, host, "app")
			unsigned := pushImage(t, host, "other")

			key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			otherKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			client := oci.New(oci.Options{Transport: http.DefaultTransport})
			if err := client.AppendLegacy(context.Background(), signed, oci.SignatureSuffix, keySigLayer(t, key, signed, map[string]string{"env": "prod"}), nil); err != nil {
				t.Fatal(err)
			}
			keyPath, otherPath := writeKey(t, key), writeKey(t, otherKey)
			opts := clitest.Options{Transport: http.DefaultTransport}
			base := []string{"verify", "--insecure-ignore-tlog"}
			tagRef := host + "/app:v1"

			r := clitest.Run(t, opts, append(base, "--key", keyPath, "-a", "env=prod", tagRef)...)
			if r.Code != 0 {
				t.Fatalf("verify: exit %d: %s", r.Code, r.Stderr)
			}
			var out []imagesig.SimpleSigning
			if err := json.Unmarshal([]byte(strings.TrimSpace(r.Stdout)), &out); err != nil || len(out) != 1 || out[0].Critical.Image.DockerManifestDigest != signed.DigestStr() {
				t.Fatalf("stdout %q: %v", r.Stdout, err)
			}
			for _, l := range []string{"Verification for " + tagRef + " --", "  - The specified annotations were verified.", "  - The signatures were verified against the specified public key"} {
				if !strings.Contains(r.Stderr, l+"\n") {
					t.Errorf("stderr lacks %q:\n%s", l, r.Stderr)
				}
			}

			for _, tc := range []struct {
				name string
				args []string
				code int
				msg  string
			}{
				{"unsigned", []string{"--key", keyPath, host + "/other@" + unsigned.DigestStr()}, 10, "no signatures found"},
				{"missing tag", []string{"--key", keyPath, host + "/app:nope"}, 11, "image tag not found"},
				{"other key", []string{"--key", otherPath, tagRef}, 12, "no matching signatures"},
				{"other annotations", []string{"--key", keyPath, "-a", "env=dev", tagRef}, 12, `expected env="dev", found "prod"`},
				{"keyless policy, key signature", []string{"--certificate-identity", "a@b", "--certificate-oidc-issuer", "https://x", tagRef}, 13, "no certificate"},
				{"attestation verb", []string{"verify-attestation", "--key", keyPath, tagRef}, 10, "no attestations found"},
			} {
				args := append(append([]string{}, base...), tc.args...)
				if tc.args[0] == "verify-attestation" {
					args = append([]string{"verify-attestation", "--insecure-ignore-tlog"}, tc.args[1:]...)
				}
				r := clitest.Run(t, opts, args...)
				if r.Code != tc.code || !strings.Contains(r.ErrLine(), tc.msg) {
					t.Errorf("%s: exit %d, want %d with %q; stderr:\n%s", tc.name, r.Code, tc.code, tc.msg, r.Stderr)
				}
			}
		})
	}
}

func hashOf(d name.Digest) (v1.Hash, error) { return v1.NewHash(d.DigestStr()) }
