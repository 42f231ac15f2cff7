package trust

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/theupdateframework/go-tuf/v2/metadata"

	"github.com/signetdev/signet/internal/trust/trusttest"
)

// go-tuf's advisories, and the classic TUF attacks, against real signed
// repositories served on loopback. A refresh that meets an attack fails;
// signet then keeps what it verified before (one warning line) and the
// cache on disk is unchanged.

// attacked is a fixture that refreshed once to version 2 (trusted root
// "beta"), at base+25h.
type attacked struct {
	*fixture
	base time.Time
	v1   map[string][]byte // the version 1 files, for replays
}

func newAttacked(t *testing.T) *attacked {
	t.Helper()
	base := time.Now()
	f := newFixture(t, base.Add(10*365*24*time.Hour))
	f.initialize(t)
	a := &attacked{fixture: f, base: base, v1: map[string][]byte{}}
	for _, n := range []string{"timestamp.json", "1.snapshot.json", "1.targets.json"} {
		a.v1[n] = f.repo.ReadFile(n)
	}
	f.repo.Publish(map[string][]byte{TrustedRootTarget: trusttest.TrustedRootJSON(t, "beta")})
	a.load(t, 25, "https://rekor.beta.test")
	f.noWarning(t)
	return a
}

// load loads at base+hours and checks which trusted root came back.
func (a *attacked) load(t *testing.T, hours int, wantRekor string) {
	t.Helper()
	tr, err := Load(context.Background(), a.opts(http.DefaultTransport, a.base.Add(time.Duration(hours)*time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	if got := trusttest.RekorURL(tr); got != wantRekor {
		t.Fatalf("trusted root of %s, want %s", got, wantRekor)
	}
}

// refused loads at base+hours after an attack: either the cached root
// (beta) comes back with one warning naming the failed update, or, when
// the attack left no cached copy that still matches the cached metadata,
// a one-line error. Never the attacker's root. The files in keep must be
// unchanged on disk (metadata go-tuf verified before the failure, such as
// a newer valid timestamp, may legitimately be stored).
func (a *attacked) refused(t *testing.T, hours int, keep []string, words ...string) {
	t.Helper()
	before := a.snapshotCache(t)
	tr, err := Load(context.Background(), a.opts(http.DefaultTransport, a.base.Add(time.Duration(hours)*time.Hour)))
	msg := a.warn.String()
	if err != nil {
		msg = err.Error()
		if strings.Contains(msg, "\n") {
			t.Errorf("multi-line error %q", msg)
		}
		t.Logf("refused with an error: %s", msg)
	} else {
		if got := trusttest.RekorURL(tr); got != "https://rekor.beta.test" {
			t.Fatalf("after the attack: trusted root of %s", got)
		}
		a.oneWarning(t)
	}
	a.warn.Reset()
	for _, w := range append([]string{"updating trust material from TUF repository"}, words...) {
		if !strings.Contains(msg, w) {
			t.Errorf("%q does not say %q", msg, w)
		}
	}
	after := a.snapshotCache(t)
	for _, k := range keep {
		if !bytes.Equal(before[k], after[k]) {
			t.Errorf("the cached %s changed", k)
		}
	}
	if cached, err := os.ReadFile(filepath.Join(a.mirrorDir(), "targets", escapeTarget(TrustedRootTarget))); err != nil || !bytes.Contains(cached, []byte("rekor.beta.test")) {
		t.Errorf("the cached trusted root changed (%v)", err)
	}
}

var allMetadata = []string{"root.json", "timestamp.json", "snapshot.json", "targets.json"}

// snapshotCache reads every metadata file of the mirror's cache.
func (a *attacked) snapshotCache(t *testing.T) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, n := range []string{"root.json", "timestamp.json", "snapshot.json", "targets.json"} {
		b, _ := os.ReadFile(filepath.Join(a.mirrorDir(), n))
		out[n] = b
	}
	return out
}

// sign signs m with the repository's key for role and writes it as name.
func sign[T metadata.Roles](t *testing.T, r *trusttest.Repo, m *metadata.Metadata[T], role, name string) {
	t.Helper()
	if _, err := m.Sign(trusttest.Signer(t, r.Key(role))); err != nil {
		t.Fatal(err)
	}
	b, err := m.ToBytes(true)
	if err != nil {
		t.Fatal(err)
	}
	r.WriteFile(name, b)
}

// GHSA-66x3-6cw3-v5gj (go-tuf 0.3.0): rollback of timestamp, snapshot or
// targets to versions older than trusted ones. A replayed timestamp v1,
// and a fresh timestamp v3 naming snapshot v1, are both refused; the cache
// keeps version 2.
func TestAdvisory_GHSA_66x3_6cw3_v5gj_Rollback(t *testing.T) {
	a := newAttacked(t)
	a.repo.WriteFile("timestamp.json", a.v1["timestamp.json"])
	a.refused(t, 50, allMetadata, "timestamp")

	ts := metadata.Timestamp(a.base.Add(365 * 24 * time.Hour))
	ts.Signed.Version = 3
	ts.Signed.Meta["snapshot.json"] = metadata.MetaFile(1)
	sign(t, a.repo, ts, metadata.TIMESTAMP, "timestamp.json")
	a.refused(t, 75, allMetadata, "snapshot")
}

// Freeze: a mirror that keeps serving metadata past its expiry. The
// expired timestamp is refused, no refresh is recorded (the next run
// tries again), and the last verified trusted root is used with a warning.
func TestTUFFreezeAttack(t *testing.T) {
	a := newAttacked(t)
	ts := metadata.Timestamp(a.base.Add(26 * time.Hour))
	ts.Signed.Version = 3
	ts.Signed.Meta["snapshot.json"] = metadata.MetaFile(2)
	sign(t, a.repo, ts, metadata.TIMESTAMP, "timestamp.json")
	last := (&client{opts: &Options{}, src: &source{cacheDir: a.cache, mirror: a.srv.URL}}).lastRefresh()
	a.refused(t, 50, allMetadata, "expired")
	if now := (&client{opts: &Options{}, src: &source{cacheDir: a.cache, mirror: a.srv.URL}}).lastRefresh(); !now.Equal(last) {
		t.Errorf("a frozen repository was recorded as a refresh at %v", now)
	}
}

// Mix-and-match: files of different versions, each validly signed, served
// together: targets v1 where snapshot v2 wants v2, and a trusted root
// target whose bytes are another version's. Both are refused.
func TestTUFMixAndMatch(t *testing.T) {
	a := newAttacked(t)
	a.repo.Publish(map[string][]byte{TrustedRootTarget: trusttest.TrustedRootJSON(t, "gamma")})
	a.repo.WriteFile("3.targets.json", a.v1["1.targets.json"])
	a.refused(t, 50, []string{"root.json", "targets.json"}, "targets")

	a.repo.Publish(map[string][]byte{TrustedRootTarget: trusttest.TrustedRootJSON(t, "delta")})
	tm, err := metadata.Targets().FromBytes(a.repo.ReadFile("4.targets.json"))
	if err != nil {
		t.Fatal(err)
	}
	ti := tm.Signed.Targets[TrustedRootTarget]
	for alg, h := range ti.Hashes {
		a.repo.WriteFile(filepath.Join("targets", h.String()+"."+TrustedRootTarget), trusttest.TrustedRootJSON(t, "epsilon"))
		_ = alg
	}
	a.refused(t, 75, []string{"root.json"}, TrustedRootTarget)
}

// Huge metadata: a mirror answering timestamp.json with endless bytes.
// The read stops at go-tuf's bound, the refresh fails within seconds, and
// little memory is spent.
func TestTUFHugeMetadata(t *testing.T) {
	a := newAttacked(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/timestamp.json" {
			chunk := bytes.Repeat([]byte(" "), 64<<10)
			for i := 0; i < 16<<10; i++ { // 1 GiB unless the client hangs up
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
			return
		}
		http.FileServer(http.Dir(a.repo.Dir)).ServeHTTP(w, r)
	}))
	defer srv.Close()
	// Same cache, the hostile server in front of the same repository.
	a.srv.Config.Handler = srv.Config.Handler
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	a.refused(t, 50, allMetadata, "more than 16384 bytes")
	runtime.ReadMemStats(&after)
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %v", d)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
		t.Errorf("an endless timestamp.json cost %d MB", alloc>>20)
	}
}

// GHSA-3633-5h82-39pq (go-tuf 0.3.2): one key listed under two key IDs
// counted twice toward a threshold. Root v2 wants 2 root signatures and
// lists the root key twice, signed once under each ID: refused.
func TestAdvisory_GHSA_3633_5h82_39pq_DuplicateKeyIDs(t *testing.T) {
	a := newAttacked(t)
	rm := a.repo.CurrentRoot()
	rm.Signed.Version++
	role := rm.Signed.Roles[metadata.ROOT]
	key := rm.Signed.Keys[role.KeyIDs[0]]
	dupID := strings.Repeat("ab", 32)
	rm.Signed.Keys[dupID] = key
	role.KeyIDs = append(role.KeyIDs, dupID)
	role.Threshold = 2
	rm.ClearSignatures()
	sig, err := rm.Sign(trusttest.Signer(t, a.repo.Key(metadata.ROOT)))
	if err != nil {
		t.Fatal(err)
	}
	rm.Signatures = append(rm.Signatures, metadata.Signature{KeyID: dupID, Signature: sig.Signature})
	b, _ := rm.ToBytes(true)
	a.repo.WriteFile("2.root.json", b)
	a.refused(t, 50, allMetadata, "root")
	if v := rootVersion(a.snapshotCache(t)["root.json"]); v != 1 {
		t.Errorf("cached root is version %d", v)
	}
}

// GHSA-fphv-w9fq-2525 (go-tuf 2.3.1): a threshold of 0 or below disabled
// signature checks. Root v2, validly signed by the root key, gives the
// targets role (then the root role) a threshold of 0, then −1: refused.
func TestAdvisory_GHSA_fphv_w9fq_2525_ThresholdZero(t *testing.T) {
	for _, role := range []string{metadata.TARGETS, metadata.ROOT} {
		for _, th := range []int{0, -1} {
			t.Run(role+" "+strconv.Itoa(th), func(t *testing.T) {
				a := newAttacked(t)
				rm := a.repo.CurrentRoot()
				rm.Signed.Version++
				rm.Signed.Roles[role].Threshold = th
				rm.ClearSignatures()
				sign(t, a.repo, rm, metadata.ROOT, "2.root.json")
				// A root that leaves the targets role unusable may be stored
				// (it is validly signed); the targets are refused.
				keep := allMetadata
				if role == metadata.TARGETS {
					keep = []string{"targets.json"}
				}
				a.refused(t, 50, keep, "threshold")
			})
		}
	}
}

// GHSA-846p-jg2w-w324 (go-tuf 2.3.1): valid JSON but malformed metadata
// panicked before any signature check. As timestamp.json and as the next
// root: an error and the cached root, no panic.
func TestAdvisory_GHSA_846p_jg2w_w324_MalformedMetadata(t *testing.T) {
	for _, body := range []string{`{"signed":"x","signatures":[]}`, `{"signed":{"_type":5}}`, `{"signed":{"_type":"timestamp","meta":null},"signatures":null}`, `[]`, `null`} {
		for _, file := range []string{"timestamp.json", "2.root.json"} {
			t.Run(file+" "+body, func(t *testing.T) {
				a := newAttacked(t)
				a.repo.WriteFile(file, []byte(body))
				a.refused(t, 50, allMetadata)
			})
		}
	}
}

// GHSA-fcv2-xgw5-pqxf (sigstore/sigstore 1.10.4): target names from signed
// metadata were joined to the cache directory. signet fetches only the
// targets it names, and stores each under an escaped name: a repository
// listing ../../escape.txt, /abs/x and ..\x beside trusted_root.json
// writes nothing outside the cache.
func TestAdvisory_GHSA_fcv2_xgw5_pqxf_TargetNameTraversal(t *testing.T) {
	base := t.TempDir()
	f := newFixture(t, time.Now().Add(24*time.Hour))
	f.cache = filepath.Join(base, "a", "b", "cache")
	hostile := []string{"../../escape.txt", "/abs/x", `..\x`, "../" + TrustedRootTarget}
	targets := map[string][]byte{TrustedRootTarget: trusttest.TrustedRootJSON(t, "alpha"), SigningConfigTarget: []byte(`{"mediaType":"application/vnd.dev.sigstore.signingconfig.v0.2+json"}`)}
	for _, n := range hostile {
		targets[n] = []byte("escaped")
	}
	f.repo.Publish(targets)
	f.initialize(t)
	if _, err := Load(context.Background(), f.opts(http.DefaultTransport, time.Now().Add(25*time.Hour))); err != nil {
		t.Fatal(err)
	}
	filepath.Walk(base, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() && !strings.HasPrefix(p, f.cache+string(filepath.Separator)) {
			t.Errorf("written outside the cache: %s", p)
		}
		return nil
	})
	for _, n := range hostile {
		if e := escapeTarget(n); strings.ContainsAny(e, `/\`) || e == ".." {
			t.Errorf("%q is cached as %q", n, e)
		}
	}
}

// GHSA-jqc5-w2xx-5vq4 (go-tuf 2.4.1): repository names became path
// components. signet names a mirror's cache directory after its URL
// (sigstore-go's layout); a mirror whose name would be ".", ".." or hold a
// backslash is refused, and nothing is written outside $TUF_ROOT.
func TestAdvisory_GHSA_jqc5_w2xx_5vq4_MirrorNameAsPath(t *testing.T) {
	base := t.TempDir()
	cache := filepath.Join(base, "cache")
	for _, mirror := range []string{"https://..", "..", "http://.", ".", `https://a\..\..\x`} {
		t.Run(mirror, func(t *testing.T) {
			_, err := Load(context.Background(), Options{
				Getenv:    trusttest.Env(EnvTUFRoot, cache, EnvTUFMirror, mirror, EnvTUFRootJSON, writeTemp(t, []byte("{}"))),
				Transport: &trusttest.FailingTransport{},
			})
			if err == nil || !strings.Contains(err.Error(), "cache directory") {
				t.Errorf("mirror %q: %v", mirror, err)
			}
		})
	}
	entries, _ := os.ReadDir(base)
	for _, e := range entries {
		if e.Name() != "cache" {
			t.Errorf("written beside the cache: %s", e.Name())
		}
	}
	// An ordinary mirror still maps to one directory inside the cache.
	src := &source{cacheDir: cache, mirror: "https://tuf.example.com/prod/root"}
	if rel, err := filepath.Rel(cache, src.dir()); err != nil || strings.Contains(rel, "..") || strings.ContainsRune(rel, filepath.Separator) {
		t.Errorf("%s maps to %s", src.mirror, src.dir())
	}
}
