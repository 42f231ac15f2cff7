package trust

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/sigstore/sigstore-go/pkg/tuf"
)

// Initialized describes the cache Initialize wrote.
type Initialized struct {
	CacheDir      string // $TUF_ROOT or ~/.sigstore/root
	Mirror        string
	RootVersion   int64 // of the TUF root.json now cached
	SigningConfig bool  // the repository has signing_config.v0.2.json
}

// Initialize is `signet initialize`, as cosign's: it replaces the cache of
// mirror ("" for the public-good repository) with a fresh update from it,
// starting from rootJSON (nil: the embedded root of the public-good or
// staging repository, else TUF_ROOT_JSON, else the root already cached),
// fetching trusted_root.json and, when the repository has one,
// signing_config.v0.2.json; then records mirror in remote.json.
//
// The update is made in a scratch directory beside the cache and moved into
// place only when it succeeded, under the cache lock: a failed initialize
// leaves the previous cache as it was.
func Initialize(ctx context.Context, opts Options, mirror string, rootJSON []byte) (*Initialized, error) {
	cacheDir, err := CacheDir(opts)
	if err != nil {
		return nil, err
	}
	if mirror == "" {
		mirror = DefaultMirror
	}
	if err := checkMirrorURL(mirror); err != nil {
		return nil, err
	}
	src := &source{cacheDir: cacheDir, mirror: mirror, production: isMirror(mirror, DefaultMirror)}
	if rootJSON == nil {
		base, err := defaultRoot(&opts, mirror)
		if err != nil {
			return nil, err
		}
		cached, _ := os.ReadFile(filepath.Join(src.dir(), "root.json"))
		if rootJSON = newerRoot(base, cached); rootJSON == nil {
			return nil, fmt.Errorf("no initial TUF root for mirror %s: give one with --root (or %s)", mirror, EnvTUFRootJSON)
		}
	} else if rootVersion(rootJSON) == 0 {
		return nil, errors.New("the initial root is not a TUF root.json signed by its own keys")
	}
	src.root = rootJSON
	c := &client{opts: &opts, src: src}

	unlock, err := lockCache(ctx, cacheDir, true)
	if err != nil {
		return nil, fmt.Errorf("locking TUF cache %s: %w", cacheDir, pathErr(err))
	}
	defer unlock()
	scratch, err := os.MkdirTemp(cacheDir, ".initialize-*")
	if err != nil {
		return nil, fmt.Errorf("creating a scratch directory in %s: %w", cacheDir, pathErr(err))
	}
	defer os.RemoveAll(scratch)

	base := tuf.URLToPath(mirror)
	newDir := filepath.Join(scratch, base)
	newConfig := filepath.Join(scratch, base+".json")
	now := opts.now()
	got, err := c.update(ctx, newDir, now, []string{TrustedRootTarget}, []string{SigningConfigTarget})
	if err != nil {
		return nil, fmt.Errorf("initializing from TUF repository %s: %w", mirror, err)
	}
	if _, err := parseTrustedRoot(got[TrustedRootTarget]); err != nil {
		return nil, fmt.Errorf("TUF repository %s: %w", mirror, err)
	}
	if err := c.writeLastRefresh(newConfig, now); err != nil {
		return nil, err
	}
	newRoot, _ := os.ReadFile(filepath.Join(newDir, "root.json"))

	// Swap the new cache in: old directory aside, new one in, then the
	// refresh record (a rename each; the lock keeps signet readers out).
	old := filepath.Join(scratch, "previous")
	if err := os.Rename(src.dir(), old); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("replacing %s: %w", src.dir(), pathErr(err))
	}
	if err := os.Rename(newDir, src.dir()); err != nil {
		_ = os.Rename(old, src.dir()) // best effort: put the old cache back
		return nil, fmt.Errorf("replacing %s: %w", src.dir(), pathErr(err))
	}
	if err := os.Rename(newConfig, src.configPath()); err != nil {
		return nil, fmt.Errorf("writing %s: %w", src.configPath(), pathErr(err))
	}
	if err := writeRemote(cacheDir, mirror); err != nil {
		return nil, err
	}
	_, hasSC := got[SigningConfigTarget]
	return &Initialized{CacheDir: cacheDir, Mirror: mirror, RootVersion: rootVersion(newRoot), SigningConfig: hasSC}, nil
}
