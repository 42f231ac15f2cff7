//go:build e2e

package e2e

import (
	"crypto"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/signetdev/signet/internal/testing/clitest"
	"github.com/signetdev/signet/internal/testing/stack"
)

// stackSpecs are the --fulcio/--rekor/--ctfe/--tsa specs describing the
// local stack, built from the PEM files its keys and chains are in.
func stackSpecs(t *testing.T, env *stack.Env) []string {
	t.Helper()
	tr, err := root.NewTrustedRootFromPath(env.TrustedRoot)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeKey := func(name string, pub crypto.PublicKey) string {
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	const start = "2020-01-01T00:00:00Z"
	pki := filepath.Join(env.Dir, "pki")
	args := []string{
		"--fulcio", "url=" + env.FulcioURL + ",certificate-chain=" + env.FulcioCA,
		"--tsa", "url=" + env.TSAURL + ",certificate-chain=" + filepath.Join(pki, "tsa-chain.pem"),
		"--ctfe", "url=" + env.CTLogURL + ",public-key=" + filepath.Join(pki, "ctlog.pub") + ",start-time=" + start,
	}
	for _, l := range tr.RekorLogs() {
		switch l.BaseURL {
		case env.RekorV1URL:
			args = append(args, "--rekor", "url="+l.BaseURL+",public-key="+writeKey("rekor1.pub", l.PublicKey)+",start-time="+start)
		case env.RekorV2URL:
			u, err := url.Parse(l.BaseURL)
			if err != nil {
				t.Fatal(err)
			}
			args = append(args, "--rekor", "url="+l.BaseURL+",public-key="+writeKey("rekor2.pub", l.PublicKey)+",start-time="+start+",origin="+u.Hostname())
		}
	}
	return args
}

func logIDs(logs map[string]*root.TransparencyLog) []string {
	var ids []string
	for _, l := range logs {
		ids = append(ids, hex.EncodeToString(l.ID))
	}
	slices.Sort(ids)
	return ids
}

// TestTrustedRootSigningConfigCreate: signet writes the local stack's
// trusted root and signing configs (Rekor v1 and v2) from its certificates,
// keys and URLs; cosign v3 and signet sign and verify with those files
// only, in both directions, and cosign's own trusted-root create names the
// same logs.
func TestTrustedRootSigningConfigCreate(t *testing.T) {
	env := stack.Get(t)
	env.RequireFull(t)
	cosign := env.RequireCosign(t)
	dir := t.TempDir()
	specs := stackSpecs(t, env)

	ours := filepath.Join(dir, "trusted_root.json")
	wantOK(t, signet(t, append([]string{"trusted-root", "create", "--out", ours}, specs...)...))
	theirs := filepath.Join(dir, "cosign_trusted_root.json")
	env.Run(t, cosign, append([]string{"trusted-root", "create", "--out", theirs}, specs...)...)
	a, err := root.NewTrustedRootFromPath(ours)
	if err != nil {
		t.Fatalf("sigstore-go cannot load signet's trusted root: %v", err)
	}
	b, err := root.NewTrustedRootFromPath(theirs)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := logIDs(a.RekorLogs()), logIDs(b.RekorLogs()); !slices.Equal(got, want) || len(got) != 2 {
		t.Errorf("Rekor log IDs: signet %v, cosign %v", got, want)
	}
	if got, want := logIDs(a.CTLogs()), logIDs(b.CTLogs()); !slices.Equal(got, want) || len(got) != 1 {
		t.Errorf("CT log IDs: signet %v, cosign %v", got, want)
	}
	if len(a.FulcioCertificateAuthorities()) != 1 || len(a.TimestampingAuthorities()) != 1 {
		t.Errorf("signet's trusted root: %d CAs, %d TSAs, want 1 and 1", len(a.FulcioCertificateAuthorities()), len(a.TimestampingAuthorities()))
	}

	const start = "2020-01-01T00:00:00Z"
	svc := func(u string, v string) string {
		return "url=" + u + ",api-version=" + v + ",start-time=" + start + ",operator=signet-e2e"
	}
	for _, rc := range []struct{ name, url, version string }{{"rekor-v1", env.RekorV1URL, "1"}, {"rekor-v2", env.RekorV2URL, "2"}} {
		t.Run(rc.name, func(t *testing.T) {
			sc := filepath.Join(dir, rc.name+"-signing_config.json")
			wantOK(t, signet(t, "signing-config", "create", "--out", sc,
				"--fulcio", svc(env.FulcioURL, "1"), "--oidc-provider", svc(env.OIDCIssuer, "1"),
				"--rekor", svc(rc.url, rc.version), "--rekor-config", "ANY",
				"--tsa", svc(env.TSAURL, "1"), "--tsa-config", "ANY"))
			if _, err := root.NewSigningConfigFromPath(sc); err != nil {
				t.Fatalf("sigstore-go cannot load signet's signing config: %v", err)
			}
			req := stack.TokenRequest{ProjectPath: "acme/private-deployment", Ref: "main"}
			tok := env.Token(t, req)
			id := []string{"--certificate-identity", env.Identity(req), "--certificate-oidc-issuer", env.OIDCIssuer}
			blob := writeFile(t, t.TempDir(), "artifact", "private deployment "+rc.name+"\n")

			b1 := blob + ".signet.json"
			wantOK(t, signetNet(t, clitest.Env{"SIGSTORE_ID_TOKEN": tok}, "sign-blob", "--yes", "--signing-config", sc, "--trusted-root", ours, "--bundle", b1, blob))
			env.Run(t, cosign, append([]string{"verify-blob", "--bundle", b1, "--trusted-root", ours}, append(id, blob)...)...)

			b2 := blob + ".cosign.json"
			env.Run(t, cosign, "sign-blob", "--yes", "--identity-token", tok, "--signing-config", sc, "--trusted-root", ours, "--bundle", b2, blob)
			wantVerified(t, signet(t, append([]string{"verify-blob", "--bundle", b2, "--trusted-root", ours}, append(id, blob)...)...))
		})
	}
}
