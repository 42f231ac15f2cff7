package trust

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sigstore/sigstore-go/pkg/tuf"

	"github.com/signetdev/signet/internal/trust/trusttest"
)

// The embedded files are the shared production trust material, byte for
// byte (embedded/README.md says where they come from).
func TestEmbeddedMaterialIsTheSharedProductionMaterial(t *testing.T) {
	for shared, embedded := range map[string]string{
		"trust/production-trusted-root.json": embeddedTrustedRootJSON,
		"trust/production-tuf-root.json":     embeddedTUFRootJSON,
	} {
		b, err := os.ReadFile(trusttest.SharedTestdata(t, shared))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b, []byte(embedded)) {
			t.Errorf("embedded copy of %s differs", shared)
		}
	}
}

func TestEmbeddedMaterialParses(t *testing.T) {
	tr, err := EmbeddedTrustedRoot()
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.FulcioCertificateAuthorities()) == 0 || len(tr.RekorLogs()) < 2 || len(tr.CTLogs()) == 0 || len(tr.TimestampingAuthorities()) == 0 {
		t.Error("embedded trusted root lacks a component")
	}
	v := rootVersion(EmbeddedTUFRoot())
	if v == 0 || v <= rootVersion(tuf.DefaultRoot()) {
		t.Errorf("embedded TUF root version %d is not newer than sigstore-go's %d", v, rootVersion(tuf.DefaultRoot()))
	}
	// EmbeddedTUFRoot hands out copies.
	b := EmbeddedTUFRoot()
	b[0] = 'X'
	if EmbeddedTUFRoot()[0] == 'X' {
		t.Error("EmbeddedTUFRoot returned shared memory")
	}
}

func TestCacheDir(t *testing.T) {
	if d, _ := CacheDir(Options{HomeDir: "/home/u"}); d != filepath.Join("/home/u", ".sigstore", "root") {
		t.Errorf("default cache %s", d)
	}
	if d, _ := CacheDir(Options{HomeDir: "/home/u", Getenv: trusttest.Env(EnvTUFRoot, "/tuf")}); d != "/tuf" {
		t.Errorf("TUF_ROOT cache %s", d)
	}
	_, err := Load(context.Background(), Options{})
	if err == nil || !strings.Contains(err.Error(), EnvTUFRoot) {
		t.Errorf("no home and no TUF_ROOT: %v", err)
	}
}
