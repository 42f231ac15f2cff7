package trustedroot_test

import (
	"crypto"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/signetdev/signet/internal/testing/clitest"
	"github.com/signetdev/signet/internal/testing/shared"
)

func writePEM(t *testing.T, path, typ string, ders ...[]byte) string {
	t.Helper()
	var b []byte
	for _, d := range ders {
		b = append(b, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: d})...)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func keyPEM(t *testing.T, path string, pub crypto.PublicKey) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return writePEM(t, path, "PUBLIC KEY", der)
}

func ids(m map[string]*root.TransparencyLog) []string {
	var out []string
	for _, l := range m {
		out = append(out, hex.EncodeToString(l.ID)+" "+l.BaseURL)
	}
	slices.Sort(out)
	return out
}

// TestRebuildProductionRoot: the public-good trusted root, taken apart
// into the PEM files its operators publish, is put back together by
// trusted-root create with the same logs (IDs, including Rekor v2's
// checkpoint key ID from its origin), CAs and TSAs.
func TestRebuildProductionRoot(t *testing.T) {
	prod, err := root.NewTrustedRootFromPath(shared.Path(t, "trust", "production-trusted-root.json"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	args := []string{"trusted-root", "create", "--out", filepath.Join(dir, "out.json")}
	for i, ca := range prod.FulcioCertificateAuthorities() {
		fca := ca.(*root.FulcioCertificateAuthority)
		var ders [][]byte
		for _, c := range append(slices.Clone(fca.Intermediates), fca.Root) {
			ders = append(ders, c.Raw)
		}
		p := writePEM(t, filepath.Join(dir, "fulcio"+string(rune('0'+i))+".pem"), "CERTIFICATE", ders...)
		args = append(args, "--fulcio", "url="+fca.URI+",certificate-chain="+p+",start-time="+fca.ValidityPeriodStart.Format(time.RFC3339))
	}
	for i, ta := range prod.TimestampingAuthorities() {
		sta := ta.(*root.SigstoreTimestampingAuthority)
		ders := [][]byte{sta.Leaf.Raw}
		for _, c := range sta.Intermediates {
			ders = append(ders, c.Raw)
		}
		ders = append(ders, sta.Root.Raw)
		p := writePEM(t, filepath.Join(dir, "tsa"+string(rune('0'+i))+".pem"), "CERTIFICATE", ders...)
		args = append(args, "--tsa", "url="+sta.URI+",certificate-chain="+p)
	}
	n := 0
	for _, l := range prod.RekorLogs() {
		n++
		spec := "url=" + l.BaseURL + ",public-key=" + keyPEM(t, filepath.Join(dir, "rekor"+string(rune('0'+n))+".pub"), l.PublicKey) + ",start-time=" + l.ValidityPeriodStart.Format(time.RFC3339)
		if strings.Contains(l.BaseURL, "log2025") {
			spec += ",origin=" + strings.TrimPrefix(l.BaseURL, "https://")
		}
		args = append(args, "--rekor", spec)
	}
	for _, l := range prod.CTLogs() {
		n++
		args = append(args, "--ctfe", "url="+l.BaseURL+",public-key="+keyPEM(t, filepath.Join(dir, "ct"+string(rune('0'+n))+".pub"), l.PublicKey)+",start-time="+l.ValidityPeriodStart.Format(time.RFC3339))
	}
	r := clitest.Run(t, clitest.Options{}, args...)
	if r.Code != 0 {
		t.Fatalf("exit %d: %s", r.Code, r.Stderr)
	}
	got, err := root.NewTrustedRootFromPath(filepath.Join(dir, "out.json"))
	if err != nil {
		t.Fatalf("sigstore-go cannot load the result: %v", err)
	}
	if a, b := ids(got.RekorLogs()), ids(prod.RekorLogs()); !slices.Equal(a, b) {
		t.Errorf("Rekor logs:\n got %q\nwant %q", a, b)
	}
	if a, b := ids(got.CTLogs()), ids(prod.CTLogs()); !slices.Equal(a, b) {
		t.Errorf("CT logs:\n got %q\nwant %q", a, b)
	}
	if len(got.FulcioCertificateAuthorities()) != len(prod.FulcioCertificateAuthorities()) || len(got.TimestampingAuthorities()) != len(prod.TimestampingAuthorities()) {
		t.Errorf("CAs/TSAs: got %d/%d, want %d/%d", len(got.FulcioCertificateAuthorities()), len(got.TimestampingAuthorities()), len(prod.FulcioCertificateAuthorities()), len(prod.TimestampingAuthorities()))
	}
}

func TestCreateErrors(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out.json")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--rekor", "url=https://r"}, `missing or empty required key "public-key"`},
		{[]string{"--rekor", "url=https://r,public-key=" + filepath.Join(dir, "nope.pub") + ",start-time=2024-01-01T00:00:00Z"}, "nope.pub"},
		{[]string{"--fulcio", "url=https://f,certificate-chain"}, "invalid key-value pair"},
		{[]string{"--tsa", "url=x,certificate-chain=a", "--timestamp-uri", "y"}, "cannot be combined with its deprecated forms"},
	} {
		r := clitest.Run(t, clitest.Options{}, append([]string{"trusted-root", "create", "--out", out}, tc.args...)...)
		if r.Code == 0 {
			t.Errorf("%v: succeeded", tc.args)
		}
		if !strings.Contains(r.ErrLine(), tc.want) {
			t.Errorf("%v: %q lacks %q", tc.args, r.ErrLine(), tc.want)
		}
		if _, err := os.Stat(out); err == nil {
			t.Fatalf("%v: output written on failure", tc.args)
		}
	}
}
