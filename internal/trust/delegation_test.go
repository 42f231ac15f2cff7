package trust

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/theupdateframework/go-tuf/v2/metadata"

	"github.com/signetdev/signet/internal/trust/trusttest"
)

// GHSA-4f8r-qqr9-fq8j (go-tuf 2.0.1): delegations were searched in map
// order, so the wrong delegated role could supply a target. Top-level
// targets delegate trusted_root.json to A, then B; B delegates to C; A
// and C list different trusted roots. TUF's preorder search must always
// pick A's, on every fresh client.
func TestAdvisory_GHSA_4f8r_qqr9_fq8j_DelegationOrder(t *testing.T) {
	f := newFixture(t, time.Now().Add(10*24*time.Hour))
	exp := time.Now().Add(10 * 24 * time.Hour).UTC().Truncate(time.Second)
	r := f.repo
	keys := map[string]ed25519.PrivateKey{}
	pub := map[string]*metadata.Key{}
	for _, n := range []string{"A", "B", "C"} {
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		keys[n] = k
		if pub[n], err = metadata.KeyFromPublicKey(k.Public()); err != nil {
			t.Fatal(err)
		}
	}
	id := func(n string) string { s, _ := pub[n].ID(); return s }
	delegate := func(names ...string) *metadata.Delegations {
		d := &metadata.Delegations{Keys: map[string]*metadata.Key{}}
		for _, n := range names {
			d.Keys[id(n)] = pub[n]
			d.Roles = append(d.Roles, metadata.DelegatedRole{Name: n, KeyIDs: []string{id(n)}, Threshold: 1, Paths: []string{"*"}})
		}
		return d
	}
	writeTargets := func(name string, version int64, key ed25519.PrivateKey, d *metadata.Delegations, rootOf string) {
		tm := metadata.Targets(exp)
		tm.Signed.Version = version
		tm.Signed.Delegations = d
		if rootOf != "" {
			data := trusttest.TrustedRootJSON(t, rootOf)
			tf, err := metadata.TargetFile().FromBytes(TrustedRootTarget, data, "sha256")
			if err != nil {
				t.Fatal(err)
			}
			tm.Signed.Targets[TrustedRootTarget] = tf
			r.WriteFile(filepath.Join("targets", hex.EncodeToString(tf.Hashes["sha256"])+"."+TrustedRootTarget), data)
		}
		if _, err := tm.Sign(trusttest.Signer(t, key)); err != nil {
			t.Fatal(err)
		}
		b, _ := tm.ToBytes(true)
		r.WriteFile(name, b)
	}
	writeTargets("1.A.json", 1, keys["A"], nil, "first")
	writeTargets("1.B.json", 1, keys["B"], delegate("C"), "")
	writeTargets("1.C.json", 1, keys["C"], nil, "wrong")
	writeTargets("2.targets.json", 2, r.Key(metadata.TARGETS), delegate("A", "B"), "")
	sn := metadata.Snapshot(exp)
	sn.Signed.Version = 2
	for n, v := range map[string]int64{"targets.json": 2, "A.json": 1, "B.json": 1, "C.json": 1} {
		sn.Signed.Meta[n] = metadata.MetaFile(v)
	}
	sign(t, r, sn, metadata.SNAPSHOT, "2.snapshot.json")
	ts := metadata.Timestamp(exp)
	ts.Signed.Version = 2
	ts.Signed.Meta["snapshot.json"] = metadata.MetaFile(2)
	sign(t, r, ts, metadata.TIMESTAMP, "timestamp.json")

	for i := 0; i < 20; i++ {
		f.cache = t.TempDir()
		f.initialize(t)
		tr, err := Load(context.Background(), f.opts(http.DefaultTransport, time.Now().Add(25*time.Hour)))
		if err != nil {
			t.Fatal(err)
		}
		if got := trusttest.RekorURL(tr); got != "https://rekor.first.test" {
			t.Fatalf("client %d got the trusted root of %s, want A's", i, got)
		}
		f.noWarning(t)
	}
}

// GHSA-qr6c-8mjc-hpp5 (unconfirmed; go-tuf ac2ff9d): delegation path
// patterns matched with filepath.Match across "/". With the pinned go-tuf
// a pattern matches one path segment per segment: foo/* does not match
// foo/a/b. A malformed pattern (targets/[) matches nothing rather than
// being reported: a delegation that names no target fails closed, which
// is all signet needs (it looks up two fixed target names).
func TestAdvisory_GHSA_qr6c_8mjc_hpp5_DelegationPathPattern(t *testing.T) {
	for _, tc := range []struct {
		pattern, target string
		want            bool
	}{
		{"foo/*", "foo/a", true},
		{"foo/*", "foo/a/b", false},
		{"*", "trusted_root.json", true},
		{"*", "a/trusted_root.json", false},
		{"targets/[", "targets/[", false},
		{"targets/[", "targets/x", false},
	} {
		role := metadata.DelegatedRole{Name: "r", Paths: []string{tc.pattern}}
		got, err := role.IsDelegatedPath(tc.target)
		if err != nil || got != tc.want {
			t.Errorf("%q matches %q: %v %v, want %v", tc.pattern, tc.target, got, err, tc.want)
		}
	}
}
