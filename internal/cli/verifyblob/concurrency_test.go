package verifyblob_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signetdev/signet/internal/testing/clitest"
	"github.com/signetdev/signet/internal/testing/fakesigstore"
	"github.com/signetdev/signet/internal/trust"
	"github.com/signetdev/signet/internal/trust/trusttest"
)

// flakyMirror serves a TUF repository normally, slowly, or not at all
// (every connection dropped), and counts timestamp.json requests (one per
// refresh attempt).
type flakyMirror struct {
	srv        *httptest.Server
	mode       atomic.Int32 // 0 normal, 1 slow, 2 dead, 3 hanging
	timestamps atomic.Int64
	hung       atomic.Int64 // requests met while hanging
	// dieAfter, when positive, counts down the requests still answered
	// before the mirror dies.
	dieAfter atomic.Int64
}

const (
	mirrorNormal = iota
	mirrorSlow
	mirrorDead
	mirrorHang // answers nothing for 2 s, then drops the connection
)

func newFlakyMirror(t *testing.T, dir string) *flakyMirror {
	m := &flakyMirror{}
	files := http.FileServer(http.Dir(dir))
	m.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch m.mode.Load() {
		case mirrorHang:
			m.hung.Add(1)
			time.Sleep(2 * time.Second)
			fallthrough
		case mirrorDead:
			if hj, ok := w.(http.Hijacker); ok {
				if c, _, err := hj.Hijack(); err == nil {
					c.Close()
				}
			}
			return
		case mirrorSlow:
			time.Sleep(300 * time.Millisecond)
		}
		if m.dieAfter.Load() > 0 && m.dieAfter.Add(-1) == 0 {
			m.mode.Store(mirrorDead)
		}
		if r.URL.Path == "/timestamp.json" {
			m.timestamps.Add(1)
		}
		files.ServeHTTP(w, r)
	}))
	t.Cleanup(m.srv.Close)
	return m
}

// Twenty concurrent `signet verify-blob` runs sharing one TUF cache,
// against a mirror that is slow, then dead: with a cold cache, one
// refresh serves all twenty; with a stale cache, one refresh again; with
// the mirror dying during the refresh, every run still verifies from the
// last verified trusted root with one warning; with a mirror that hangs,
// one refresh attempt times out and the other runs use its failure. The cache is never torn:
// afterwards it verifies offline without a warning and holds no
// temporary file (cosign #2576). Meant to run under -race.
func TestConcurrentVerifyBlobSharesOneRefresh(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	fs := fakesigstore.New(t)
	dir := t.TempDir()
	content := []byte("verified twenty times")
	art := write(t, dir, "blob", content)
	b := write(t, dir, "b.json", bundleJSON(t, fs.SignBlob(t, advIdentity, advIssuer, content, fakesigstore.SignOptions{})))
	base := time.Now()
	repo := trusttest.NewRepo(t, base.Add(30*24*time.Hour), map[string][]byte{trust.TrustedRootTarget: fs.TrustedRootJSON(t)})
	m := newFlakyMirror(t, repo.Dir)
	cache := filepath.Join(dir, "tuf")
	env := clitest.Env{"TUF_ROOT": cache, "TUF_MIRROR": m.srv.URL, "TUF_ROOT_JSON": write(t, dir, "root.json", repo.Root1)}

	runAll := func(t *testing.T, now time.Time) []clitest.Result {
		t.Helper()
		const n = 20
		results := make([]clitest.Result, n)
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i] = clitest.Run(t, clitest.Options{Env: env, Transport: http.DefaultTransport, Now: func() time.Time { return now }},
					append(append([]string{"verify-blob", "--bundle", b}, keyless...), art)...)
			}()
		}
		wg.Wait()
		for i, r := range results {
			if r.Code != 0 {
				t.Errorf("run %d: exit %d: %s", i, r.Code, r.Stderr)
			}
		}
		return results
	}
	warned := func(rs []clitest.Result) int {
		n := 0
		for _, r := range rs {
			if strings.Contains(r.Stderr, "WARNING") {
				n++
			}
		}
		return n
	}

	t.Run("cold cache, slow mirror", func(t *testing.T) {
		m.mode.Store(mirrorSlow)
		rs := runAll(t, base)
		if got := m.timestamps.Load(); got != 1 {
			t.Errorf("%d refreshes for 20 runs, want 1", got)
		}
		if w := warned(rs); w != 0 {
			t.Errorf("%d runs warned", w)
		}
	})
	t.Run("stale cache, slow mirror", func(t *testing.T) {
		repo.Publish(nil)
		rs := runAll(t, base.Add(25*time.Hour))
		if got := m.timestamps.Load(); got != 2 {
			t.Errorf("%d refreshes in all, want 2", got)
		}
		if w := warned(rs); w != 0 {
			t.Errorf("%d runs warned", w)
		}
	})
	t.Run("stale cache, mirror dies during the refresh", func(t *testing.T) {
		// The first request (for a newer root) is answered, slowly; then
		// the mirror dies, in the middle of the refresh.
		m.mode.Store(mirrorSlow)
		m.dieAfter.Store(1)
		rs := runAll(t, base.Add(50*time.Hour))
		if w := warned(rs); w != len(rs) {
			t.Errorf("%d of %d runs warned that the cached root was used", w, len(rs))
		}
		for _, r := range rs {
			if n := strings.Count(r.Stderr, "WARNING"); n > 1 {
				t.Errorf("%d warnings in one run: %s", n, r.Stderr)
			}
		}
	})
	t.Run("stale cache, hanging mirror", func(t *testing.T) {
		// Each refresh attempt costs two tries of 2 s. Runs waiting for the
		// lock take the first one's failure instead of waiting out their
		// own (twenty in turn would take well over a minute).
		m.mode.Store(mirrorHang)
		start := time.Now()
		rs := runAll(t, base.Add(75*time.Hour))
		if d := time.Since(start); d > 30*time.Second {
			t.Errorf("20 runs took %v", d)
		}
		if n := m.hung.Load(); n > 4 {
			t.Errorf("%d requests to the hanging mirror, want the one refresh's (at most 4)", n)
		}
		if w := warned(rs); w != len(rs) {
			t.Errorf("%d of %d runs warned that the cached root was used", w, len(rs))
		}
	})
	m.srv.CloseClientConnections()

	// The cache verifies offline, silently, and holds no partial file.
	var warn bytes.Buffer
	if _, err := trust.Load(context.Background(), trust.Options{
		Offline: true, Warn: &warn, Transport: &trusttest.FailingTransport{},
		Getenv: func(k string) string { return env[k] },
		Now:    func() time.Time { return base.Add(50 * time.Hour) },
	}); err != nil || warn.Len() > 0 {
		t.Errorf("cache after the runs: %v %s", err, warn.String())
	}
	filepath.Walk(cache, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() && (strings.Contains(fi.Name(), ".tmp-") || strings.HasPrefix(fi.Name(), "tuf_tmp")) {
			t.Errorf("temporary file left: %s", p)
		}
		return nil
	})
}
