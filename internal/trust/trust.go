// Package trust finds the Sigstore trust material a verification uses.
//
// In order:
//
//  1. a trusted_root.json named with --trusted-root, used as given, with no
//     network and no cache;
//  2. the trusted_root.json target of a TUF repository (the public-good one
//     unless TUF_MIRROR or `signet initialize --mirror` says otherwise),
//     kept in a cache laid out as cosign and sigstore-go lay it out
//     ($TUF_ROOT or ~/.sigstore/root) and refreshed at most once a day;
//  3. when a refresh is due but the repository cannot be reached (or the
//     caller is offline), the last cached trusted_root.json, and failing that
//     a copy of the public-good trusted root embedded in signet, each with
//     one warning line. A failed refresh stands for a minute: runs that
//     waited for it on the cache lock fall back at once instead of each
//     waiting out a dead mirror's timeouts in turn.
//
// Material adds cosign's SIGSTORE_* custom-instance overrides on top.
package trust

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/tuf"
)

// The TUF repositories signet knows.
const (
	// DefaultMirror is the public-good TUF repository.
	DefaultMirror = tuf.DefaultMirror
	// StagingMirror is the staging TUF repository (`initialize --staging`).
	StagingMirror = tuf.StagingMirror
)

// The TUF targets signet reads.
const (
	TrustedRootTarget   = "trusted_root.json"
	SigningConfigTarget = "signing_config.v0.2.json"
)

// CacheValidity is how long after its last refresh the TUF cache is used
// without a single request.
const CacheValidity = 24 * time.Hour

// Environment variables, with cosign's names and meanings.
const (
	EnvTUFRoot            = "TUF_ROOT"      // cache directory
	EnvTUFMirror          = "TUF_MIRROR"    // TUF repository URL
	EnvTUFRootJSON        = "TUF_ROOT_JSON" // initial root.json (file) of a custom mirror
	EnvRootFile           = "SIGSTORE_ROOT_FILE"
	EnvRekorPublicKey     = "SIGSTORE_REKOR_PUBLIC_KEY"
	EnvCTLogPublicKeyFile = "SIGSTORE_CT_LOG_PUBLIC_KEY_FILE"
	EnvTSACertificateFile = "SIGSTORE_TSA_CERTIFICATE_FILE"
)

// Options say where trust material comes from. The zero value reads no
// environment, has no cache directory and uses the real network and clock.
type Options struct {
	// TrustedRootPath is --trusted-root: used as given, never any network.
	TrustedRootPath string
	// Offline: never touch the network; use the cache, else the embedded
	// root (with a warning).
	Offline bool
	// Getenv reads TUF_ROOT, TUF_MIRROR, TUF_ROOT_JSON and SIGSTORE_*
	// (nil: no environment).
	Getenv func(string) string
	// HomeDir is the user's home, for the default cache ~/.sigstore/root.
	HomeDir string
	// Transport carries every TUF request (nil: http.DefaultTransport).
	// file:// mirrors are read from disk and never reach it.
	Transport http.RoundTripper
	// Warn receives the one-line warnings (nil: discarded).
	Warn io.Writer
	// Now is the clock (nil: time.Now).
	Now func() time.Time
	// Debugf, if set, receives debug notes (never anything secret).
	Debugf func(format string, args ...any)
}

func (o *Options) getenv(k string) string {
	if o.Getenv == nil {
		return ""
	}
	return o.Getenv(k)
}

func (o *Options) now() time.Time {
	if o.Now == nil {
		return time.Now()
	}
	return o.Now()
}

func (o *Options) transport() http.RoundTripper {
	if o.Transport == nil {
		return http.DefaultTransport
	}
	return o.Transport
}

// warnf writes one warning line; whatever the message holds stays on it.
func (o *Options) warnf(format string, args ...any) {
	if o.Warn == nil {
		return
	}
	fmt.Fprintf(o.Warn, "WARNING: %s\n", oneLine(fmt.Sprintf(format, args...)))
}

func (o *Options) debugf(format string, args ...any) {
	if o.Debugf != nil {
		o.Debugf(format, args...)
	}
}

// Load returns the trusted root to verify with, following the rules in the
// package comment.
func Load(ctx context.Context, opts Options) (*root.TrustedRoot, error) {
	if opts.TrustedRootPath != "" {
		return LoadFile(opts.TrustedRootPath)
	}
	src, err := resolveSource(&opts)
	if err != nil {
		return nil, err
	}
	c := &client{opts: &opts, src: src}
	v, err := c.get(ctx, trustedRootTarget)
	if err != nil {
		return nil, err
	}
	return v.(*root.TrustedRoot), nil
}

// SigningConfig returns the signing config (which Fulcio, Rekor, TSA and
// OIDC issuer to use) of the TUF repository, with the cache, freshness
// and fallback rules of Load. There is no embedded copy: with neither the
// repository nor a cached copy, it fails, and the caller should ask for
// --signing-config or explicit service URLs.
func SigningConfig(ctx context.Context, opts Options) (*root.SigningConfig, error) {
	src, err := resolveSource(&opts)
	if err != nil {
		return nil, err
	}
	c := &client{opts: &opts, src: src}
	v, err := c.get(ctx, signingConfigTarget)
	if err != nil {
		return nil, err
	}
	return v.(*root.SigningConfig), nil
}

// LoadFile reads a trusted_root.json file.
func LoadFile(path string) (*root.TrustedRoot, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("loading trusted root %q: %w", path, pathErr(err))
	}
	tr, err := root.NewTrustedRootFromJSON(data)
	if err != nil {
		return nil, fmt.Errorf("loading trusted root %q: parsing: %w", path, err)
	}
	return tr, nil
}

// CacheDir is the TUF cache directory: $TUF_ROOT, else ~/.sigstore/root.
func CacheDir(opts Options) (string, error) {
	if d := opts.getenv(EnvTUFRoot); d != "" {
		return d, nil
	}
	if opts.HomeDir == "" {
		return "", fmt.Errorf("no TUF cache directory: set %s (the home directory is unknown)", EnvTUFRoot)
	}
	return filepath.Join(opts.HomeDir, ".sigstore", "root"), nil
}

// source is one TUF repository and its place in the cache.
type source struct {
	cacheDir string
	mirror   string
	// root is the TUF root.json the client starts from.
	root []byte
	// production: the public-good repository, for which the embedded
	// trusted root may stand in.
	production bool
}

// dir holds the repository's metadata (and targets/), as sigstore-go names it.
func (s *source) dir() string { return filepath.Join(s.cacheDir, tuf.URLToPath(s.mirror)) }

// configPath is sigstore-go's record of the last refresh.
func (s *source) configPath() string {
	return filepath.Join(s.cacheDir, tuf.URLToPath(s.mirror)+".json")
}

func (s *source) targetPath(name string) string {
	return filepath.Join(s.dir(), "targets", escapeTarget(name))
}

// resolveSource finds the cache, the mirror and the root to start from, as
// cosign does (pkg/cosign/tuf.go setTUFOpts), except that a cached root.json
// newer than the embedded (or TUF_ROOT_JSON) one is preferred.
func resolveSource(opts *Options) (*source, error) {
	cacheDir, err := CacheDir(*opts)
	if err != nil {
		return nil, err
	}
	mirror := opts.getenv(EnvTUFMirror)
	if mirror == "" {
		if mirror, err = readRemote(cacheDir); err != nil {
			return nil, err
		}
	}
	if mirror == "" {
		mirror = DefaultMirror
	}
	if name := tuf.URLToPath(mirror); name == "" || name == "." || name == ".." || strings.ContainsAny(name, "\\\x00") {
		// The cache directory is named after the mirror (sigstore-go's
		// layout): a name that is a path of its own would leave the cache
		// (GHSA-jqc5-w2xx-5vq4).
		return nil, fmt.Errorf("TUF mirror %q cannot name a cache directory in %s", mirror, cacheDir)
	}
	src := &source{cacheDir: cacheDir, mirror: mirror, production: isMirror(mirror, DefaultMirror)}
	base, err := defaultRoot(opts, mirror)
	if err != nil {
		return nil, err
	}
	cached, _ := os.ReadFile(filepath.Join(src.dir(), "root.json"))
	src.root = newerRoot(base, cached)
	if src.root == nil {
		return nil, fmt.Errorf("no TUF root for mirror %s: run `signet initialize --mirror %s --root ROOT.json`, or set %s", mirror, mirror, EnvTUFRootJSON)
	}
	return src, nil
}

// defaultRoot is the root.json to start from for mirror when the cache has
// none: the embedded one for the public-good and staging repositories,
// else TUF_ROOT_JSON (nil when unset).
func defaultRoot(opts *Options, mirror string) ([]byte, error) {
	switch {
	case isMirror(mirror, DefaultMirror):
		return EmbeddedTUFRoot(), nil
	case isMirror(mirror, StagingMirror):
		return tuf.StagingRoot(), nil
	}
	p := opts.getenv(EnvTUFRootJSON)
	if p == "" {
		return nil, nil
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("reading %s %q: %w", EnvTUFRootJSON, p, pathErr(err))
	}
	return b, nil
}

func isMirror(a, b string) bool {
	return strings.TrimRight(a, "/") == strings.TrimRight(b, "/")
}

// oneLine folds a message onto a single line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// pathErr drops the path an *fs.PathError repeats, since our messages
// already name the file.
func pathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
