package save_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/signetdev/signet/internal/testing/clitest"
	"github.com/signetdev/signet/internal/testing/regtest"
	"github.com/signetdev/signet/internal/trust/trusttest"
	"github.com/signetdev/signet/pkg/oci"
)

// fixture is an in-process registry with one image signed by a key
// (a bundle referrer and a legacy .sig) and attested (a bundle referrer),
// as signet sign/attest --key --tlog-upload=false store them.
type fixture struct {
	host, key, pub, root, otherPub string
	digest                         name.Digest
	env                            clitest.Env
}

func newFixture(t *testing.T, referrers bool) fixture {
	t.Helper()
	host := regtest.Registry(t, referrers)
	_, d := regtest.PushRandom(t, host, "app")
	dir := t.TempDir()
	fx := fixture{host: host, digest: d, env: clitest.Env{"COSIGN_PASSWORD": ""}}
	fx.key, fx.pub = regtest.KeyPair(t, dir, "cosign")
	_, fx.otherPub = regtest.KeyPair(t, dir, "other")
	fx.root = filepath.Join(dir, "trusted_root.json")
	if err := os.WriteFile(fx.root, trusttest.TrustedRootJSON(t, "layout"), 0o600); err != nil {
		t.Fatal(err)
	}
	pred := filepath.Join(dir, "pred.json")
	if err := os.WriteFile(pred, []byte(`{"a":1}`), 0o600); err != nil {
		t.Fatal(err)
	}
	noTlog := []string{"--yes", "--key", fx.key, "--use-signing-config=false", "--tlog-upload=false"}
	for _, args := range [][]string{
		append(append([]string{"sign"}, noTlog...), fx.digest.String()),
		append(append([]string{"sign", "--new-bundle-format=false"}, noTlog...), fx.digest.String()),
		append(append([]string{"attest", "--predicate", pred, "--type", "custom"}, noTlog...), fx.digest.String()),
	} {
		if r := fx.run(t, args...); r.Code != 0 {
			t.Fatalf("%v: exit %d: %s", args[:2], r.Code, r.Stderr)
		}
	}
	return fx
}

func (fx fixture) run(t *testing.T, args ...string) clitest.Result {
	t.Helper()
	return clitest.Run(t, clitest.Options{Env: fx.env, Transport: http.DefaultTransport}, args...)
}

// offline runs with no network at all and fails the test if any request
// was attempted.
func (fx fixture) offline(t *testing.T, args ...string) clitest.Result {
	t.Helper()
	r := clitest.Run(t, clitest.Options{Env: fx.env}, args...)
	if r.NetworkCalls != 0 {
		t.Errorf("%v: %d network requests, want none", args, r.NetworkCalls)
	}
	return r
}

func (fx fixture) verifyLocal(t *testing.T, pub string, extra ...string) clitest.Result {
	t.Helper()
	verb := "verify"
	if len(extra) > 0 && extra[0] == "verify-attestation" {
		verb, extra = extra[0], extra[1:]
	}
	args := append([]string{verb, "--local-image", "--key", pub, "--insecure-ignore-tlog", "--trusted-root", fx.root}, extra...)
	return fx.offline(t, args...)
}

// stripReferrers rewrites dir's index.json as cosign v3 save writes it:
// the referrer manifests stay in blobs/ but are not listed.
func stripReferrers(t *testing.T, dir string) {
	t.Helper()
	p := filepath.Join(dir, "index.json")
	raw, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var idx map[string]any
	if err := json.Unmarshal(raw, &idx); err != nil {
		t.Fatal(err)
	}
	var kept []any
	for _, m := range idx["manifests"].([]any) {
		ann, _ := m.(map[string]any)["annotations"].(map[string]any)
		if ann[oci.KindAnnotation] != oci.KindReferrer {
			kept = append(kept, m)
		}
	}
	if len(kept) == len(idx["manifests"].([]any)) {
		t.Fatal("the layout listed no referrers to strip")
	}
	idx["manifests"] = kept
	out, _ := json.Marshal(idx)
	if err := os.WriteFile(p, out, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestSaveVerifyLocalLoad: save writes a layout that verify and
// verify-attestation --local-image check with no network, also in the
// shape cosign save writes; load pushes it where the registry verify
// finds every signature again.
func TestSaveVerifyLocalLoad(t *testing.T) {
	for _, referrers := range []bool{false, true} {
		t.Run(map[bool]string{false: "no referrers API", true: "referrers API"}[referrers], func(t *testing.T) {
			fx := newFixture(t, referrers)
			dir := filepath.Join(t.TempDir(), "saved")
			if r := fx.run(t, "save", "--dir", dir, fx.host+"/app:v1"); r.Code != 0 || r.Stdout != "" {
				t.Fatalf("save: exit %d, stdout %q: %s", r.Code, r.Stdout, r.Stderr)
			}
			cosignShaped := filepath.Join(t.TempDir(), "cosign-shaped")
			if err := os.CopyFS(cosignShaped, os.DirFS(dir)); err != nil {
				t.Fatal(err)
			}
			stripReferrers(t, cosignShaped)

			for _, d := range []string{dir, cosignShaped} {
				r := fx.verifyLocal(t, fx.pub, d)
				if r.Code != 0 {
					t.Fatalf("verify --local-image %s: exit %d: %s", d, r.Code, r.Stderr)
				}
				var sigs []json.RawMessage
				if err := json.Unmarshal([]byte(strings.TrimSpace(r.Stdout)), &sigs); err != nil || len(sigs) != 2 {
					t.Errorf("%s: want the bundle and the legacy signature, stdout %q (%v)", d, r.Stdout, err)
				}
				if !strings.Contains(r.Stderr, "Verification for "+d+" --") || !strings.Contains(r.Stdout, fx.digest.DigestStr()) {
					t.Errorf("%s: header or digest missing:\n%s\n%s", d, r.Stderr, r.Stdout)
				}
				// cosign names no reference for the bundle signature of a
				// saved image (the legacy payload keeps its own).
				if !strings.Contains(r.Stdout, `"docker-reference":""`) || strings.Contains(r.Stdout, `"docker-reference":"`+d) {
					t.Errorf("%s: docker-reference of the bundle signature:\n%s", d, r.Stdout)
				}
				r = fx.verifyLocal(t, fx.pub, "verify-attestation", "--type", "custom", d)
				if r.Code != 0 || !strings.Contains(r.Stdout, `"payload"`) {
					t.Errorf("verify-attestation --local-image %s: exit %d: %s", d, r.Code, r.Stderr)
				}
				// cosign exits 1 for every --local-image failure, never 10/12.
				r = fx.verifyLocal(t, fx.otherPub, d)
				r.CheckErrorLine(t)
				if r.Code != 1 || !strings.Contains(r.ErrLine(), d) {
					t.Errorf("another key: exit %d, %s", r.Code, r.ErrLine())
				}
			}

			// Both layouts load back with all their signatures.
			for i, d := range []string{dir, cosignShaped} {
				dst := fx.host + "/loaded" + string(rune('a'+i)) + ":v1"
				if r := fx.run(t, "load", "--dir", d, dst); r.Code != 0 || r.Stdout != "" || r.Stderr != "" {
					t.Fatalf("load %s: exit %d, stdout %q, stderr %s", d, r.Code, r.Stdout, r.Stderr)
				}
				r := fx.run(t, "verify", "--key", fx.pub, "--insecure-ignore-tlog", "--trusted-root", fx.root, dst)
				var sigs []json.RawMessage
				if r.Code != 0 || json.Unmarshal([]byte(strings.TrimSpace(r.Stdout)), &sigs) != nil || len(sigs) != 2 {
					t.Errorf("verify after load of %s: exit %d, stdout %q: %s", d, r.Code, r.Stdout, r.Stderr)
				}
				r = fx.run(t, "verify-attestation", "--type", "custom", "--key", fx.pub, "--insecure-ignore-tlog", "--trusted-root", fx.root, dst)
				if r.Code != 0 {
					t.Errorf("verify-attestation after load of %s: exit %d: %s", d, r.Code, r.Stderr)
				}
			}
		})
	}
}

// TestVerifyLocalUnsigned: an unsigned saved image, a directory that is
// no layout, and a layout holding no image all fail with one error line
// and exit 1, offline.
func TestVerifyLocalUnsigned(t *testing.T) {
	fx := newFixture(t, false)
	img, _ := random.Image(64, 1)
	tag, _ := name.NewTag(fx.host + "/bare:v1")
	if err := remote.Write(tag, img); err != nil {
		t.Fatal(err)
	}
	bare := filepath.Join(t.TempDir(), "bare")
	if r := fx.run(t, "save", "--dir", bare, tag.String()); r.Code != 0 {
		t.Fatalf("save: %s", r.Stderr)
	}
	empty := t.TempDir()
	noImage := t.TempDir()
	if err := os.WriteFile(filepath.Join(noImage, "index.json"), []byte(`{"schemaVersion":2,"manifests":[]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for d, want := range map[string]string{bare: "no signatures found", empty: "index.json", noImage: "no image"} {
		r := fx.verifyLocal(t, fx.pub, d)
		r.CheckErrorLine(t)
		if r.Code != 1 || !strings.Contains(r.ErrLine(), want) {
			t.Errorf("%s: exit %d, want %q in %s", d, r.Code, want, r.ErrLine())
		}
	}
}

// TestSaveLoadErrors: cosign's required --dir, a missing image, a missing
// layout, and the unsupported tag prefix.
func TestSaveLoadErrors(t *testing.T) {
	fx := newFixture(t, false)
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"save", fx.host + "/app:v1"}, `required flag(s) "dir" not set`},
		{[]string{"load", fx.host + "/app:v1"}, `required flag(s) "dir" not set`},
		{[]string{"save", "--dir", dir, fx.host + "/nope:v1"}, "not found"},
		{[]string{"load", "--dir", filepath.Join(dir, "none"), fx.host + "/x:v1"}, "index.json"},
		{[]string{"save", "--attachment-tag-prefix", "p", "--dir", dir, fx.host + "/app:v1"}, "--attachment-tag-prefix"},
	} {
		r := fx.run(t, c.args...)
		r.CheckErrorLine(t)
		if r.Code != 1 || !strings.Contains(r.ErrLine(), c.want) {
			t.Errorf("%v: exit %d, want %q in %s", c.args, r.Code, c.want, r.ErrLine())
		}
	}
	// A save that fails half-way (the image written, its signature over
	// the attachment limit) into a new directory leaves no directory.
	env := clitest.Env{"COSIGN_MAX_ATTACHMENT_SIZE": "10"}
	r := clitest.Run(t, clitest.Options{Env: env, Transport: http.DefaultTransport}, "save", "--dir", filepath.Join(dir, "new"), fx.digest.String())
	r.CheckErrorLine(t)
	if !strings.Contains(r.ErrLine(), "COSIGN_MAX_ATTACHMENT_SIZE") {
		t.Errorf("half-way failure: %s", r.ErrLine())
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("left behind: %v", ents)
	}
}

// TestSaveLoadIndex: a multi-arch index signed with -r (the index and each
// image) is saved with every signature, verifies offline from the layout,
// and loads into another repository where the index and each image
// verify.
func TestSaveLoadIndex(t *testing.T) {
	fx := newFixture(t, false)
	tag, index, children := regtest.PushRandomIndex(t, fx.host, "multi", 2)
	if r := fx.run(t, "sign", "-r", "--yes", "--key", fx.key, "--use-signing-config=false", "--tlog-upload=false", tag.String()); r.Code != 0 {
		t.Fatalf("sign -r: %s", r.Stderr)
	}
	dir := filepath.Join(t.TempDir(), "layout")
	if r := fx.run(t, "save", "--dir", dir, tag.String()); r.Code != 0 {
		t.Fatalf("save: %s", r.Stderr)
	}
	if r := fx.verifyLocal(t, fx.pub, dir); r.Code != 0 || !strings.Contains(r.Stdout, index.DigestStr()) {
		t.Fatalf("verify --local-image of the index: exit %d\n%s\n%s", r.Code, r.Stdout, r.Stderr)
	}
	dst := fx.host + "/multi-loaded"
	if r := fx.run(t, "load", "--dir", dir, dst+":v1"); r.Code != 0 {
		t.Fatalf("load: %s", r.Stderr)
	}
	refs := []string{dst + "@" + index.DigestStr()}
	for _, c := range children {
		refs = append(refs, dst+"@"+c.DigestStr())
	}
	for _, ref := range refs {
		if r := fx.run(t, "verify", "--key", fx.pub, "--insecure-ignore-tlog", ref); r.Code != 0 {
			t.Errorf("verify %s after load: exit %d: %s", ref, r.Code, r.Stderr)
		}
	}
}
