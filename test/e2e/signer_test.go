//go:build e2e

package e2e

import (
	"context"
	"crypto"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/signetdev/signet/internal/testing/stack"
	"github.com/signetdev/signet/pkg/artifact"
	"github.com/signetdev/signet/pkg/signer"
)

// TestSignerCore: pkg/signer against the real stack (Fulcio with a GitLab
// token, CT log, Rekor v1 or v2, TSA), checked by real cosign v3.
func TestSignerCore(t *testing.T) {
	env := stack.Get(t)
	env.RequireFull(t)
	cosign := env.RequireCosign(t)
	tr, err := root.NewTrustedRootFromPath(env.TrustedRoot)
	if err != nil {
		t.Fatal(err)
	}
	for _, rc := range rekorCases {
		t.Run(rc.name, func(t *testing.T) {
			sc, err := root.NewSigningConfigFromPath(rc.signingConfig(env))
			if err != nil {
				t.Fatal(err)
			}
			services, err := signer.FromSigningConfig(sc, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			key, err := signer.GenerateKey(signer.DefaultAlgorithm)
			if err != nil {
				t.Fatal(err)
			}
			req := stack.TokenRequest{ProjectPath: "acme/core", Ref: "main"}
			ctx := context.Background()
			s, err := signer.New(ctx, signer.Options{Key: key, IDToken: env.Token(t, req), Services: services, TrustedMaterial: tr})
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			blob := writeFile(t, dir, "blob.txt", "signed by pkg/signer "+rc.name+"\n")
			sums, err := artifact.Sum(artifact.FromFile(blob, nil), crypto.SHA256)
			if err != nil {
				t.Fatal(err)
			}
			b, err := s.Sign(ctx, signer.Digest(artifact.Digest{Algorithm: crypto.SHA256, Value: sums[crypto.SHA256]}))
			if err != nil {
				t.Fatal(err)
			}
			bundlePath := filepath.Join(dir, "blob.sigstore.json")
			writeJSON(t, bundlePath, b)
			env.Run(t, cosign, "verify-blob", "--bundle", bundlePath, "--trusted-root", env.TrustedRoot,
				"--certificate-identity", env.Identity(req), "--certificate-oidc-issuer", env.OIDCIssuer, blob)

			stmt, _ := json.Marshal(map[string]any{
				"_type":         "https://in-toto.io/Statement/v1",
				"subject":       []map[string]any{{"name": "blob.txt", "digest": map[string]string{"sha256": artifact.Digest{Algorithm: crypto.SHA256, Value: sums[crypto.SHA256]}.String()[len("sha256:"):]}}},
				"predicateType": "https://slsa.dev/provenance/v1",
				"predicate":     map[string]any{"buildDefinition": map[string]any{"buildType": "https://example.com"}},
			})
			ab, err := s.Sign(ctx, signer.DSSE("application/vnd.in-toto+json", stmt))
			if err != nil {
				t.Fatal(err)
			}
			attPath := filepath.Join(dir, "blob.att.sigstore.json")
			writeJSON(t, attPath, ab)
			env.Run(t, cosign, "verify-blob-attestation", "--bundle", attPath, "--trusted-root", env.TrustedRoot, "--type", "slsaprovenance1",
				"--certificate-identity", env.Identity(req), "--certificate-oidc-issuer", env.OIDCIssuer, blob)
		})
	}
}

func writeJSON(t *testing.T, path string, b interface{ MarshalJSON() ([]byte, error) }) {
	t.Helper()
	data, err := b.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
