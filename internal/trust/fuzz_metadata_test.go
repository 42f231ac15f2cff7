package trust

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/signetdev/signet/internal/trust/trusttest"
)

// FuzzCachedMetadata: whatever bytes sit in the cache as timestamp.json,
// snapshot.json, targets.json, root.json or the trusted root target
// (a hostile mirror's answers are stored there once go-tuf accepts them;
// a tampered disk can hold anything), reading the cache verifies or fails,
// never panics. Seeds are the real, signed files.
func FuzzCachedMetadata(f *testing.F) {
	files := []string{"timestamp.json", "snapshot.json", "targets.json", "root.json", filepath.Join("targets", TrustedRootTarget)}
	repo := trusttest.NewRepo(f, time.Now().Add(24*time.Hour), map[string][]byte{TrustedRootTarget: trusttest.TrustedRootJSON(f, "alpha")})
	cache := f.TempDir()
	src := &source{cacheDir: cache, mirror: repo.FileURL(), root: repo.Root1}
	c := &client{opts: &Options{}, src: src}
	if _, err := c.update(f.Context(), src.dir(), time.Now(), []string{TrustedRootTarget}, nil); err != nil {
		f.Fatal(err)
	}
	if _, err := c.readCache(TrustedRootTarget, time.Now()); err != nil {
		f.Fatalf("the untouched cache does not verify: %v", err)
	}
	orig := map[string][]byte{}
	for i, n := range files {
		b, err := os.ReadFile(filepath.Join(src.dir(), n))
		if err != nil {
			f.Fatal(err)
		}
		orig[n] = b
		f.Add(uint8(i), b)
	}
	f.Add(uint8(0), []byte(`{"signed":"x","signatures":[]}`))
	f.Add(uint8(3), []byte(`{"signed":{"_type":5}}`))
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		name := files[int(which)%len(files)]
		p := filepath.Join(src.dir(), name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		defer os.WriteFile(p, orig[name], 0o600)
		_, _ = c.readCache(TrustedRootTarget, time.Now())
		_, _, _ = c.cachedTarget(TrustedRootTarget)
	})
}
