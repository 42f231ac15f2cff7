package admission

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/signetdev/signet/internal/testing/regtest"
	"github.com/signetdev/signet/pkg/oci"
	"github.com/signetdev/signet/pkg/policy"
	"github.com/signetdev/signet/pkg/policy/engine"
)

// cipWith is a policy with a keyless gitlab authority, a keyless authority
// the image is not signed by, optionally a static pass, and spec.policy.
func cipWith(withStatic bool, lang, data string, include string) string {
	var ind strings.Builder
	for _, l := range strings.Split(strings.TrimSpace(data), "\n") {
		ind.WriteString("      " + l + "\n")
	}
	s := keylessCIP("n-of-m", "**", gitlabSubject) + `  - name: release-team
    keyless:
      url: https://fulcio.example
      insecureIgnoreSCT: true
      identities:
      - issuer: https://gitlab.example
        subject: https://gitlab.example/acme/release//.gitlab-ci.yml@refs/heads/main
`
	if withStatic {
		s += "  - name: always\n    static: {action: pass}\n"
	}
	return s + fmt.Sprintf("  policy:\n    type: %s\n%s    data: |\n%s", lang, include, ind.String())
}

// TestCIPPolicy: spec.policy judges what every passing authority found,
// with policy-controller's input shape (authorityMatches, and the object's
// spec, metadata and type when included).
func TestCIPPolicy(t *testing.T) {
	w := newWorld(t)
	img := w.image("acme/app")
	w.signKeyless(img, gitlabSubject, gitlabIssuer)
	compile := func(ctx context.Context, name, lang string, data []byte) (StatementPolicy, error) {
		return policy.Compile(ctx, engine.Local{}, policy.PolicyController, policy.Source{Name: name, Lang: policy.Lang(lang), Data: data})
	}
	ctx := context.Background()
	pw := pod(img.String())
	pw.Object = []byte(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","labels":{"team":"a"}},"spec":{"containers":[{"name":"c","image":"` + img.String() + `"}]}}`)
	for _, tc := range []struct {
		name             string
		static           bool
		lang, data, incl string
		obj              []byte
		allowed          bool
		want             []string
	}{
		{name: "cue over the signature's subject and issuer", lang: "cue",
			data:    fmt.Sprintf("authorityMatches: gitlab: signatures: [{subject: %q, issuer: %q, id: =~\"^sha256:\"}]", gitlabSubject, gitlabIssuer),
			allowed: true},
		{name: "cue that wants another issuer", lang: "cue",
			data: `authorityMatches: gitlab: signatures: [{issuer: "https://token.actions.githubusercontent.com"}]`,
			want: []string{"policy n-of-m: spec.policy failed over the authorities that passed (gitlab)", "conflicting values"}},
		{name: "rego two of three, one passed", lang: "rego",
			data: "package sigstore\ndefault isCompliant = false\nisCompliant { count(input.authorityMatches) >= 2 }",
			want: []string{"spec.policy failed over the authorities that passed (gitlab)"}},
		{name: "rego two of three, a static pass too", static: true, lang: "rego",
			data:    "package sigstore\ndefault isCompliant = false\nisCompliant { count(input.authorityMatches) >= 2; input.authorityMatches.always.static }",
			allowed: true},
		{name: "included object", lang: "rego", incl: "    includeSpec: true\n    includeObjectMeta: true\n    includeTypeMeta: true\n",
			data:    "package sigstore\ndefault isCompliant = false\nisCompliant { input.typemeta.kind == \"Pod\"; input.metadata.labels.team == \"a\"; input.spec.containers[0].name == \"c\" }",
			allowed: true},
		{name: "included object, other labels", lang: "rego", incl: "    includeObjectMeta: true\n",
			data: "package sigstore\ndefault isCompliant = false\nisCompliant { input.metadata.labels.team == \"a\" }",
			obj:  []byte(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","labels":{"team":"b"}},"spec":{}}`),
			want: []string{"spec.policy failed"}},
		{name: "not included, not seen", lang: "rego",
			data: "package sigstore\ndefault isCompliant = false\nisCompliant { input.metadata.labels.team == \"a\" }",
			want: []string{"spec.policy failed"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w.policy(cipWith(tc.static, tc.lang, tc.data, tc.incl), LoadOptions{Compile: compile})
			wl := pw
			if tc.obj != nil {
				wl.Object = tc.obj
			}
			d := w.e.Validate(ctx, "ns", wl)
			if d.Allowed != tc.allowed {
				t.Fatalf("allowed %v: %s", d.Allowed, d.Message)
			}
			mustContain(t, d.Message, tc.want...)
		})
	}

	// The verdict of a policy that sees the object is cached per object:
	// the same image in a differently labelled Pod is judged again.
	w.policy(cipWith(false, "rego", "package sigstore\ndefault isCompliant = false\nisCompliant { input.metadata.labels.team == \"a\" }", "    includeObjectMeta: true\n"), LoadOptions{Compile: compile})
	if d := w.e.Validate(ctx, "ns", pw); !d.Allowed {
		t.Fatal(d.Message)
	}
	other := pw
	other.Object = []byte(strings.Replace(string(pw.Object), `"team":"a"`, `"team":"b"`, 1))
	if d := w.e.Validate(ctx, "ns", other); d.Allowed {
		t.Error("a cached verdict for team a admitted team b's Pod")
	}
}

func TestCIPPolicyRefused(t *testing.T) {
	compile := func(ctx context.Context, name, lang string, data []byte) (StatementPolicy, error) {
		return policy.Compile(ctx, engine.Local{}, policy.PolicyController, policy.Source{Name: name, Lang: policy.Lang(lang), Data: data})
	}
	for _, tc := range []struct{ incl, data, want string }{
		{"    configMapRef: {name: policies, key: p}\n", "", "spec.policy.configMapRef: ConfigMap /policies: ConfigMaps are read from the API server, and none is configured"},
		{"    remote: {url: https://example.com/p.rego}\n", "package sigstore", "spec.policy: data, remote and configMapRef are exclusive"},
		{"    configMapRef: {name: policies, key: p}\n", "package sigstore", "spec.policy: data, remote and configMapRef are exclusive"},
		{"", "package sigstore\nisCompliant {", "spec.policy: "},
	} {
		cips, err := ParsePolicyFile([]byte(cipWith(false, "rego", tc.data, tc.incl)))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Compile(context.Background(), cips[0], LoadOptions{Compile: compile}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want %q", err, tc.want)
		}
	}
}

// pushPlatformImage pushes an image whose config names os/arch/variant.
func pushPlatformImage(t *testing.T, host, repo, os, arch, variant string) (v1.Image, name.Digest) {
	t.Helper()
	img, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf.OS, cf.Architecture, cf.Variant = os, arch, variant
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		t.Fatal(err)
	}
	ref, err := name.ParseReference(host + "/" + repo + ":v1")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	h, _ := img.Digest()
	return img, ref.Context().Digest(h.String())
}

// configFileCIP is a static policy named %s whose spec.policy, over the
// image's config files, is isCompliant { %s }.
const configFileCIP = `apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata: {name: %s}
spec:
  images: [{glob: "**"}]
  authorities: [{name: always, static: {action: pass}}]
  policy:
    type: rego
    fetchConfigFile: true
    data: |
      package sigstore
      default isCompliant = false
      isCompliant { %s }
`

// TestCIPPolicyConfigFiles: fetchConfigFile puts each platform's image
// config under config["os/arch[/variant]"], for an image and an index.
func TestCIPPolicyConfigFiles(t *testing.T) {
	w := newWorld(t)
	compile := func(ctx context.Context, name, lang string, data []byte) (StatementPolicy, error) {
		return policy.Compile(ctx, engine.Local{}, policy.PolicyController, policy.Source{Name: name, Lang: policy.Lang(lang), Data: data})
	}
	arm, armDigest := pushPlatformImage(t, w.host, "acme/arm", "linux", "arm64", "v8")
	amd, _ := pushPlatformImage(t, w.host, "acme/amd", "linux", "amd64", "")
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: amd, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: arm, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}}})
	idxRef, _ := name.ParseReference(w.host + "/acme/multi:v1")
	if err := remote.WriteIndex(idxRef, idx); err != nil {
		t.Fatal(err)
	}
	ih, _ := idx.Digest()
	idxDigest := idxRef.Context().Digest(ih.String())

	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		image   string
		rule    string
		allowed bool
	}{
		{"image: its config's platform", armDigest.String(), `input.config["linux/arm64/v8"].architecture == "arm64"; count(input.config) == 1`, true},
		{"image: no amd64", armDigest.String(), `input.config["linux/amd64"]`, false},
		{"index: both platforms", idxDigest.String(), `input.config["linux/amd64"].architecture == "amd64"; input.config["linux/arm64/v8"].variant == "v8"`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w.policy(fmt.Sprintf(configFileCIP, "platforms", tc.rule), LoadOptions{Compile: compile})
			d := w.e.Validate(ctx, "ns", pod(tc.image))
			if d.Allowed != tc.allowed {
				t.Fatalf("allowed %v: %s", d.Allowed, d.Message)
			}
		})
	}
}

// TestConfigFilesReadOnce: two policies with fetchConfigFile judging one
// image read its config files once.
func TestConfigFilesReadOnce(t *testing.T) {
	w := newWorld(t)
	var reads atomic.Int64
	configs := w.e.Configs
	w.e.Configs = func(ctx context.Context, d name.Digest) (map[string]json.RawMessage, error) {
		reads.Add(1)
		return configs(ctx, d)
	}
	compile := func(ctx context.Context, name, lang string, data []byte) (StatementPolicy, error) {
		return policy.Compile(ctx, engine.Local{}, policy.PolicyController, policy.Source{Name: name, Lang: policy.Lang(lang), Data: data})
	}
	_, d := pushPlatformImage(t, w.host, "acme/arm", "linux", "arm64", "v8")
	const rule = `input.config["linux/arm64/v8"].architecture == "arm64"`
	w.policy(fmt.Sprintf(configFileCIP, "one", rule)+"---\n"+fmt.Sprintf(configFileCIP, "two", rule), LoadOptions{Compile: compile})
	if len(w.ps) != 2 {
		t.Fatalf("%d policies", len(w.ps))
	}
	if dec := w.e.Validate(context.Background(), "ns", pod(d.String())); !dec.Allowed {
		t.Fatal(dec.Message)
	}
	if n := reads.Load(); n != 1 {
		t.Errorf("the config files were read %d times for two policies, want once", n)
	}
}

// TestRemotePolicy: policy.remote is fetched and checked against its
// pinned sha256sum, for attestation policies and spec.policy alike.
func TestRemotePolicy(t *testing.T) {
	const body = "package sigstore\ndefault isCompliant = false\nisCompliant { input.authorityMatches.always.static }\n"
	sum := fmt.Sprintf("%x", sha256.Sum256([]byte(body)))
	fetch := func(_ context.Context, url string) ([]byte, error) {
		if url != "https://policies.example/static.rego" {
			return nil, fmt.Errorf("HTTP 404 Not Found")
		}
		return []byte(body), nil
	}
	compile := func(ctx context.Context, name, lang string, data []byte) (StatementPolicy, error) {
		return policy.Compile(ctx, engine.Local{}, policy.PolicyController, policy.Source{Name: name, Lang: policy.Lang(lang), Data: data})
	}
	cip := func(remote string) string {
		return `apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata: {name: remote}
spec:
  images: [{glob: "**"}]
  authorities: [{name: always, static: {action: pass}}]
  policy:
    type: rego
    remote: ` + remote + "\n"
	}
	w := newWorld(t)
	w.policy(cip(`{url: "https://policies.example/static.rego", sha256sum: "`+sum+`"}`), LoadOptions{Compile: compile, Fetch: fetch})
	if d := w.e.Validate(context.Background(), "ns", pod("ghcr.io/acme/app@sha256:"+strings.Repeat("a", 64))); !d.Allowed {
		t.Fatal(d.Message)
	}
	for _, tc := range []struct{ remote, want string }{
		{`{url: "https://policies.example/static.rego", sha256sum: "` + strings.Repeat("0", 64) + `"}`, "has sha256 " + sum + ", the policy pins 000"},
		{`{url: "https://policies.example/static.rego"}`, "spec.policy.remote: sha256sum is required"},
		{`{url: "https://policies.example/other.rego", sha256sum: "` + sum + `"}`, "fetching https://policies.example/other.rego: HTTP 404"},
		{`{url: "https://policies.example/static.rego", sha256sum: "xyz"}`, `sha256sum "xyz": want 64 hex digits`},
	} {
		cips, err := ParsePolicyFile([]byte(cip(tc.remote)))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Compile(context.Background(), cips[0], LoadOptions{Compile: compile, Fetch: fetch}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.remote, err, tc.want)
		}
	}
	// A signed URL's token is not echoed, also when the fetch error
	// quotes the URL (as net/http's does).
	leaky := func(_ context.Context, url string) ([]byte, error) { return nil, fmt.Errorf("Get %q: EOF", url) }
	for _, f := range []func(context.Context, string) ([]byte, error){fetch, leaky} {
		cips, _ := ParsePolicyFile([]byte(cip(`{url: "https://policies.example/static.rego?token=s3cret", sha256sum: "` + strings.Repeat("0", 64) + `"}`)))
		if _, err := Compile(context.Background(), cips[0], LoadOptions{Compile: compile, Fetch: f}); err == nil || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("signed URL: error %v", err)
		}
	}
	cips, _ := ParsePolicyFile([]byte(cip(`{url: "https://policies.example/static.rego", sha256sum: "` + sum + `"}`)))
	if _, err := Compile(context.Background(), cips[0], LoadOptions{Compile: compile}); err == nil || !strings.Contains(err.Error(), "cannot fetch remote policies") {
		t.Errorf("no Fetch: error %v", err)
	}
}

// TestConfigFilesBounded: fetchConfigFile reads the configs of at most
// oci.MaxConfigImages images of an index.
func TestConfigFilesBounded(t *testing.T) {
	w := newWorld(t)
	_, at, _ := regtest.PushRandomIndex(t, w.host, "acme/at-limit", oci.MaxConfigImages)
	if got, err := w.e.Configs(context.Background(), at); err != nil || len(got) == 0 {
		t.Fatalf("at the limit: %d configs, %v", len(got), err)
	}
	_, past, _ := regtest.PushRandomIndex(t, w.host, "acme/past-limit", oci.MaxConfigImages+1)
	if _, err := w.e.Configs(context.Background(), past); err == nil || !strings.Contains(err.Error(), "more than 64 images") {
		t.Fatalf("past the limit: %v", err)
	}
}
