package trust

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/tuf"
	"github.com/theupdateframework/go-tuf/v2/metadata"
	tuffetcher "github.com/theupdateframework/go-tuf/v2/metadata/fetcher"

	"github.com/signetdev/signet/internal/trust/trusttest"
)

// fixture is a TUF repository publishing the trusted root of a made-up
// instance "alpha", served over HTTP, and an empty cache directory.
type fixture struct {
	repo  *trusttest.Repo
	srv   *httptest.Server
	cache string
	warn  bytes.Buffer
}

func newFixture(t *testing.T, expires time.Time) *fixture {
	t.Helper()
	repo := trusttest.NewRepo(t, expires, map[string][]byte{
		TrustedRootTarget:   trusttest.TrustedRootJSON(t, "alpha"),
		SigningConfigTarget: []byte(`{"mediaType":"application/vnd.dev.sigstore.signingconfig.v0.2+json"}`),
		"unrelated.pem":     []byte("not fetched"),
	})
	return &fixture{repo: repo, srv: repo.Serve(), cache: t.TempDir()}
}

// opts are Options over the fixture's cache with rt as the network and now
// as the clock.
func (f *fixture) opts(rt http.RoundTripper, now time.Time, env ...string) Options {
	return Options{
		Getenv:    trusttest.Env(append([]string{EnvTUFRoot, f.cache}, env...)...),
		Transport: rt,
		Warn:      &f.warn,
		Now:       func() time.Time { return now },
	}
}

// initialize is `signet initialize --mirror <srv> --root <root.json>`.
func (f *fixture) initialize(t *testing.T) {
	t.Helper()
	if _, err := Initialize(context.Background(), f.opts(&trusttest.CountingTransport{}, time.Now()), f.srv.URL, f.repo.Root1); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) mirrorDir() string { return filepath.Join(f.cache, tuf.URLToPath(f.srv.URL)) }

// oneWarning checks that exactly one warning line was written, containing
// every one of wants, and resets the buffer.
func (f *fixture) oneWarning(t *testing.T, wants ...string) {
	t.Helper()
	got := f.warn.String()
	f.warn.Reset()
	t.Logf("%s", got)
	if strings.Count(got, "\n") != 1 || !strings.HasPrefix(got, "WARNING: ") || !strings.HasSuffix(got, "\n") {
		t.Fatalf("want exactly one WARNING line, got %q", got)
	}
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("warning %q does not contain %q", got, w)
		}
	}
}

func (f *fixture) noWarning(t *testing.T) {
	t.Helper()
	if f.warn.Len() != 0 {
		t.Fatalf("unexpected warning: %q", f.warn.String())
	}
}

func TestInitializeWritesTheCosignLayout(t *testing.T) {
	f := newFixture(t, time.Now().Add(30*24*time.Hour))
	ct := &trusttest.CountingTransport{}
	res, err := Initialize(context.Background(), f.opts(ct, time.Now()), f.srv.URL, f.repo.Root1)
	if err != nil {
		t.Fatal(err)
	}
	if !res.SigningConfig || res.RootVersion != 1 || res.Mirror != f.srv.URL || res.CacheDir != f.cache {
		t.Errorf("Initialize = %+v", res)
	}
	// sigstore-go's (so cosign's) layout: <cache>/<URLToPath(mirror)>/…
	for _, p := range []string{"root.json", "timestamp.json", "snapshot.json", "targets.json",
		"targets/" + TrustedRootTarget, "targets/" + SigningConfigTarget} {
		if _, err := os.Stat(filepath.Join(f.mirrorDir(), filepath.FromSlash(p))); err != nil {
			t.Errorf("cache lacks %s: %v", p, err)
		}
	}
	if _, err := os.Stat(filepath.Join(f.mirrorDir(), "targets", "unrelated.pem")); err == nil {
		t.Error("initialize fetched a target it does not need")
	}
	cfg, err := tuf.LoadConfig(filepath.Join(f.cache, tuf.URLToPath(f.srv.URL)+".json"))
	if err != nil || time.Since(cfg.LastTimestamp) > time.Minute {
		t.Errorf("refresh record: %+v, %v", cfg, err)
	}
	b, err := os.ReadFile(filepath.Join(f.cache, "remote.json"))
	if err != nil {
		t.Fatal(err)
	}
	var remote map[string]string
	if err := json.Unmarshal(b, &remote); err != nil || remote["mirror"] != f.srv.URL || len(remote) != 1 {
		t.Errorf("remote.json = %s (%v)", b, err)
	}
	// Nothing is left behind in the cache directory but the cache.
	entries, _ := os.ReadDir(f.cache)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".initialize-") {
			t.Errorf("scratch directory left behind: %s", e.Name())
		}
	}
	if len(ct.Paths()) == 0 {
		t.Error("initialize made no request")
	}
}

// The central promise: once initialized (or refreshed within a day), a
// verification makes zero network requests.
func TestLoadFromFreshCacheMakesNoRequest(t *testing.T) {
	f := newFixture(t, time.Now().Add(30*24*time.Hour))
	f.initialize(t)
	for _, after := range []time.Duration{0, time.Hour, 23 * time.Hour} {
		ft := &trusttest.FailingTransport{}
		tr, err := Load(context.Background(), f.opts(ft, time.Now().Add(after)))
		if err != nil {
			t.Fatalf("after %v: %v", after, err)
		}
		if n := ft.Requests(); n != 0 {
			t.Errorf("after %v: %d requests, want 0", after, n)
		}
		if got := trusttest.RekorURL(tr); got != "https://rekor.alpha.test" {
			t.Errorf("after %v: trusted root of %s, want alpha's", after, got)
		}
		f.noWarning(t)
	}
}

func TestTrustedRootFileMakesNoRequestAndTouchesNoCache(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "trusted_root.json")
	if err := os.WriteFile(path, trusttest.TrustedRootJSON(t, "beta"), 0o644); err != nil {
		t.Fatal(err)
	}
	cache := filepath.Join(dir, "cache") // must not be created
	ft := &trusttest.FailingTransport{}
	var warn bytes.Buffer
	for _, load := range []func(context.Context, Options) (root.TrustedMaterial, error){
		func(ctx context.Context, o Options) (root.TrustedMaterial, error) { return Load(ctx, o) },
		Material,
	} {
		tm, err := load(context.Background(), Options{
			TrustedRootPath: path,
			// SIGSTORE_* are ignored with --trusted-root, as in cosign.
			Getenv: trusttest.Env(EnvTUFRoot, cache, EnvTUFMirror, "https://tuf.invalid",
				EnvRekorPublicKey, filepath.Join(dir, "absent.pub")),
			Transport: ft,
			Warn:      &warn,
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := trusttest.RekorURL(tm); got != "https://rekor.beta.test" {
			t.Errorf("got the trusted root of %s", got)
		}
	}
	if ft.Requests() != 0 || warn.Len() != 0 {
		t.Errorf("%d requests, warnings %q", ft.Requests(), warn.String())
	}
	if _, err := os.Stat(cache); !os.IsNotExist(err) {
		t.Errorf("cache directory touched: %v", err)
	}
}

func TestTrustedRootFileErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"mediaType": 7}`), 0o644)
	missing := filepath.Join(dir, "missing.json")
	for path, want := range map[string]string{
		bad:     `loading trusted root "` + bad + `": parsing: `,
		missing: `loading trusted root "` + missing + `": no such file or directory`,
	} {
		_, err := Load(context.Background(), Options{TrustedRootPath: path})
		if err == nil || !strings.HasPrefix(err.Error(), want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("Load(%s) = %v, want one line starting %q", filepath.Base(path), err, want)
		}
	}
}

func TestStaleCacheAndUnreachableRepositoryUsesTheCachedRoot(t *testing.T) {
	f := newFixture(t, time.Now().Add(30*24*time.Hour))
	f.initialize(t)
	ft := &trusttest.FailingTransport{}
	start := time.Now()
	tr, err := Load(context.Background(), f.opts(ft, time.Now().Add(25*time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("falling back took %v", took)
	}
	if got := trusttest.RekorURL(tr); got != "https://rekor.alpha.test" {
		t.Errorf("got the trusted root of %s", got)
	}
	if ft.Requests() == 0 {
		t.Error("a stale cache was not refreshed")
	}
	f.oneWarning(t, "TUF repository "+f.srv.URL+" unreachable", "network disabled in this test",
		"using the cached trusted root from "+time.Now().UTC().Format(time.DateOnly))
}

func TestNoCacheAndUnreachableRepositoryUsesTheEmbeddedRoot(t *testing.T) {
	cache := filepath.Join(t.TempDir(), "root")
	ft := &trusttest.FailingTransport{}
	var warn bytes.Buffer
	tr, err := Load(context.Background(), Options{Getenv: trusttest.Env(EnvTUFRoot, cache), Transport: ft, Warn: &warn})
	if err != nil {
		t.Fatal(err)
	}
	embedded, err := EmbeddedTrustedRoot()
	if err != nil {
		t.Fatal(err)
	}
	if !sameLogs(tr.RekorLogs(), embedded.RekorLogs()) || len(tr.FulcioCertificateAuthorities()) != len(embedded.FulcioCertificateAuthorities()) {
		t.Error("not the embedded trusted root")
	}
	if ft.Requests() == 0 {
		t.Error("no request to the TUF repository")
	}
	w := warn.String()
	if strings.Count(w, "\n") != 1 || !strings.Contains(w, "TUF repository https://tuf-repo-cdn.sigstore.dev unreachable") ||
		!strings.Contains(w, "using the trusted root embedded in signet (production, taken "+EmbeddedDate+")") {
		t.Errorf("warning = %q", w)
	}
}

func TestOfflineNeverTouchesTheNetwork(t *testing.T) {
	f := newFixture(t, time.Now().Add(30*24*time.Hour))
	f.initialize(t)
	offline := func(now time.Time) (*root.TrustedRoot, *trusttest.FailingTransport, error) {
		ft := &trusttest.FailingTransport{}
		o := f.opts(ft, now)
		o.Offline = true
		tr, err := Load(context.Background(), o)
		return tr, ft, err
	}
	t.Run("stale", func(t *testing.T) {
		tr, ft, err := offline(time.Now().Add(10 * 24 * time.Hour))
		if err != nil || ft.Requests() != 0 || trusttest.RekorURL(tr) != "https://rekor.alpha.test" {
			t.Fatalf("err %v, %d requests", err, ft.Requests())
		}
		f.noWarning(t)
	})
	t.Run("metadata expired", func(t *testing.T) {
		tr, ft, err := offline(time.Now().Add(31 * 24 * time.Hour))
		if err != nil || ft.Requests() != 0 || trusttest.RekorURL(tr) != "https://rekor.alpha.test" {
			t.Fatalf("err %v, %d requests", err, ft.Requests())
		}
		f.oneWarning(t, "offline", "expired", "using the cached trusted root from")
	})
	t.Run("no cache", func(t *testing.T) {
		ft := &trusttest.FailingTransport{}
		var warn bytes.Buffer
		tr, err := Load(context.Background(), Options{
			Offline: true, Getenv: trusttest.Env(EnvTUFRoot, t.TempDir()), Transport: ft, Warn: &warn,
		})
		if err != nil || ft.Requests() != 0 || len(tr.RekorLogs()) == 0 {
			t.Fatalf("err %v, %d requests", err, ft.Requests())
		}
		if strings.Count(warn.String(), "\n") != 1 || !strings.Contains(warn.String(), "offline, and no TUF metadata of "+DefaultMirror+" is cached") ||
			!strings.Contains(warn.String(), "embedded in signet (production, taken "+EmbeddedDate+")") {
			t.Errorf("warning = %q", warn.String())
		}
	})
}

// A refresh that is due picks up a new trusted root and a rotated TUF
// root; the refresh is then recorded, so the next day needs no request.
func TestRefreshPicksUpNewTargetsAndRootRotation(t *testing.T) {
	f := newFixture(t, time.Now().Add(30*24*time.Hour))
	f.initialize(t)
	f.repo.RotateRoot()
	f.repo.Publish(map[string][]byte{TrustedRootTarget: trusttest.TrustedRootJSON(t, "gamma")})

	later := time.Now().Add(2 * 24 * time.Hour)
	ct := &trusttest.CountingTransport{}
	tr, err := Load(context.Background(), f.opts(ct, later))
	if err != nil {
		t.Fatal(err)
	}
	if got := trusttest.RekorURL(tr); got != "https://rekor.gamma.test" {
		t.Fatalf("after refresh: trusted root of %s, want gamma's", got)
	}
	f.noWarning(t)
	if v := rootVersion(mustRead(t, filepath.Join(f.mirrorDir(), "root.json"))); v != 2 {
		t.Errorf("cached root.json version %d, want 2", v)
	}
	// The new root is used from the cache from now on (the first root no
	// longer verifies the new timestamp key).
	ft := &trusttest.FailingTransport{}
	tr, err = Load(context.Background(), f.opts(ft, later.Add(time.Hour)))
	if err != nil || ft.Requests() != 0 || trusttest.RekorURL(tr) != "https://rekor.gamma.test" {
		t.Fatalf("next load: err %v, %d requests", err, ft.Requests())
	}
	f.noWarning(t)
}

func TestFileMirror(t *testing.T) {
	f := newFixture(t, time.Now().Add(30*24*time.Hour))
	ft := &trusttest.FailingTransport{}
	mirror := f.repo.FileURL()
	if _, err := Initialize(context.Background(), f.opts(ft, time.Now()), mirror, f.repo.Root1); err != nil {
		t.Fatal(err)
	}
	f.repo.Publish(map[string][]byte{TrustedRootTarget: trusttest.TrustedRootJSON(t, "delta")})
	tr, err := Load(context.Background(), f.opts(ft, time.Now().Add(2*24*time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	if got := trusttest.RekorURL(tr); got != "https://rekor.delta.test" {
		t.Errorf("trusted root of %s, want delta's", got)
	}
	if ft.Requests() != 0 {
		t.Errorf("a file:// mirror made %d network requests", ft.Requests())
	}
	f.noWarning(t)
}

func TestCustomMirror(t *testing.T) {
	f := newFixture(t, time.Now().Add(30*24*time.Hour))
	t.Run("without a root", func(t *testing.T) {
		_, err := Load(context.Background(), f.opts(&trusttest.FailingTransport{}, time.Now(), EnvTUFMirror, f.srv.URL))
		if err == nil || !strings.Contains(err.Error(), "signet initialize --mirror "+f.srv.URL) || !strings.Contains(err.Error(), EnvTUFRootJSON) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("TUF_ROOT_JSON", func(t *testing.T) {
		rootPath := filepath.Join(t.TempDir(), "root.json")
		os.WriteFile(rootPath, f.repo.Root1, 0o644)
		ct := &trusttest.CountingTransport{}
		tr, err := Load(context.Background(), f.opts(ct, time.Now(), EnvTUFMirror, f.srv.URL, EnvTUFRootJSON, rootPath))
		if err != nil || trusttest.RekorURL(tr) != "https://rekor.alpha.test" || len(ct.Paths()) == 0 {
			t.Fatalf("err %v, requests %v", err, ct.Paths())
		}
		// TUF_ROOT_JSON older than the cached root: the cached one is used.
		f.repo.RotateRoot()
		if _, err := Load(context.Background(), f.opts(ct, time.Now().Add(25*time.Hour), EnvTUFMirror, f.srv.URL, EnvTUFRootJSON, rootPath)); err != nil {
			t.Fatal(err)
		}
		ft := &trusttest.FailingTransport{}
		if _, err := Load(context.Background(), f.opts(ft, time.Now().Add(26*time.Hour), EnvTUFMirror, f.srv.URL, EnvTUFRootJSON, rootPath)); err != nil || ft.Requests() != 0 {
			t.Fatalf("err %v, %d requests", err, ft.Requests())
		}
		f.noWarning(t)
	})
	t.Run("no embedded fallback", func(t *testing.T) {
		o := f.opts(&trusttest.FailingTransport{}, time.Now(), EnvTUFMirror, "https://tuf.example.test", EnvTUFRootJSON, writeTemp(t, f.repo.Root1))
		_, err := Load(context.Background(), o)
		if err == nil || !strings.Contains(err.Error(), "unreachable") || !strings.Contains(err.Error(), "no trusted root for it is cached") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("bad remote.json", func(t *testing.T) {
		cache := t.TempDir()
		os.WriteFile(filepath.Join(cache, "remote.json"), []byte(`{"mirror": "gs://bucket"}`), 0o600)
		_, err := Load(context.Background(), Options{Getenv: trusttest.Env(EnvTUFRoot, cache)})
		if err == nil || !strings.Contains(err.Error(), filepath.Join(cache, "remote.json")) {
			t.Errorf("err = %v", err)
		}
	})
}

// A failed initialize keeps the previous cache.
func TestFailedInitializeKeepsTheCache(t *testing.T) {
	f := newFixture(t, time.Now().Add(30*24*time.Hour))
	f.initialize(t)
	_, err := Initialize(context.Background(), f.opts(&trusttest.FailingTransport{}, time.Now()), f.srv.URL, f.repo.Root1)
	if err == nil || !strings.Contains(err.Error(), "network disabled") {
		t.Fatalf("err = %v", err)
	}
	ft := &trusttest.FailingTransport{}
	if _, err := Load(context.Background(), f.opts(ft, time.Now())); err != nil || ft.Requests() != 0 {
		t.Fatalf("err %v, %d requests", err, ft.Requests())
	}
	f.noWarning(t)
}

// A cached trusted_root.json that does not match the cached metadata (torn
// by a crash, or edited) is never used.
func TestMismatchedCachedTargetIsNotUsed(t *testing.T) {
	f := newFixture(t, time.Now().Add(30*24*time.Hour))
	f.initialize(t)
	p := filepath.Join(f.mirrorDir(), "targets", TrustedRootTarget)
	data := mustRead(t, p)
	os.WriteFile(p, data[:len(data)/2], 0o644)
	_, err := Load(context.Background(), f.opts(&trusttest.FailingTransport{}, time.Now()))
	if err == nil || !strings.Contains(err.Error(), "no trusted root for it is cached") {
		t.Errorf("err = %v", err)
	}
	// Online, the refresh repairs it.
	tr, err := Load(context.Background(), f.opts(&trusttest.CountingTransport{}, time.Now()))
	if err != nil || trusttest.RekorURL(tr) != "https://rekor.alpha.test" {
		t.Fatalf("err = %v", err)
	}
	if !bytes.Equal(mustRead(t, p), data) {
		t.Error("cached target not repaired")
	}
}

// cosign (sigstore-go's client) and signet share the cache both ways.
func TestCacheIsSharedWithSigstoreGo(t *testing.T) {
	f := newFixture(t, time.Now().Add(30*24*time.Hour))
	sgOpts := func(rt http.RoundTripper) *tuf.Options {
		fe := tuffetcher.NewDefaultFetcher()
		fe.SetHTTPClient(&http.Client{Transport: rt})
		return &tuf.Options{Root: f.repo.Root1, CachePath: f.cache, RepositoryBaseURL: f.srv.URL, Fetcher: fe}
	}
	t.Run("signet reads what sigstore-go wrote", func(t *testing.T) {
		ct := &trusttest.CountingTransport{}
		if _, err := root.FetchTrustedRootWithOptions(sgOpts(ct)); err != nil { // as cosign v3 does, CacheValidity 0
			t.Fatal(err)
		}
		ft := &trusttest.FailingTransport{}
		tr, err := Load(context.Background(), f.opts(ft, time.Now(), EnvTUFMirror, f.srv.URL))
		if err != nil || ft.Requests() != 0 || trusttest.RekorURL(tr) != "https://rekor.alpha.test" {
			t.Fatalf("err %v, %d requests", err, ft.Requests())
		}
		f.noWarning(t)
	})
	t.Run("sigstore-go reads what signet wrote", func(t *testing.T) {
		os.RemoveAll(f.cache)
		f.initialize(t)
		ft := &trusttest.FailingTransport{}
		o := sgOpts(ft)
		o.ForceCache = true
		tr, err := root.FetchTrustedRootWithOptions(o)
		if err != nil || ft.Requests() != 0 || trusttest.RekorURL(tr) != "https://rekor.alpha.test" {
			t.Fatalf("err %v, %d requests", err, ft.Requests())
		}
	})
}

func TestNewerRoot(t *testing.T) {
	f := newFixture(t, time.Now().Add(24*time.Hour))
	r1 := f.repo.Root1
	f.repo.RotateRoot()
	r2 := mustRead(t, filepath.Join(f.repo.Dir, "2.root.json"))
	tampered := bytes.Replace(r2, []byte(`"version": 2`), []byte(`"version": 9`), 1)
	for _, c := range []struct {
		name       string
		a, b, want []byte
	}{
		{"newer cached", r1, r2, r2},
		{"newer base", r2, r1, r2},
		{"tie keeps base", r1, r1, r1},
		{"unsigned loses", r1, tampered, r1},
		{"garbage loses", []byte("{"), r1, r1},
		{"none", nil, nil, nil},
	} {
		if got := newerRoot(c.a, c.b); !bytes.Equal(got, c.want) {
			t.Errorf("%s: got version %d", c.name, rootVersion(got))
		}
	}
}

func TestLockExcludesAndHonoursContext(t *testing.T) {
	dir := t.TempDir()
	unlock, err := lockCache(context.Background(), dir, true)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := lockCache(ctx, dir, false); err == nil {
		t.Fatal("a shared lock was granted while an exclusive one was held")
	}
	unlock()
	u1, err := lockCache(context.Background(), dir, false)
	if err != nil {
		t.Fatal(err)
	}
	u2, err := lockCache(context.Background(), dir, false)
	if err != nil {
		t.Fatal("shared locks exclude each other:", err)
	}
	u1()
	u2()
	// A reader of a cache it cannot create the lock file in proceeds.
	u3, err := lockCache(context.Background(), filepath.Join(dir, "absent"), false)
	if err != nil {
		t.Fatal(err)
	}
	u3()
}

func TestParseRemote(t *testing.T) {
	for in, want := range map[string]string{
		`{"mirror":"https://tuf.example.com"}`: "https://tuf.example.com",
		`{"mirror":"file:///srv/tuf"}`:         "file:///srv/tuf",
		`{}`:                                   "",
		`{"mirror":""}`:                        "",
	} {
		if got, err := parseRemote([]byte(in)); err != nil || got != want {
			t.Errorf("parseRemote(%s) = %q, %v", in, got, err)
		}
	}
	for _, in := range []string{`[]`, `{"mirror": 3}`, `{"mirror":"gs://x"}`, `{"mirror":"https://"}`, `{"mirror":"file://host"}`, ``} {
		if _, err := parseRemote([]byte(in)); err == nil {
			t.Errorf("parseRemote(%s) succeeded", in)
		}
	}
}

func TestFetcherReportsStatusAndBounds(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/big":
			w.Write(bytes.Repeat([]byte("x"), 100))
		case "/ok":
			w.Write([]byte("ok"))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	fe := newFetcher(context.Background(), http.DefaultTransport)
	if b, err := fe.DownloadFile(srv.URL+"/ok", 10, 0); err != nil || string(b) != "ok" {
		t.Errorf("ok: %q %v", b, err)
	}
	_, err := fe.DownloadFile(srv.URL+"/missing", 10, 0)
	var he *metadata.ErrDownloadHTTP
	if !errAs(err, &he) || he.StatusCode != 404 || unreachable(err) {
		t.Errorf("missing: %v", err)
	}
	if _, err := fe.DownloadFile(srv.URL+"/big", 10, 0); err == nil {
		t.Error("big: no error")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := newFetcher(ctx, http.DefaultTransport).DownloadFile(srv.URL+"/ok", 10, 0); err == nil || !unreachable(err) {
		t.Errorf("cancelled: %v", err)
	}
}

func sameLogs(a, b map[string]*root.TransparencyLog) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if _, ok := b[k]; !ok {
			return false
		}
	}
	return true
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeTemp(t *testing.T, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func errAs(err error, target any) bool { return errors.As(err, target) }

// TestSigningConfig: the signing config follows Load's rules — from a fresh
// cache with no request, refreshed when stale, the cached copy with one
// warning when the repository is unreachable — and, unlike the trusted
// root, has no embedded stand-in.
func TestSigningConfig(t *testing.T) {
	f := newFixture(t, time.Now().Add(30*24*time.Hour))
	f.initialize(t)

	ft := &trusttest.FailingTransport{}
	sc, err := SigningConfig(context.Background(), f.opts(ft, time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	if sc == nil || ft.Requests() != 0 {
		t.Fatalf("fresh cache: config %v, %d requests", sc, ft.Requests())
	}
	f.noWarning(t)

	ct := &trusttest.CountingTransport{}
	if _, err := SigningConfig(context.Background(), f.opts(ct, time.Now().Add(25*time.Hour))); err != nil {
		t.Fatal(err)
	}
	if len(ct.Paths()) == 0 {
		t.Error("stale cache: no refresh request")
	}
	f.noWarning(t)

	if _, err := SigningConfig(context.Background(), f.opts(&trusttest.FailingTransport{}, time.Now().Add(50*time.Hour))); err != nil {
		t.Fatal(err)
	}
	f.oneWarning(t, "unreachable", "using the cached signing config from")

	// No cache and no network: an error, not a made-up configuration.
	empty := Options{Getenv: trusttest.Env(EnvTUFRoot, t.TempDir()), Transport: &trusttest.FailingTransport{}, Warn: &f.warn}
	if _, err := SigningConfig(context.Background(), empty); err == nil || !strings.Contains(err.Error(), "no signing config for it is cached") {
		t.Fatalf("no cache, no network: %v", err)
	}
}
