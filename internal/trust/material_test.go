package trust

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/testing/ca"
	"github.com/sigstore/sigstore-go/pkg/verify"

	"github.com/signetdev/signet/internal/trust/trusttest"

	"github.com/signetdev/signet/pkg/keys"
)

func pemFile(t *testing.T, dir, name, typ string, ders ...[]byte) string {
	t.Helper()
	var buf bytes.Buffer
	for _, d := range ders {
		pem.Encode(&buf, &pem.Block{Type: typ, Bytes: d})
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func spki(t *testing.T, pub any) []byte {
	t.Helper()
	b, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// virtualInstance is a private Sigstore instance (sigstore-go's
// VirtualSigstore) described by SIGSTORE_* files, as cosign users describe
// theirs.
type virtualInstance struct {
	vs                           *ca.VirtualSigstore
	rootFile, rekor, ct, tsaFile string
}

func newVirtualInstance(t *testing.T) *virtualInstance {
	t.Helper()
	vs, err := ca.NewVirtualSigstore()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	fca := vs.FulcioCertificateAuthorities()[0].(*root.FulcioCertificateAuthority)
	tsa := vs.TimestampingAuthorities()[0].(*root.SigstoreTimestampingAuthority)
	vi := &virtualInstance{vs: vs}
	// Intermediate first, as Fulcio serves its chain; order must not matter.
	vi.rootFile = pemFile(t, dir, "fulcio.pem", "CERTIFICATE", fca.Intermediates[0].Raw, fca.Root.Raw)
	vi.tsaFile = pemFile(t, dir, "tsa.pem", "CERTIFICATE", tsa.Leaf.Raw, tsa.Intermediates[0].Raw, tsa.Root.Raw)
	for _, l := range vs.RekorLogs() {
		vi.rekor = pemFile(t, dir, "rekor.pub", "PUBLIC KEY", spki(t, l.PublicKey))
	}
	for _, l := range vs.CTLogs() {
		vi.ct = pemFile(t, dir, "ctfe.pub", "PUBLIC KEY", spki(t, l.PublicKey))
	}
	return vi
}

func (vi *virtualInstance) env(extra ...string) func(string) string {
	return trusttest.Env(append([]string{
		EnvRootFile, vi.rootFile, EnvRekorPublicKey, vi.rekor,
		EnvCTLogPublicKeyFile, vi.ct, EnvTSACertificateFile, vi.tsaFile,
	}, extra...)...)
}

// With all four SIGSTORE_* files, Material needs no trusted root (no
// request, no warning about an absent cache), and
// sigstore-go verifies a signature of that instance with it: certificate
// chain, Rekor SET and inclusion proof, and RFC 3161 timestamp.
func TestCustomInstanceFromEnvironmentVerifies(t *testing.T) {
	vi := newVirtualInstance(t)
	artifact := []byte("hello, private sigstore")
	entity, err := vi.vs.Sign("signer@example.com", "https://issuer.example.com", artifact)
	if err != nil {
		t.Fatal(err)
	}
	policy := verify.NewPolicy(verify.WithArtifact(bytes.NewReader(artifact)),
		verify.WithCertificateIdentity(mustIdentity(t, "signer@example.com", "https://issuer.example.com")))

	ft := &trusttest.FailingTransport{}
	var warn bytes.Buffer
	tm, err := Material(context.Background(), Options{
		Getenv:    vi.env(EnvTUFRoot, filepath.Join(t.TempDir(), "no-cache")),
		Transport: ft,
		Warn:      &warn,
	})
	if err != nil {
		t.Fatal(err)
	}
	v, err := verify.NewVerifier(tm, verify.WithTransparencyLog(1), verify.WithSignedTimestamps(1), verify.WithIntegratedTimestamps(1))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(entity, policy); err != nil {
		t.Fatalf("verification with the SIGSTORE_* material failed: %v", err)
	}
	if ft.Requests() != 0 || warn.Len() != 0 {
		t.Errorf("%d requests, warnings %q: a trusted root was loaded", ft.Requests(), warn.String())
	}

	// Another instance's Rekor key: the log entry no longer verifies.
	other := newVirtualInstance(t)
	tm, err = Material(context.Background(), Options{Getenv: vi.env(EnvRekorPublicKey, other.rekor)})
	if err != nil {
		t.Fatal(err)
	}
	v, err = verify.NewVerifier(tm, verify.WithTransparencyLog(1), verify.WithIntegratedTimestamps(1))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(entity, policy); err == nil {
		t.Error("verified with another instance's Rekor key")
	}
}

func mustIdentity(t *testing.T, san, issuer string) verify.CertificateIdentity {
	t.Helper()
	id, err := verify.NewShortCertificateIdentity(issuer, "", san, "")
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// Each variable replaces its component only; the rest is the trusted root's.
func TestEachOverrideReplacesOnlyItsComponent(t *testing.T) {
	vi := newVirtualInstance(t)
	// The base: offline with no cache, the embedded trusted root.
	base, err := EmbeddedTrustedRoot()
	if err != nil {
		t.Fatal(err)
	}
	cache := t.TempDir()
	vca := vi.vs.FulcioCertificateAuthorities()[0].(*root.FulcioCertificateAuthority)
	vtsa := vi.vs.TimestampingAuthorities()[0].(*root.SigstoreTimestampingAuthority)
	load := func(env ...string) root.TrustedMaterial {
		t.Helper()
		tm, err := Material(context.Background(), Options{Offline: true, Getenv: trusttest.Env(append(env, EnvTUFRoot, cache)...)})
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	sameCAs := func(tm root.TrustedMaterial) bool {
		got, want := tm.FulcioCertificateAuthorities(), base.FulcioCertificateAuthorities()
		if len(got) != len(want) {
			return false
		}
		for i := range got {
			if !got[i].(*root.FulcioCertificateAuthority).Root.Equal(want[i].(*root.FulcioCertificateAuthority).Root) {
				return false
			}
		}
		return true
	}

	t.Run("none", func(t *testing.T) {
		if _, ok := load().(*root.TrustedRoot); !ok {
			t.Error("without overrides Material is not the trusted root itself")
		}
	})
	t.Run(EnvRootFile, func(t *testing.T) {
		tm := load(EnvRootFile, vi.rootFile)
		cas := tm.FulcioCertificateAuthorities()
		if len(cas) != 1 {
			t.Fatalf("%d CAs", len(cas))
		}
		got := cas[0].(*root.FulcioCertificateAuthority)
		if !got.Root.Equal(vca.Root) || len(got.Intermediates) != 1 || !got.Intermediates[0].Equal(vca.Intermediates[0]) {
			t.Error("wrong root or intermediates")
		}
		if !sameLogs(tm.RekorLogs(), base.RekorLogs()) || !sameLogs(tm.CTLogs(), base.CTLogs()) || len(tm.TimestampingAuthorities()) != len(base.TimestampingAuthorities()) {
			t.Error("other components changed")
		}
	})
	for _, c := range []struct {
		env, path      string
		replaced, kept func(root.TrustedMaterial) map[string]*root.TransparencyLog
		want           map[string]*root.TransparencyLog
	}{
		{EnvRekorPublicKey, vi.rekor, root.TrustedMaterial.RekorLogs, root.TrustedMaterial.CTLogs, vi.vs.RekorLogs()},
		{EnvCTLogPublicKeyFile, vi.ct, root.TrustedMaterial.CTLogs, root.TrustedMaterial.RekorLogs, vi.vs.CTLogs()},
	} {
		t.Run(c.env, func(t *testing.T) {
			tm := load(c.env, c.path)
			if !sameLogs(c.replaced(tm), c.want) {
				t.Errorf("logs %v", logIDs(c.replaced(tm)))
			}
			if !sameCAs(tm) || !sameLogs(c.kept(tm), c.kept(base)) {
				t.Error("other components changed")
			}
		})
	}
	t.Run(EnvTSACertificateFile, func(t *testing.T) {
		tm := load(EnvTSACertificateFile, vi.tsaFile)
		tsas := tm.TimestampingAuthorities()
		if len(tsas) != 1 {
			t.Fatalf("%d TSAs", len(tsas))
		}
		got := tsas[0].(*root.SigstoreTimestampingAuthority)
		if !got.Root.Equal(vtsa.Root) || !got.Leaf.Equal(vtsa.Leaf) || len(got.Intermediates) != 1 || !got.Intermediates[0].Equal(vtsa.Intermediates[0]) {
			t.Error("wrong TSA chain")
		}
		if !sameCAs(tm) || !sameLogs(tm.RekorLogs(), base.RekorLogs()) || !sameLogs(tm.CTLogs(), base.CTLogs()) {
			t.Error("other components changed")
		}
	})
}

// The log IDs computed for keys from the environment are sigstore's: for
// the public-good Rekor v1 log and CT logs, the IDs in the production
// trusted root.
func TestLogIDsMatchTheProductionTrustedRoot(t *testing.T) {
	var tr struct {
		Tlogs  []tlogJSON `json:"tlogs"`
		Ctlogs []tlogJSON `json:"ctlogs"`
	}
	if err := json.Unmarshal([]byte(embeddedTrustedRootJSON), &tr); err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, l := range append(tr.Ctlogs, tr.Tlogs...) {
		if l.BaseURL == "https://log2025-1.rekor.sigstore.dev" {
			continue // Rekor v2 logs are identified by their checkpoint key instead
		}
		der, _ := base64.StdEncoding.DecodeString(l.PublicKey.RawBytes)
		want, _ := base64.StdEncoding.DecodeString(l.LogID.KeyID)
		for _, enc := range [][]byte{der, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})} {
			pub, err := keys.ParsePublicKey(enc)
			if err != nil {
				t.Fatalf("%s: %v", l.BaseURL, err)
			}
			got, err := transparencyLog(pub)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.ID, want) {
				t.Errorf("%s: log ID %x, want %x", l.BaseURL, got.ID, want)
			}
		}
		checked++
	}
	if checked < 3 {
		t.Errorf("only %d logs checked", checked)
	}
}

type tlogJSON struct {
	BaseURL   string `json:"baseUrl"`
	PublicKey struct {
		RawBytes string `json:"rawBytes"`
	} `json:"publicKey"`
	LogID struct {
		KeyID string `json:"keyId"`
	} `json:"logId"`
}

func TestOverrideErrorsNameTheVariable(t *testing.T) {
	vi := newVirtualInstance(t)
	dir := t.TempDir()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	fca := vi.vs.FulcioCertificateAuthorities()[0].(*root.FulcioCertificateAuthority)
	tsa := vi.vs.TimestampingAuthorities()[0].(*root.SigstoreTimestampingAuthority)
	notPEM := writeTemp(t, []byte("hello"))
	for _, c := range []struct {
		env, path, want string
	}{
		{EnvRootFile, filepath.Join(dir, "absent.pem"), "no such file"},
		{EnvRootFile, notPEM, "no PEM CERTIFICATE block"},
		{EnvRootFile, pemFile(t, dir, "inter.pem", "CERTIFICATE", fca.Intermediates[0].Raw), "no root (self-signed) certificate"},
		{EnvRekorPublicKey, notPEM, "neither a PEM public key nor a DER"},
		{EnvRekorPublicKey, vi.rootFile, `PEM block "CERTIFICATE" is not a public key`},
		{EnvCTLogPublicKeyFile, filepath.Join(dir, "absent.pub"), "no such file"},
		{EnvTSACertificateFile, pemFile(t, dir, "noleaf.pem", "CERTIFICATE", tsa.Intermediates[0].Raw, tsa.Root.Raw), "exactly one leaf"},
		{EnvTSACertificateFile, pemFile(t, dir, "noroot.pem", "CERTIFICATE", tsa.Leaf.Raw, tsa.Intermediates[0].Raw), "at least one root"},
		{EnvTSACertificateFile, pemFile(t, dir, "key.pem", "PUBLIC KEY", spki(t, k.Public())), "no PEM CERTIFICATE block"},
	} {
		ft := &trusttest.FailingTransport{}
		_, err := Material(context.Background(), Options{Getenv: trusttest.Env(c.env, c.path, EnvTUFRoot, dir), Transport: ft})
		if ft.Requests() != 0 {
			t.Errorf("%s: a request before the bad file was reported", c.env)
		}
		if err == nil || !strings.HasPrefix(err.Error(), c.env+` "`+c.path+`": `) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s=%s: err = %v, want %q", c.env, filepath.Base(c.path), err, c.want)
		}
	}
}

func TestHelpersReplaceAndChain(t *testing.T) {
	vi := newVirtualInstance(t)
	base, err := LoadFile(writeTemp(t, trusttest.TrustedRootJSON(t, "alpha")))
	if err != nil {
		t.Fatal(err)
	}
	fca := vi.vs.FulcioCertificateAuthorities()[0].(*root.FulcioCertificateAuthority)
	tsa := vi.vs.TimestampingAuthorities()[0].(*root.SigstoreTimestampingAuthority)
	chain := []*x509.Certificate{tsa.Leaf, tsa.Intermediates[0], tsa.Root}
	if err := CheckTimestampChain(chain); err != nil {
		t.Fatal(err)
	}
	tm := WithTimestampAuthority(WithCertificateAuthority(base, []*x509.Certificate{fca.Root}, fca.Intermediates), chain)
	if _, nested := tm.(*overlay).base.(*overlay); nested {
		t.Error("chained helpers nest overlays")
	}
	if cas := tm.FulcioCertificateAuthorities(); len(cas) != 1 || !cas[0].(*root.FulcioCertificateAuthority).Root.Equal(fca.Root) {
		t.Error("Fulcio CA not replaced")
	}
	if tsas := tm.TimestampingAuthorities(); len(tsas) != 1 || !tsas[0].(*root.SigstoreTimestampingAuthority).Leaf.Equal(tsa.Leaf) {
		t.Error("TSA not replaced")
	}
	if !sameLogs(tm.RekorLogs(), base.RekorLogs()) || !sameLogs(tm.CTLogs(), base.CTLogs()) {
		t.Error("logs changed")
	}
	if len(base.FulcioCertificateAuthorities()) != 1 || base.FulcioCertificateAuthorities()[0].(*root.FulcioCertificateAuthority).Root.Equal(fca.Root) {
		t.Error("base modified")
	}
	if len(WithCertificateAuthority(base, nil, nil).FulcioCertificateAuthorities()) != 0 {
		t.Error("no roots should mean no CA")
	}
	if err := CheckTimestampChain([]*x509.Certificate{tsa.Leaf, tsa.Leaf, tsa.Root}); err == nil {
		t.Error("two leaves accepted")
	}
}

func logIDs(m map[string]*root.TransparencyLog) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
