package verifyblob_test

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/signetdev/signet/internal/testing/clitest"
)

// A 300 MB garbage --bundle (sparse, no disk used) is refused from its
// size, with one line naming the flag, before it is read: the run
// allocates a few MB at most, not 128 MiB (the limit) or 300 MB.
func TestHugeBundleCostsNoMemory(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "bundle.json")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(300 << 20); err != nil {
		t.Fatal(err)
	}
	f.Close()
	art := write(t, dir, "blob", []byte("blob"))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	r := clitest.Run(t, clitest.Options{}, "verify-blob", "--bundle", p, "--certificate-identity", "a@b", "--certificate-oidc-issuer", "https://i", art)
	runtime.ReadMemStats(&after)
	r.CheckErrorLine(t)
	if !strings.Contains(r.ErrLine(), "--bundle") || !strings.Contains(r.ErrLine(), "larger than the") {
		t.Errorf("error: %s", r.ErrLine())
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
		t.Errorf("refusing a 300 MB bundle allocated %d MB", alloc>>20)
	}
}
