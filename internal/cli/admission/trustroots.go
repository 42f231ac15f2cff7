package admission

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/signetdev/signet/internal/atomicfile"
	"github.com/signetdev/signet/internal/trust"
	"github.com/signetdev/signet/pkg/admission"
)

// trustObject is a TrustRoot in use: compiled (or why it could not be),
// and for a remote one the material last loaded from its TUF mirror.
type trustObject struct {
	c   *admission.CompiledTrustRoot
	err error // the TrustRoot was refused: a reference to it denies, saying why

	mu     sync.Mutex
	tm     root.TrustedMaterial
	loaded time.Time
}

// addFileTrustRoot compiles a TrustRoot of a --policy-file: refused
// ones stop serve, as refused policies do.
func (t *trustSource) addFileTrustRoot(tr *admission.TrustRoot) error {
	c, err := admission.CompileTrustRoot(tr)
	if err != nil {
		return err
	}
	if _, dup := t.named[c.Name]; dup {
		return fmt.Errorf("TrustRoot %s: also given as --trust-root %s", c.Name, c.Name)
	}
	t.objMu.Lock()
	defer t.objMu.Unlock()
	if _, dup := t.files[c.Name]; dup {
		return fmt.Errorf("TrustRoot %s: given twice", c.Name)
	}
	t.files[c.Name] = &trustObject{c: c}
	t.objGen++
	return nil
}

// object finds a TrustRoot by name: --policy-file ones first, then the
// API server's.
func (t *trustSource) object(name string) *trustObject {
	t.objMu.Lock()
	defer t.objMu.Unlock()
	if o, ok := t.files[name]; ok {
		return o
	}
	return t.api[name]
}

// objectMaterial is a TrustRoot's material; a remote one is loaded from
// its mirror, and reloaded every --trust-refresh, into a cache of its own.
func (t *trustSource) objectMaterial(ctx context.Context, o *trustObject) (root.TrustedMaterial, error) {
	if o.err != nil {
		return nil, o.err
	}
	if o.c.Material != nil {
		return o.c.Material, nil
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.tm != nil && t.f.Now().Sub(o.loaded) < t.refresh {
		return o.tm, nil
	}
	tm, err := t.loadRemote(ctx, o.c)
	if err != nil {
		if o.tm != nil {
			t.f.Warnf("refreshing TrustRoot %s from %s failed, keeping the loaded one: %v", o.c.Name, o.c.Mirror, err)
			o.loaded = t.f.Now()
			return o.tm, nil
		}
		return nil, fmt.Errorf("TrustRoot %s: %w", o.c.Name, err)
	}
	o.tm, o.loaded = tm, t.f.Now()
	return tm, nil
}

// loadRemote follows a TrustRoot's TUF repository with the same client
// as signet verify: its own cache directory under the TUF cache, named
// by the TrustRoot and its spec, starting from the root it gives.
func (t *trustSource) loadRemote(ctx context.Context, c *admission.CompiledTrustRoot) (root.TrustedMaterial, error) {
	opts := t.f.TrustOptions()
	base, err := trust.CacheDir(opts)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte(c.Name + "\x00" + c.Version))
	dir := filepath.Join(base, "trustroots", hex.EncodeToString(sum[:12]))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("TUF cache: %w", err)
	}
	rootFile := filepath.Join(dir, "initial-root.json")
	if err := atomicfile.WriteFile(rootFile, c.TUFRoot, 0o600); err != nil {
		return nil, fmt.Errorf("TUF cache: %w", err)
	}
	env := map[string]string{trust.EnvTUFRoot: dir, trust.EnvTUFMirror: c.Mirror, trust.EnvTUFRootJSON: rootFile}
	opts.Getenv = func(k string) string { return env[k] }
	opts.TrustedRootPath, opts.Offline = "", false
	return trust.Load(ctx, opts)
}

// readiness is nil once the API server's TrustRoots are listed (or
// there is no API server, or no TrustRoot resource in it).
func (t *trustSource) readiness() error {
	if !t.listed.Load() {
		return errors.New("the TrustRoots have not been listed yet")
	}
	return nil
}

// runTrustRoots lists and watches the API server's TrustRoots until ctx
// is done.
func (t *trustSource) runTrustRoots(ctx context.Context, kc *kube, logf func(string, ...any)) {
	follow(ctx, func(ctx context.Context) error { return t.syncTrustRoots(ctx, kc, logf) }, func(err error, backoff time.Duration) {
		logf("TrustRoot watch: %v (retrying in %s)", err, backoff)
	})
}

// noCRDRetry is how often the TrustRoot resource is looked for again when
// the API server has none (the CRD is installed later).
const noCRDRetry = time.Minute

func (t *trustSource) syncTrustRoots(ctx context.Context, kc *kube, logf func(string, ...any)) error {
	items, rv, err := kc.list(ctx, trustRootsPath, false)
	var ae *apiError
	// 404: no CRD. 403: an install whose RBAC predates TrustRoots (the
	// API server checks permission before it looks the resource up).
	// Either way there are none to wait for; waiting would keep the
	// webhook not ready and deny every review.
	if errors.As(err, &ae) && (ae.code == http.StatusNotFound || ae.code == http.StatusForbidden) {
		if !t.listed.Swap(true) {
			logf("the API server has no TrustRoot resource for signet (HTTP %d: its CRD is not installed, or the ClusterRole does not allow listing trustroots): trustRootRef names only --trust-root and --policy-file TrustRoots", ae.code)
		}
		pause(ctx, noCRDRetry)
		return nil
	}
	if err != nil {
		return fmt.Errorf("listing: %w", err)
	}
	t.objMu.Lock()
	old := t.api
	t.objMu.Unlock()
	fresh := map[string]*trustObject{}
	for _, it := range items {
		name, o := t.compileAPI(it, logf)
		if name == "" {
			continue
		}
		if prev, ok := old[name]; ok && sameObject(prev, o) {
			o = prev // keeps what a remote one loaded
		}
		fresh[name] = o
	}
	t.objMu.Lock()
	if !sameObjects(old, fresh) {
		t.objGen++ // a relist after each watch timeout changes nothing
	}
	t.api = fresh
	t.objMu.Unlock()
	t.listed.Store(true)
	return kc.watchChanges(ctx, trustRootsPath, rv, false, func(typ string, obj json.RawMessage) error {
		name, o := t.compileAPI(obj, logf)
		if name == "" {
			return nil
		}
		t.objMu.Lock()
		prev, had := t.api[name]
		if typ == "DELETED" {
			delete(t.api, name)
		} else {
			t.api[name] = o
		}
		if typ == "DELETED" || !had || !sameObject(prev, o) {
			t.objGen++ // cached verdicts made with the old material expire
		}
		t.objMu.Unlock()
		return nil
	})
}

// sameObject: the same TrustRoot object at the same resourceVersion
// (a status-only or unchanged event leaves verdicts cached).
func sameObject(a, b *trustObject) bool {
	return a.c != nil && b.c != nil && a.c.UID == b.c.UID && a.c.ResourceVersion == b.c.ResourceVersion
}

func sameObjects(a, b map[string]*trustObject) bool {
	if len(a) != len(b) {
		return false
	}
	for name, o := range b {
		if p, ok := a[name]; !ok || (p != o && !sameObject(p, o)) {
			return false
		}
	}
	return true
}

// compileAPI compiles a TrustRoot from the API server; one that cannot be
// used is kept with the reason, so that the policies naming it deny.
func (t *trustSource) compileAPI(raw json.RawMessage, logf func(string, ...any)) (string, *trustObject) {
	tr, err := admission.ParseTrustRoot(raw)
	if err != nil {
		var meta struct {
			Metadata admission.ObjectMeta `json:"metadata"`
		}
		_ = json.Unmarshal(raw, &meta)
		if meta.Metadata.Name == "" {
			logf("ignoring an unreadable TrustRoot without a name: %v", err)
			return "", nil
		}
		logf("TrustRoot %s refused; the policies naming it deny: %v", meta.Metadata.Name, err)
		return meta.Metadata.Name, &trustObject{err: err}
	}
	c, err := admission.CompileTrustRoot(tr)
	if err != nil {
		logf("TrustRoot %s refused; the policies naming it deny: %v", tr.Metadata.Name, err)
		return tr.Metadata.Name, &trustObject{err: err}
	}
	return c.Name, &trustObject{c: c}
}
