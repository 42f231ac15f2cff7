// Package trusttest builds real, signed TUF repositories and fake networks
// for hermetic tests of trust material: a repository is a directory laid
// out as a TUF CDN serves it (consistent snapshots, hash-prefixed targets),
// served over httptest or read as a file:// mirror.
package trusttest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/theupdateframework/go-tuf/v2/metadata"
)

// Repo is a TUF repository on disk with one ed25519 key per top-level role.
type Repo struct {
	Dir string // what a mirror serves

	t       testing.TB
	mu      sync.Mutex
	keys    map[string]ed25519.PrivateKey
	root    *metadata.Metadata[metadata.RootType]
	version int64 // of targets, snapshot and timestamp
	expires time.Time
	// Root1 is the first root.json, the trust anchor clients start from.
	Root1 []byte
}

// NewRepo creates a repository publishing targets, with metadata that
// expire at expires.
func NewRepo(t testing.TB, expires time.Time, targets map[string][]byte) *Repo {
	t.Helper()
	r := &Repo{Dir: t.TempDir(), t: t, keys: map[string]ed25519.PrivateKey{}, expires: expires.UTC().Truncate(time.Second)}
	r.root = metadata.Root(r.expires)
	for _, role := range []string{metadata.ROOT, metadata.TARGETS, metadata.SNAPSHOT, metadata.TIMESTAMP} {
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		r.keys[role] = priv
		k, err := metadata.KeyFromPublicKey(priv.Public())
		if err != nil {
			t.Fatal(err)
		}
		if err := r.root.Signed.AddKey(k, role); err != nil {
			t.Fatal(err)
		}
	}
	r.Root1 = r.writeRoot()
	r.Publish(targets)
	return r
}

// RotateRoot publishes a new root version that replaces the timestamp key
// (the root key, which signs it, stays), then new metadata signed with it.
func (r *Repo) RotateRoot() {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		r.t.Fatal(err)
	}
	old, err := metadata.KeyFromPublicKey(r.keys[metadata.TIMESTAMP].Public())
	if err != nil {
		r.t.Fatal(err)
	}
	oldID, _ := old.ID()
	if err := r.root.Signed.RevokeKey(oldID, metadata.TIMESTAMP); err != nil {
		r.t.Fatal(err)
	}
	k, _ := metadata.KeyFromPublicKey(priv.Public())
	if err := r.root.Signed.AddKey(k, metadata.TIMESTAMP); err != nil {
		r.t.Fatal(err)
	}
	r.keys[metadata.TIMESTAMP] = priv
	r.root.Signed.Version++
	r.writeRoot()
	r.publishLocked(nil)
}

// writeRoot signs and writes <version>.root.json; the caller holds mu or
// is the constructor.
func (r *Repo) writeRoot() []byte {
	r.root.ClearSignatures()
	if _, err := r.root.Sign(signer(r.t, r.keys[metadata.ROOT])); err != nil {
		r.t.Fatal(err)
	}
	b, err := r.root.ToBytes(true)
	if err != nil {
		r.t.Fatal(err)
	}
	r.write(fmt.Sprintf("%d.root.json", r.root.Signed.Version), b)
	return b
}

// Publish makes a new version of targets, snapshot and timestamp listing
// targets (nil keeps the current targets). Files are written in the order a
// real repository publishes them, each atomically: targets, then metadata
// bottom-up, so that a client never sees a timestamp before what it names.
func (r *Repo) Publish(targets map[string][]byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.publishLocked(targets)
}

func (r *Repo) publishLocked(targets map[string][]byte) {
	r.version++
	tm := metadata.Targets(r.expires)
	tm.Signed.Version = r.version
	if targets == nil {
		prev, err := metadata.Targets().FromFile(filepath.Join(r.Dir, fmt.Sprintf("%d.targets.json", r.version-1)))
		if err != nil {
			r.t.Fatal(err)
		}
		tm.Signed.Targets = prev.Signed.Targets
	}
	names := make([]string, 0, len(targets))
	for n := range targets {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		data := targets[name]
		tf, err := metadata.TargetFile().FromBytes(name, data, "sha256")
		if err != nil {
			r.t.Fatal(err)
		}
		tm.Signed.Targets[name] = tf
		r.write(filepath.Join("targets", hex.EncodeToString(tf.Hashes["sha256"])+"."+name), data)
	}
	r.signWrite(tm, metadata.TARGETS, fmt.Sprintf("%d.targets.json", r.version))

	sn := metadata.Snapshot(r.expires)
	sn.Signed.Version = r.version
	sn.Signed.Meta["targets.json"] = metadata.MetaFile(r.version)
	r.signWrite(sn, metadata.SNAPSHOT, fmt.Sprintf("%d.snapshot.json", r.version))

	ts := metadata.Timestamp(r.expires)
	ts.Signed.Version = r.version
	ts.Signed.Meta["snapshot.json"] = metadata.MetaFile(r.version)
	r.signWrite(ts, metadata.TIMESTAMP, "timestamp.json")
}

type signable interface {
	Sign(signature.Signer) (*metadata.Signature, error)
	ToBytes(bool) ([]byte, error)
}

func (r *Repo) signWrite(m signable, role, name string) {
	if _, err := m.Sign(signer(r.t, r.keys[role])); err != nil {
		r.t.Fatal(err)
	}
	b, err := m.ToBytes(true)
	if err != nil {
		r.t.Fatal(err)
	}
	r.write(name, b)
}

// write replaces Dir/name atomically.
func (r *Repo) write(name string, data []byte) {
	p := filepath.Join(r.Dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		r.t.Fatal(err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		r.t.Fatal(err)
	}
	if _, err := tmp.Write(data); err != nil {
		r.t.Fatal(err)
	}
	tmp.Close()
	if err := os.Rename(tmp.Name(), p); err != nil {
		r.t.Fatal(err)
	}
}

// Serve serves the repository over HTTP until the test ends.
func (r *Repo) Serve() *httptest.Server {
	srv := httptest.NewServer(http.FileServer(http.Dir(r.Dir)))
	r.t.Cleanup(srv.Close)
	return srv
}

// FileURL is the repository as a file:// mirror.
func (r *Repo) FileURL() string {
	p := filepath.ToSlash(r.Dir)
	if runtime.GOOS == "windows" {
		p = "/" + p
	}
	return "file://" + p
}

func signer(t testing.TB, k ed25519.PrivateKey) signature.Signer {
	s, err := signature.LoadSigner(k, crypto.Hash(0))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// ErrNetworkDisabled is what FailingTransport answers.
var ErrNetworkDisabled = errors.New("network disabled in this test")

// FailingTransport fails every request and counts them.
type FailingTransport struct{ n atomic.Int64 }

// RoundTrip fails.
func (f *FailingTransport) RoundTrip(*http.Request) (*http.Response, error) {
	f.n.Add(1)
	return nil, ErrNetworkDisabled
}

// Requests is how many requests were tried.
func (f *FailingTransport) Requests() int64 { return f.n.Load() }

// CountingTransport passes requests to http.DefaultTransport and records
// their paths.
type CountingTransport struct {
	mu    sync.Mutex
	paths []string
}

// RoundTrip counts and forwards.
func (c *CountingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.paths = append(c.paths, req.URL.Path)
	c.mu.Unlock()
	return http.DefaultTransport.RoundTrip(req)
}

// Paths are the requested paths, in order.
func (c *CountingTransport) Paths() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.paths...)
}

// Env is a Getenv over a map.
func Env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

// SharedTestdata returns ../shared/testdata/<rel> from the repository root,
// or skips the test when the shared test data are absent.
func SharedTestdata(t testing.TB, rel string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("repository root not found")
		}
		dir = parent
	}
	p := filepath.Join(filepath.Dir(dir), "shared", "testdata", filepath.FromSlash(rel))
	if _, err := os.Stat(p); err != nil {
		t.Skipf("shared test data absent (%v): skipping", strings.TrimSpace(err.Error()))
	}
	return p
}

// TrustedRootJSON makes a small trusted_root.json of a made-up instance
// named name: a self-signed Fulcio CA, and one Rekor and one CT log whose
// base URLs are https://rekor.<name>.test and https://ctfe.<name>.test.
func TrustedRootJSON(t testing.TB, name string) []byte {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name + " test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, caKey.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	logs := map[string]map[string]*root.TransparencyLog{}
	for _, kind := range []string{"rekor", "ctfe"} {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		spki, err := x509.MarshalPKIXPublicKey(k.Public())
		if err != nil {
			t.Fatal(err)
		}
		id := sha256.Sum256(spki)
		logs[kind] = map[string]*root.TransparencyLog{hex.EncodeToString(id[:]): {
			BaseURL:             "https://" + kind + "." + name + ".test",
			ID:                  id[:],
			ValidityPeriodStart: time.Now().Add(-time.Hour).UTC().Truncate(time.Second),
			HashFunc:            crypto.SHA256,
			PublicKey:           k.Public(),
			SignatureHashFunc:   crypto.SHA256,
		}}
	}
	tr, err := root.NewTrustedRoot(root.TrustedRootMediaType01,
		[]root.CertificateAuthority{&root.FulcioCertificateAuthority{
			Root:                caCert,
			ValidityPeriodStart: time.Now().Add(-time.Hour).UTC().Truncate(time.Second),
			URI:                 "https://fulcio." + name + ".test",
		}},
		logs["ctfe"], nil, logs["rekor"])
	if err != nil {
		t.Fatal(err)
	}
	b, err := tr.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// RekorURL is the base URL of a trusted root's first Rekor log (how tests
// tell trusted roots apart).
func RekorURL(tm root.TrustedMaterial) string {
	var urls []string
	for _, l := range tm.RekorLogs() {
		urls = append(urls, l.BaseURL)
	}
	sort.Strings(urls)
	if len(urls) == 0 {
		return ""
	}
	return urls[0]
}

// The helpers below let tests publish what a compromised or broken
// repository would: metadata signed by the real keys but wrong, files
// replaced by hand.

// Key is the private key of a top-level role.
func (r *Repo) Key(role string) ed25519.PrivateKey {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.keys[role]
}

// CurrentRoot is a copy of the current root metadata, for a test to turn
// into a new (possibly malicious) version.
func (r *Repo) CurrentRoot() *metadata.Metadata[metadata.RootType] {
	r.mu.Lock()
	defer r.mu.Unlock()
	b, err := r.root.ToBytes(false)
	if err != nil {
		r.t.Fatal(err)
	}
	m, err := metadata.Root().FromBytes(b)
	if err != nil {
		r.t.Fatal(err)
	}
	return m
}

// WriteFile replaces Dir/name with data, atomically.
func (r *Repo) WriteFile(name string, data []byte) { r.write(name, data) }

// ReadFile reads Dir/name.
func (r *Repo) ReadFile(name string) []byte {
	b, err := os.ReadFile(filepath.Join(r.Dir, name))
	if err != nil {
		r.t.Fatal(err)
	}
	return b
}

// Signer signs TUF metadata with k.
func Signer(t testing.TB, k ed25519.PrivateKey) signature.Signer { return signer(t, k) }
