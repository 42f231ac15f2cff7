package verifyblob_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/signetdev/signet/internal/cli"
	"github.com/signetdev/signet/internal/cli/verifyblob"
	"github.com/signetdev/signet/internal/iostreams"
	"github.com/signetdev/signet/internal/testing/clitest"
	"github.com/signetdev/signet/internal/testing/fakesigstore"
)

// TestArgvToOptions: flags land in the options, cosign's aliases included.
func TestArgvToOptions(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	var got *verifyblob.Options
	cmd := verifyblob.NewCmdVerifyBlob(cli.NewFactory(ios), func(_ context.Context, o *verifyblob.Options) error {
		got = o
		return nil
	})
	cmd.SetArgs([]string{
		"--bundle", "b.json", "--certificate-identity", "id", "--certificate-oidc-issuer-regexp", "^https://",
		"--certificate-source-repository-ref", "refs/heads/main", "--trusted-root", "tr.json",
		"--insecure-ignore-sct", "--use-signed-timestamps", "--key", "", "art.txt",
	})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.Artifact != "art.txt" || got.Signature.Bundle != "b.json" || got.Trust.TrustedRoot != "tr.json" ||
		!got.Verify.IgnoreSCT || !got.Verify.UseSignedTimestamps || got.Verify.IgnoreTlog {
		t.Fatalf("options: %+v", got)
	}
	id, err := got.Verify.Identity.ToIdentity()
	if err != nil {
		t.Fatal(err)
	}
	if id.SAN.Exact != "id" || id.Issuer.Regexp == nil || len(id.Extensions) != 1 || id.Extensions[0].OID != "1.3.6.1.4.1.57264.1.14" {
		t.Fatalf("identity: %+v", id)
	}
	cmd.SetArgs([]string{"a", "b"})
	if err := cmd.Execute(); err == nil {
		t.Fatal("two artifacts accepted")
	}
}

func write(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestDetachedKeyless: cosign's deprecated detached inputs — signature,
// certificate, RFC 3161 timestamp file — from a fresh keyless signature.
func TestDetachedKeyless(t *testing.T) {
	dir := t.TempDir()
	fs := fakesigstore.New(t)
	content := []byte("detached")
	b := fs.SignBlob(t, "ci@example.com", "https://issuer.example", content, fakesigstore.SignOptions{TSATimes: []time.Time{time.Now()}})
	vc, err := b.VerificationContent()
	if err != nil {
		t.Fatal(err)
	}
	ts, _ := json.Marshal(map[string][]byte{"SignedRFC3161Timestamp": b.GetVerificationMaterial().GetTimestampVerificationData().GetRfc3161Timestamps()[0].GetSignedTimestamp()})
	art := write(t, dir, "artifact", content)
	args := []string{"verify-blob",
		"--trusted-root", write(t, dir, "trusted_root.json", fs.TrustedRootJSON(t)),
		"--certificate", write(t, dir, "cert.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: vc.Certificate().Raw})),
		"--signature", write(t, dir, "artifact.sig", []byte(base64.StdEncoding.EncodeToString(b.GetMessageSignature().GetSignature()))),
		"--rfc3161-timestamp", write(t, dir, "ts.json", ts),
		"--insecure-ignore-tlog", "--insecure-ignore-sct",
		"--certificate-identity", "ci@example.com", "--certificate-oidc-issuer", "https://issuer.example",
	}
	r := clitest.Run(t, clitest.Options{}, append(args, art)...)
	if r.Code != 0 || !strings.Contains(r.Stderr, "Verified OK") {
		t.Fatalf("exit %d: %s", r.Code, r.Stderr)
	}
	r = clitest.Run(t, clitest.Options{}, append(args, write(t, dir, "other", []byte("other")))...)
	r.CheckErrorLine(t)
	if !strings.Contains(r.ErrLine(), "signature") {
		t.Errorf("other artifact: %s", r.ErrLine())
	}
	if r.NetworkCalls != 0 {
		t.Errorf("%d network calls", r.NetworkCalls)
	}
}

// TestDetachedKey: a key-signed blob, the signature as a file, as inline
// base64, and as a URL (cosign accepts all three).
func TestDetachedKey(t *testing.T) {
	dir := t.TempDir()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	content := []byte("signed with a key")
	digest := sha256.Sum256(content)
	sig, err := key.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(key.Public())
	pub := write(t, dir, "cosign.pub", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	art := write(t, dir, "artifact", content)
	b64 := base64.StdEncoding.EncodeToString(sig)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte(b64)) }))
	defer srv.Close()

	for name, sigRef := range map[string]string{
		"file":   write(t, dir, "artifact.sig", []byte(b64+"\n")),
		"inline": b64,
		"url":    srv.URL + "/artifact.sig",
	} {
		t.Run(name, func(t *testing.T) {
			opts := clitest.Options{}
			if name == "url" {
				opts.Transport = http.DefaultTransport
			}
			r := clitest.Run(t, opts, "verify-blob", "--key", pub, "--signature", sigRef, "--insecure-ignore-tlog", art)
			if r.Code != 0 {
				t.Fatalf("exit %d: %s", r.Code, r.Stderr)
			}
			if name != "url" && r.NetworkCalls != 0 {
				t.Errorf("%d network calls", r.NetworkCalls)
			}
		})
	}
	// Without --insecure-ignore-tlog the entry is looked up in Rekor
	// (--rekor-url), as cosign does; offline, one line says so and how to
	// do without. (The lookup itself: test/e2e, against the real log.)
	r := clitest.Run(t, clitest.Options{}, "verify-blob", "--key", pub, "--signature", b64, "--rekor-url", "https://rekor.example.test", "--trusted-root", write(t, dir, "tr.json", fakesigstore.New(t).TrustedRootJSON(t)), art)
	r.CheckErrorLine(t)
	for _, want := range []string{"looking the signature up in the Rekor log https://rekor.example.test (--rekor-url) failed", "network access is not allowed", "--insecure-ignore-tlog"} {
		if !strings.Contains(r.ErrLine(), want) {
			t.Errorf("offline lookup: %q lacks %q", r.ErrLine(), want)
		}
	}
	if r.NetworkCalls == 0 {
		t.Error("no lookup was attempted")
	}
}

// TestDetachedEd25519: ed25519 signs the content itself, so the artifact
// file is needed; a digest alone is refused with the reason.
func TestDetachedEd25519(t *testing.T) {
	dir := t.TempDir()
	pubKey, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	content := []byte("ed25519 content")
	der, _ := x509.MarshalPKIXPublicKey(pubKey)
	pub := write(t, dir, "ed.pub", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	sig := base64.StdEncoding.EncodeToString(ed25519.Sign(priv, content))
	art := write(t, dir, "artifact", content)

	r := clitest.Run(t, clitest.Options{}, "verify-blob", "--key", pub, "--signature", sig, "--insecure-ignore-tlog", art)
	if r.Code != 0 {
		t.Fatalf("exit %d: %s", r.Code, r.Stderr)
	}
	r = clitest.Run(t, clitest.Options{}, "verify-blob", "--key", pub, "--signature", sig, "--insecure-ignore-tlog", write(t, dir, "other", []byte("other")))
	r.CheckErrorLine(t)
	sum := sha256.Sum256(content)
	r = clitest.Run(t, clitest.Options{}, "verify-blob", "--key", pub, "--signature", sig, "--insecure-ignore-tlog", "sha256:"+hex.EncodeToString(sum[:]))
	r.CheckErrorLine(t)
	if !strings.Contains(r.ErrLine(), "ed25519, which signs the content itself") {
		t.Errorf("digest with ed25519: %s", r.ErrLine())
	}
}
