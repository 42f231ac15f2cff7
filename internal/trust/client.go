package trust

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/tuf"
	"github.com/theupdateframework/go-tuf/v2/metadata"
	"github.com/theupdateframework/go-tuf/v2/metadata/config"
	"github.com/theupdateframework/go-tuf/v2/metadata/trustedmetadata"
	"github.com/theupdateframework/go-tuf/v2/metadata/updater"

	"github.com/signetdev/signet/internal/atomicfile"
)

// client reads and refreshes one repository's cache. It drives go-tuf's
// updater directly, with sigstore-go's cache layout, rather than through
// sigstore-go's tuf.Client, because that client reads the wall clock,
// rewrites root.json even when it only reads, goes to the network whenever
// the cache does not verify, and writes targets in place (not atomically).
type client struct {
	opts *Options
	src  *source
}

// clockSkew is how far in the future a recorded refresh may lie and still
// count; beyond it the clock moved back and the cache is refreshed.
const clockSkew = 5 * time.Minute

// target is one TUF target signet reads, how to parse it, and what stands
// in for it when neither the repository nor the cache can provide it.
type target struct {
	name string // TUF target name
	what string // for messages: "trusted root", "signing config"
	// parse checks and decodes the target; a cached copy that does not
	// parse is not used.
	parse func([]byte) (any, error)
	// embedded is signet's copy for the public-good repository ("" when
	// there is none).
	embedded string
}

var (
	trustedRootTarget = target{
		name: TrustedRootTarget, what: "trusted root", embedded: embeddedTrustedRootJSON,
		parse: func(b []byte) (any, error) { return parseTrustedRoot(b) },
	}
	signingConfigTarget = target{
		name: SigningConfigTarget, what: "signing config",
		parse: func(b []byte) (any, error) { return parseSigningConfig(b) },
	}
)

// get implements Load (and SigningConfig) for a TUF source.
func (c *client) get(ctx context.Context, t target) (any, error) {
	now := c.opts.now()
	if c.opts.Offline || c.fresh(now) {
		v, err := c.readLocked(ctx, now, t)
		if err == nil || ctx.Err() != nil {
			return v, err
		}
		if c.opts.Offline {
			return nil, err // readLocked already tried the fallbacks
		}
		c.opts.debugf("TUF cache %s unusable (%v); refreshing", c.src.dir(), err)
	}
	return c.refresh(ctx, now, t)
}

// readLocked reads the target from the cache under a shared lock.
// Offline, a cache that does not verify falls back here, since there will
// be no refresh.
func (c *client) readLocked(ctx context.Context, now time.Time, t target) (any, error) {
	unlock, err := lockCache(ctx, c.src.cacheDir, false)
	if err != nil {
		return nil, fmt.Errorf("locking TUF cache %s: %w", c.src.cacheDir, err)
	}
	defer unlock()
	data, err := c.readCache(t.name, now)
	if err == nil {
		var v any
		if v, err = t.parse(data); err == nil {
			return v, nil
		}
	}
	if !c.opts.Offline {
		return nil, err
	}
	if errors.Is(err, fs.ErrNotExist) {
		return c.fallback(fmt.Sprintf("offline, and no TUF metadata of %s is cached in %s", c.src.mirror, c.src.cacheDir), t)
	}
	return c.fallback(fmt.Sprintf("offline, and the cached TUF metadata of %s does not verify (%v)", c.src.mirror, err), t)
}

// refresh updates the cache from the repository under the exclusive lock,
// falling back to what is cached when that fails.
func (c *client) refresh(ctx context.Context, now time.Time, t target) (any, error) {
	unlock, err := lockCache(ctx, c.src.cacheDir, true)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("locking TUF cache %s: %w", c.src.cacheDir, err)
		}
		// A cache we cannot lock is one we cannot write either.
		return c.fallback(fmt.Sprintf("cannot update the TUF cache %s (%v)", c.src.cacheDir, pathErr(err)), t)
	}
	defer unlock()
	// Another process may have refreshed while this one waited.
	if c.fresh(now) {
		if data, err := c.readCache(t.name, now); err == nil {
			if v, err := t.parse(data); err == nil {
				return v, nil
			}
		}
	}
	// A refresh that failed moments ago (in a run that held the lock
	// before this one) is not retried while there is something to fall
	// back to: concurrent runs against a dead or hanging mirror would
	// otherwise each wait out the timeouts in turn.
	if why, ok := c.recentFailure(now); ok {
		if v, err := c.fallback(why, t); err == nil {
			return v, nil
		}
	}
	rctx, cancel := context.WithTimeout(ctx, refreshTimeout)
	defer cancel()
	got, err := c.update(rctx, c.src.dir(), now, []string{t.name}, nil)
	if err == nil {
		os.Remove(c.failurePath())
		if err = c.writeLastRefresh(c.src.configPath(), now); err != nil {
			c.opts.debugf("recording the TUF refresh: %v", err)
		}
		v, perr := t.parse(got[t.name])
		if perr != nil {
			return nil, fmt.Errorf("TUF repository %s: target %s: %w", c.src.mirror, t.name, perr)
		}
		return v, nil
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("updating trust material from TUF repository %s: %w", c.src.mirror, ctx.Err())
	}
	why := fmt.Sprintf("updating trust material from TUF repository %s failed (%v)", c.src.mirror, err)
	if unreachable(err) {
		why = fmt.Sprintf("TUF repository %s unreachable (%v)", c.src.mirror, err)
	}
	c.recordFailure(now, why)
	return c.fallback(why, t)
}

// failureRetry is how long a failed refresh stands for every run that
// waited for it, before the repository is tried again.
const failureRetry = time.Minute

// failurePath records the last failed refresh of the mirror.
func (c *client) failurePath() string {
	return filepath.Join(c.src.cacheDir, tuf.URLToPath(c.src.mirror)+".failed.json")
}

type refreshFailure struct {
	Time time.Time `json:"time"`
	Why  string    `json:"why"`
}

// recordFailure notes a failed refresh for the runs waiting on the lock.
func (c *client) recordFailure(now time.Time, why string) {
	b, err := json.Marshal(refreshFailure{Time: now, Why: oneLine(why)})
	if err == nil {
		err = atomicfile.WriteFile(c.failurePath(), b, 0o600)
	}
	if err != nil {
		c.opts.debugf("recording the failed TUF refresh: %v", err)
	}
}

// recentFailure returns why the refresh failed, if it failed less than
// failureRetry before now.
func (c *client) recentFailure(now time.Time) (string, bool) {
	b, err := readBounded(c.failurePath(), maxRemoteSize)
	if err != nil {
		return "", false
	}
	var f refreshFailure
	if json.Unmarshal(b, &f) != nil || f.Why == "" || f.Time.After(now.Add(clockSkew)) || !now.Before(f.Time.Add(failureRetry)) {
		return "", false
	}
	return f.Why + "; not retried until " + f.Time.Add(failureRetry).UTC().Format(time.TimeOnly), true
}

// fallback returns the cached target (not verified against current
// metadata: it was verified when it was stored), else signet's embedded
// copy for the public-good repository, with one warning line starting with
// why. The caller holds a lock.
func (c *client) fallback(why string, t target) (any, error) {
	data, when, err := c.cachedTarget(t.name)
	if err == nil {
		var v any
		if v, err = t.parse(data); err == nil {
			c.opts.warnf("%s; using the cached %s from %s", why, t.what, when.UTC().Format(time.DateOnly))
			return v, nil
		}
	}
	c.opts.debugf("no usable cached %s: %v", t.name, err)
	if !c.src.production || t.embedded == "" {
		return nil, fmt.Errorf("%s, and no %s for it is cached in %s", oneLine(why), t.what, c.src.dir())
	}
	v, err := t.parse([]byte(t.embedded))
	if err != nil {
		return nil, fmt.Errorf("%s, and the embedded %s does not parse: %w", oneLine(why), t.what, err)
	}
	c.opts.warnf("%s; using the %s embedded in signet (production, taken %s)", why, t.what, EmbeddedDate)
	return v, nil
}

// fresh reports whether the cache was refreshed less than CacheValidity ago.
func (c *client) fresh(now time.Time) bool {
	last := c.lastRefresh()
	return !last.IsZero() && !last.After(now.Add(clockSkew)) && now.Before(last.Add(CacheValidity))
}

// lastRefresh reads sigstore-go's record of the last refresh (zero if none).
func (c *client) lastRefresh() time.Time {
	b, err := readBounded(c.src.configPath(), maxRemoteSize)
	if err != nil {
		return time.Time{}
	}
	var cfg tuf.Config
	if json.Unmarshal(b, &cfg) != nil {
		return time.Time{}
	}
	return cfg.LastTimestamp
}

// writeLastRefresh records a refresh at now, in sigstore-go's format,
// atomically (sigstore-go writes it in place).
func (c *client) writeLastRefresh(path string, now time.Time) error {
	b, err := json.Marshal(tuf.Config{LastTimestamp: now})
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, b, 0o600)
}

// updaterConfig configures go-tuf for the repository cached in dir.
func (c *client) updaterConfig(dir string, rootJSON []byte) (*config.UpdaterConfig, error) {
	cfg, err := config.New(c.src.mirror, rootJSON)
	if err != nil {
		return nil, err
	}
	cfg.LocalMetadataDir = dir
	cfg.LocalTargetsDir = filepath.Join(dir, "targets")
	cfg.PrefixTargetsWithHash = true
	return cfg, nil
}

// readCache returns target name from the cache after verifying the cached
// metadata (signatures from the root, expiry at now, the target's length and
// hashes). It writes nothing and fetches nothing. The caller holds a lock.
func (c *client) readCache(name string, now time.Time) ([]byte, error) {
	cfg, err := c.updaterConfig(c.src.dir(), c.src.root)
	if err != nil {
		return nil, err
	}
	cfg.UnsafeLocalMode = true
	cfg.DisableLocalCache = true // persist nothing, not even root.json
	cfg.Fetcher = offlineFetcher{}
	up, err := updater.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("loading TUF root: %w", err)
	}
	up.UnsafeSetRefTime(now)
	if err := up.Refresh(); err != nil {
		return nil, fmt.Errorf("loading cached TUF metadata: %w", err)
	}
	ti, err := up.GetTargetInfo(name)
	if err != nil {
		return nil, err
	}
	data, err := readBounded(c.src.targetPath(name), ti.Length)
	if err != nil {
		return nil, fmt.Errorf("reading cached target %s: %w", name, pathErr(err))
	}
	if err := ti.VerifyLengthHashes(data); err != nil {
		return nil, fmt.Errorf("cached target %s: %w", name, err)
	}
	return data, nil
}

// update refreshes the metadata cached in dir from the repository and
// returns the targets named in required and those of optional the
// repository has. Metadata are replaced atomically by go-tuf; targets are
// downloaded only when the cached copy is out of date, then renamed into
// place. The caller holds the exclusive lock.
func (c *client) update(ctx context.Context, dir string, now time.Time, required, optional []string) (map[string][]byte, error) {
	cfg, err := c.updaterConfig(dir, c.src.root)
	if err != nil {
		return nil, err
	}
	cfg.Fetcher = newFetcher(ctx, c.opts.transport())
	up, err := updater.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("loading TUF root: %w", err)
	}
	up.UnsafeSetRefTime(now)
	if err := up.Refresh(); err != nil {
		return nil, err
	}
	got := map[string][]byte{}
	get := func(name string) error {
		ti, err := up.GetTargetInfo(name)
		if err != nil {
			return err
		}
		data, err := c.fetchTarget(up, ti, filepath.Join(dir, "targets", escapeTarget(name)))
		if err != nil {
			return fmt.Errorf("target %s: %w", name, err)
		}
		got[name] = data
		return nil
	}
	for _, name := range required {
		if err := get(name); err != nil {
			return nil, err
		}
	}
	for _, name := range optional {
		if _, ok := up.GetTopLevelTargets()[name]; !ok {
			continue // sigstore's repositories list their targets at the top level
		}
		if err := get(name); err != nil {
			return nil, err
		}
	}
	return got, nil
}

// fetchTarget returns the target at path if it is current, else downloads
// it to a temporary file renamed over path.
func (c *client) fetchTarget(up *updater.Updater, ti *metadata.TargetFiles, path string) ([]byte, error) {
	if data, err := readBounded(path, ti.Length); err == nil && ti.VerifyLengthHashes(data) == nil {
		return data, nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, err
	}
	tmp.Close()
	defer os.Remove(tmp.Name()) // a no-op once renamed
	_, data, err := up.DownloadTarget(ti, tmp.Name(), "")
	if err != nil {
		return nil, err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return nil, err
	}
	return data, nil
}

// cachedTarget returns the cached copy of target name without verifying
// the metadata around it, and when it was last known current. If the cached
// targets.json lists it, its length and hashes must match (which rules out a
// torn or foreign file).
func (c *client) cachedTarget(name string) ([]byte, time.Time, error) {
	p := c.src.targetPath(name)
	data, err := readBounded(p, maxTargetSize)
	if err != nil {
		return nil, time.Time{}, pathErr(err)
	}
	if tb, err := readBounded(filepath.Join(c.src.dir(), "targets.json"), maxTargetSize); err == nil {
		if targets, err := metadata.Targets().FromBytes(tb); err == nil {
			if ti, ok := targets.Signed.Targets[name]; ok {
				if err := ti.VerifyLengthHashes(data); err != nil {
					return nil, time.Time{}, fmt.Errorf("cached %s does not match the cached targets.json: %w", name, err)
				}
			}
		}
	}
	when := c.lastRefresh()
	if when.IsZero() {
		if fi, err := os.Stat(p); err == nil {
			when = fi.ModTime()
		}
	}
	return data, when, nil
}

// maxTargetSize bounds what is read of a cached file whose expected length
// is not known (go-tuf's own bound for targets metadata).
const maxTargetSize = 5 << 20

func parseSigningConfig(data []byte) (*root.SigningConfig, error) {
	sc, err := root.NewSigningConfigFromJSON(data)
	if err != nil {
		return nil, fmt.Errorf("parsing %s: %w", SigningConfigTarget, err)
	}
	return sc, nil
}

func parseTrustedRoot(data []byte) (*root.TrustedRoot, error) {
	tr, err := root.NewTrustedRootFromJSON(data)
	if err != nil {
		return nil, fmt.Errorf("parsing %s: %w", TrustedRootTarget, err)
	}
	return tr, nil
}

// escapeTarget is how go-tuf names a cached target file.
func escapeTarget(name string) string { return url.PathEscape(name) }

// newerRoot returns whichever of two TUF root.json documents has the higher
// version (a on a tie); one that does not parse loses.
func newerRoot(a, b []byte) []byte {
	va, vb := rootVersion(a), rootVersion(b)
	switch {
	case va == 0 && vb == 0:
		return nil
	case vb > va:
		return b
	default:
		return a
	}
}

// rootVersion returns the version of a TUF root.json that is signed by its
// own keys, else 0.
func rootVersion(b []byte) int64 {
	if len(b) == 0 {
		return 0
	}
	tm, err := trustedmetadata.New(b)
	if err != nil || tm.Root.Signed.Version < 1 {
		return 0
	}
	return tm.Root.Signed.Version
}
