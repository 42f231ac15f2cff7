package admission

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/signetdev/signet/internal/cli"
	"github.com/signetdev/signet/internal/cli/flags"
	"github.com/signetdev/signet/internal/trust"
)

// trustSource loads trust material for the engine: the default (from
// --trusted-root, else TUF, as signet verify), reloaded every refresh so
// a long-running server follows TUF; and the named roots a trustRootRef
// names: --trust-root NAME=FILE (read at start), then TrustRoot objects
// of --policy-file, then those of the API server (listed and watched).
type trustSource struct {
	f       *cli.Factory
	flags   *flags.Trust
	refresh time.Duration
	named   map[string]root.TrustedMaterial

	mu      sync.Mutex
	def     root.TrustedMaterial
	loaded  time.Time
	version int

	objMu  sync.Mutex
	files  map[string]*trustObject
	api    map[string]*trustObject
	objGen int // changes with any TrustRoot
	listed atomic.Bool
}

// parseTrustRoots reads --trust-root NAME=FILE pairs.
func parseTrustRoots(pairs []string) (map[string]root.TrustedMaterial, error) {
	out := map[string]root.TrustedMaterial{}
	for _, p := range pairs {
		name, file, ok := strings.Cut(p, "=")
		if !ok || name == "" || file == "" {
			return nil, fmt.Errorf("--trust-root %q: want NAME=trusted_root.json", p)
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("--trust-root %s: given twice", name)
		}
		tr, err := trust.LoadFile(file)
		if err != nil {
			return nil, fmt.Errorf("--trust-root %s: %w", name, err)
		}
		out[name] = tr
	}
	return out, nil
}

func (t *trustSource) material(ctx context.Context, ref string) (root.TrustedMaterial, error) {
	if ref != "" {
		if tm, ok := t.named[ref]; ok {
			return tm, nil
		}
		o := t.object(ref)
		if o == nil {
			return nil, fmt.Errorf("trust root %q: no --trust-root %s=FILE and no TrustRoot of that name", ref, ref)
		}
		return t.objectMaterial(ctx, o)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.def != nil && t.f.Now().Sub(t.loaded) < t.refresh {
		return t.def, nil
	}
	tm, err := t.flags.Material(ctx, t.f)
	if err != nil {
		if t.def != nil {
			// Keep verifying with what was loaded; say why it is stale.
			t.f.Warnf("refreshing the trust material failed, keeping the loaded one: %v", err)
			t.loaded = t.f.Now()
			return t.def, nil
		}
		return nil, fmt.Errorf("loading trust material: %w", err)
	}
	t.def, t.loaded = tm, t.f.Now()
	t.version++
	return tm, nil
}

// currentVersion names the default material loaded; it is part of the
// result cache's key, so a refreshed trust root re-verifies.
func (t *trustSource) currentVersion() string {
	t.mu.Lock()
	v := t.version
	t.mu.Unlock()
	t.objMu.Lock()
	defer t.objMu.Unlock()
	return strconv.Itoa(v) + "." + strconv.Itoa(t.objGen)
}
