package admission

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/signetdev/signet/pkg/oci"
	"github.com/signetdev/signet/pkg/policy"
	"github.com/signetdev/signet/pkg/policy/engine"
)

func TestValidateKeyless(t *testing.T) {
	w := newWorld(t)
	signed, unsigned, other := w.image("acme/app"), w.image("acme/unsigned"), w.image("acme/other")
	w.signKeyless(signed, gitlabSubject, gitlabIssuer)
	w.signKeyless(other, "https://gitlab.example/evil/app//.gitlab-ci.yml@refs/heads/main", gitlabIssuer)
	w.policy(keylessCIP("gitlab-only", w.host+"/acme/**", gitlabSubject), LoadOptions{})
	ctx := context.Background()

	if d := w.e.Validate(ctx, "ns", pod(signed.String())); !d.Allowed {
		t.Fatalf("signed image denied: %s", d.Message)
	}
	d := w.e.Validate(ctx, "ns", pod(signed.String(), unsigned.String()))
	if d.Allowed {
		t.Fatal("unsigned image admitted")
	}
	mustContain(t, d.Message, "spec.containers[1].image", unsigned.String(), "policy gitlab-only", "authority gitlab", "no signatures found", gitlabSubject)
	if strings.Contains(d.Message, "containers[0]") {
		t.Errorf("the signed image is named in the denial: %s", d.Message)
	}

	d = w.e.Validate(ctx, "ns", pod(other.String()))
	if d.Allowed {
		t.Fatal("image signed by another identity admitted")
	}
	mustContain(t, d.Message, "expected a certificate for subject \""+gitlabSubject, "found https://gitlab.example/evil/app", gitlabIssuer)

	d = w.e.Validate(ctx, "ns", pod(w.host+"/acme/app:v1"))
	if d.Allowed {
		t.Fatal("a tag was admitted")
	}
	mustContain(t, d.Message, "must be an image digest", "spec.containers[0].image")
}

func TestNoMatchAndWarnMode(t *testing.T) {
	w := newWorld(t)
	img := w.image("elsewhere/app")
	w.policy(keylessCIP("acme", w.host+"/acme/*", gitlabSubject), LoadOptions{})
	ctx := context.Background()
	for _, tc := range []struct {
		mode    NoMatch
		allowed bool
		warn    bool
	}{{NoMatchDeny, false, false}, {NoMatchWarn, true, true}, {NoMatchAllow, true, false}} {
		w.e.NoMatch = tc.mode
		d := w.e.Validate(ctx, "ns", pod(img.String()))
		if d.Allowed != tc.allowed || (len(d.Warnings) > 0) != tc.warn {
			t.Errorf("%s: allowed %v warnings %v", tc.mode, d.Allowed, d.Warnings)
		}
		if !tc.allowed {
			mustContain(t, d.Message, "no matching policies: spec.containers[0].image")
		}
	}

	w.e.NoMatch = NoMatchDeny
	warnCIP := strings.Replace(keylessCIP("warn", w.host+"/elsewhere/**", gitlabSubject), "spec:\n", "spec:\n  mode: warn\n", 1)
	w.policy(warnCIP, LoadOptions{})
	d := w.e.Validate(ctx, "ns", pod(img.String()))
	if !d.Allowed || len(d.Warnings) != 1 {
		t.Fatalf("warn mode: allowed %v warnings %v", d.Allowed, d.Warnings)
	}
	mustContain(t, d.Warnings[0], "policy warn", "no signatures found")
}

func TestEveryMatchingPolicyMustPass(t *testing.T) {
	w := newWorld(t)
	img := w.image("acme/app")
	w.signKeyless(img, gitlabSubject, gitlabIssuer)
	w.policy(keylessCIP("a", w.host+"/acme/**", gitlabSubject)+"---\n"+keylessCIP("b", "**", "someone-else"), LoadOptions{})
	d := w.e.Validate(context.Background(), "ns", pod(img.String()))
	if d.Allowed {
		t.Fatal("admitted although policy b fails")
	}
	mustContain(t, d.Message, "policy b")
	if strings.Contains(d.Message, "policy a") {
		t.Errorf("passing policy a named: %s", d.Message)
	}
}

func TestCacheAndStatic(t *testing.T) {
	w := newWorld(t)
	img := w.image("acme/app")
	w.signKeyless(img, gitlabSubject, gitlabIssuer)
	w.policy(keylessCIP("gitlab", w.host+"/acme/**", gitlabSubject), LoadOptions{})
	ctx := context.Background()
	if d := w.e.Validate(ctx, "ns", pod(img.String())); !d.Allowed {
		t.Fatal(d.Message)
	}
	cold := w.reads.Load()
	if cold == 0 {
		t.Fatal("no registry read on a cold cache")
	}
	if d := w.e.Validate(ctx, "ns", pod(img.String(), img.String())); !d.Allowed {
		t.Fatal(d.Message)
	}
	if w.reads.Load() != cold {
		t.Errorf("warm cache read the registry %d more times", w.reads.Load()-cold)
	}
	// A new resourceVersion is a new policy: the cache misses.
	w.ps[0].ResourceVersion = "2"
	w.e.Validate(ctx, "ns", pod(img.String()))
	if w.reads.Load() == cold {
		t.Error("an updated policy was answered from the cache")
	}

	w.policy(`apiVersion: policy.sigstore.dev/v1alpha1
kind: ClusterImagePolicy
metadata: {name: allow-all}
spec:
  images: [{glob: "**"}]
  authorities: [{static: {action: pass}}]
---
apiVersion: policy.sigstore.dev/v1alpha1
kind: ClusterImagePolicy
metadata: {name: block-bad}
spec:
  images: [{glob: "**/bad*"}]
  authorities: [{static: {action: fail, message: "bad images are blocked"}}]
`, LoadOptions{})
	before := w.reads.Load()
	if d := w.e.Validate(ctx, "ns", pod("docker.io/library/busybox@sha256:"+strings.Repeat("a", 64))); !d.Allowed {
		t.Fatal(d.Message)
	}
	d := w.e.Validate(ctx, "ns", pod("ghcr.io/x/bad@sha256:"+strings.Repeat("b", 64)))
	if d.Allowed {
		t.Fatal("static fail admitted")
	}
	mustContain(t, d.Message, "policy block-bad", "bad images are blocked")
	if w.reads.Load() != before {
		t.Error("a static policy read the registry")
	}
}

func TestKeyAuthority(t *testing.T) {
	w := newWorld(t)
	key, pemKey := newKey(t)
	_, otherPEM := newKey(t)
	img := w.image("acme/app")
	w.signKey(img, key)
	cip := func(pub string) string {
		return fmt.Sprintf(`{"apiVersion":"policy.sigstore.dev/v1beta1","kind":"ClusterImagePolicy","metadata":{"name":"key"},
"spec":{"images":[{"glob":"**"}],"authorities":[{"name":"release-key","key":{"data":%s}}]}}`, jsonString(pub))
	}
	w.policy(cip(pemKey), LoadOptions{})
	if d := w.e.Validate(context.Background(), "ns", pod(img.String())); !d.Allowed {
		t.Fatal(d.Message)
	}
	w.policy(cip(otherPEM), LoadOptions{})
	d := w.e.Validate(context.Background(), "ns", pod(img.String()))
	if d.Allowed {
		t.Fatal("signature by another key admitted")
	}
	mustContain(t, d.Message, "authority release-key", "the key in key.data", "none verified")
}

// jsonPolicy stands in for pkg/policy at this package's interface: it
// requires predicate.builder.id to equal the policy data.
type jsonPolicy struct{ want string }

func (p jsonPolicy) Verdict(_ context.Context, st []byte) ([]string, error) {
	return nil, p.evaluate(st)
}

func (p jsonPolicy) evaluate(st []byte) error {
	var s struct {
		Predicate struct {
			Builder struct {
				ID string `json:"id"`
			} `json:"builder"`
		} `json:"predicate"`
	}
	if err := json.Unmarshal(st, &s); err != nil {
		return err
	}
	if s.Predicate.Builder.ID != p.want {
		return fmt.Errorf("predicate.builder.id: conflicting values %q and %q", s.Predicate.Builder.ID, p.want)
	}
	return nil
}

func TestAttestations(t *testing.T) {
	w := newWorld(t)
	img := w.image("acme/app")
	w.attest(img, gitlabSubject, gitlabIssuer, "https://slsa.dev/provenance/v0.2", `{"builder":{"id":"gitlab"}}`)
	compile := func(_ context.Context, name, lang string, data []byte) (StatementPolicy, error) {
		if lang != "cue" {
			return nil, errors.New("want cue")
		}
		return jsonPolicy{strings.TrimSpace(string(data))}, nil
	}
	cip := func(pt, want string) string {
		return keylessCIP("att", "**", gitlabSubject) + fmt.Sprintf(`    attestations:
    - name: provenance
      predicateType: %s
      policy:
        type: cue
        data: %s
`, pt, want)
	}
	ctx := context.Background()
	w.policy(cip("slsaprovenance", "gitlab"), LoadOptions{Compile: compile})
	if d := w.e.Validate(ctx, "ns", pod(img.String())); !d.Allowed {
		t.Fatal(d.Message)
	}
	w.policy(cip("slsaprovenance", "github"), LoadOptions{Compile: compile})
	d := w.e.Validate(ctx, "ns", pod(img.String()))
	if d.Allowed {
		t.Fatal("failing attestation policy admitted")
	}
	mustContain(t, d.Message, "attestation provenance (https://slsa.dev/provenance/v0.2)", "policy failed", "conflicting values")
	w.policy(cip("cyclonedx", "gitlab"), LoadOptions{Compile: compile})
	d = w.e.Validate(ctx, "ns", pod(img.String()))
	mustContain(t, d.Message, "expected predicate type \"https://cyclonedx.org/bom\", found \"https://slsa.dev/provenance/v0.2\"")
}

func TestIdentityExtensions(t *testing.T) {
	w := newWorld(t)
	img := w.image("acme/app")
	w.signKeyless(img, gitlabSubject, gitlabIssuer)
	cip := strings.Replace(keylessCIP("ext", "**", gitlabSubject), "  name: ext\n",
		"  name: ext\n  annotations:\n    "+IdentityExtensionsAnnotation+": '{\"gitlab\": {\"source-repository-ref\": \"refs/heads/main\"}}'\n", 1)
	w.policy(cip, LoadOptions{})
	d := w.e.Validate(context.Background(), "ns", pod(img.String()))
	if d.Allowed {
		t.Fatal("a certificate without the required extension was admitted")
	}
	mustContain(t, d.Message, "source-repository-ref \"refs/heads/main\"")
}

func TestDeadlineNamesRegistry(t *testing.T) {
	w := newWorld(t)
	img := w.image("acme/app")
	w.policy(keylessCIP("gitlab", "**", gitlabSubject), LoadOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	d := w.e.Validate(ctx, "ns", pod(img.String()))
	if d.Allowed {
		t.Fatal("admitted past the deadline")
	}
	mustContain(t, d.Message, "did not finish before the webhook's deadline", "registry "+w.host, img.String())
}

func TestMutate(t *testing.T) {
	w := newWorld(t)
	img := w.image("acme/app")
	imgs := pod(w.host+"/acme/app:v1", img.String(), w.host+"/acme/missing:v1")
	patch, warns := w.e.Mutate(context.Background(), imgs.Images)
	want := fmt.Sprintf(`[{"op":"replace","path":"/spec/containers/0/image","value":"%s/acme/app:v1@%s"}]`, w.host, img.DigestStr())
	if string(patch) != want {
		t.Errorf("patch\n%s\nwant\n%s", patch, want)
	}
	if len(warns) != 1 || !strings.Contains(warns[0], "spec.containers[2].image: could not resolve") {
		t.Errorf("warnings %q", warns)
	}
	d := w.e.Validate(context.Background(), "ns", pod(fmt.Sprintf("%s/acme/app:v1@%s", w.host, img.DigestStr())))
	mustContain(t, d.Message, "no matching policies") // a digest now: judged, not refused as a tag
}

// TestAttestationPolicies: CUE and Rego with policy-controller's
// conventions, through pkg/policy, over a signed CycloneDX SBOM.
func TestAttestationPolicies(t *testing.T) {
	w := newWorld(t)
	img := w.image("acme/app")
	w.attest(img, gitlabSubject, gitlabIssuer, "https://cyclonedx.org/bom", `{"bomFormat":"CycloneDX","specVersion":"1.5","components":[{"name":"openssl","version":"3.0.13"}]}`)
	compile := func(ctx context.Context, name, lang string, data []byte) (StatementPolicy, error) {
		return policy.Compile(ctx, engine.Local{}, policy.PolicyController, policy.Source{Name: name, Lang: policy.Lang(lang), Data: data})
	}
	cip := func(lang, data string) string {
		var ind strings.Builder
		for _, l := range strings.Split(strings.TrimSpace(data), "\n") {
			ind.WriteString("          " + l + "\n")
		}
		return keylessCIP("sbom", "**", gitlabSubject) + fmt.Sprintf(`    attestations:
    - name: sbom
      predicateType: cyclonedx
      policy:
        type: %s
        data: |
%s`, lang, ind.String())
	}
	ctx := context.Background()
	for _, tc := range []struct {
		name, lang, data string
		allowed          bool
		want             string
	}{
		{"cue pass", "cue", `predicate: bomFormat: "CycloneDX"`, true, ""},
		{"cue fail", "cue", `predicate: bomFormat: "SPDX"`, false, "conflicting values"},
		{"rego pass", "rego", "package sigstore\nisCompliant { input.predicate.specVersion == \"1.5\" }", true, ""},
		{"rego fail", "rego", "package sigstore\ndefault isCompliant = false\nisCompliant { input.predicate.specVersion == \"1.6\" }", false, "policy failed"},
		{"rego result objects fail with their errors", "rego", "package sigstore\nisCompliant[r] {\n  r := {\"result\": false, \"error\": \"openssl 3.0.13 is vulnerable\", \"warning\": \"scan is old\"}\n}", false,
			"is not compliant: openssl 3.0.13 is vulnerable (warnings: scan is old)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w.policy(cip(tc.lang, tc.data), LoadOptions{Compile: compile})
			d := w.e.Validate(ctx, "ns", pod(img.String()))
			if d.Allowed != tc.allowed {
				t.Fatalf("allowed %v: %s", d.Allowed, d.Message)
			}
			mustContain(t, d.Message, tc.want)
		})
	}
}

// TestRegoWarnings: a compliant isCompliant result that carries a warning
// fails its attestation, as in policy-controller (which counts the warning
// as the attestation's error): an enforcing policy denies naming the
// warning, a warn-mode one admits with it as an admission warning.
func TestRegoWarnings(t *testing.T) {
	compile := func(ctx context.Context, name, lang string, data []byte) (StatementPolicy, error) {
		return policy.Compile(ctx, engine.Local{}, policy.PolicyController, policy.Source{Name: name, Lang: policy.Lang(lang), Data: data})
	}
	const atts = `    attestations:
    - name: sbom
      predicateType: cyclonedx
      policy:
        type: rego
        data: |
          package sigstore
          isCompliant[r] {
            input.predicate.specVersion == "1.5"
            r := {"result": true, "error": "", "warning": "CycloneDX 1.5 is deprecated here"}
          }
`
	for _, mode := range []string{"enforce", "warn"} {
		w := newWorld(t)
		img := w.image("acme/app")
		w.attest(img, gitlabSubject, gitlabIssuer, "https://cyclonedx.org/bom", `{"bomFormat":"CycloneDX","specVersion":"1.5"}`)
		cip := keylessCIP("sbom", "**", gitlabSubject) + atts
		if mode == "warn" {
			cip = strings.Replace(cip, "spec:\n", "spec:\n  mode: warn\n", 1)
		}
		w.policy(cip, LoadOptions{Compile: compile})
		d := w.e.Validate(context.Background(), "ns", pod(img.String()))
		const want = "policy sbom: authority gitlab: attestation sbom (https://cyclonedx.org/bom): policy failed: "
		switch mode {
		case "enforce":
			if d.Allowed {
				t.Fatalf("enforce: admitted a compliant result with a warning (warnings %q)", d.Warnings)
			}
			mustContain(t, d.Message, want, "policy warning: CycloneDX 1.5 is deprecated here")
		case "warn":
			if !d.Allowed || len(d.Warnings) != 1 {
				t.Fatalf("warn mode: allowed %v, warnings %q", d.Allowed, d.Warnings)
			}
			mustContain(t, d.Warnings[0], want, "policy warning: CycloneDX 1.5 is deprecated here")
		}
	}
}

// TestTagPrefix: source.tagPrefix reads signatures at
// <prefix>sha256-<hex>.sig (cosign's ociremote.WithPrefix), and only
// there: a signature at the standard tag does not count for it, nor one
// at the prefixed tag for a policy without the prefix.
func TestTagPrefix(t *testing.T) {
	w := newWorld(t)
	prefixed, standard := w.image("acme/prefixed"), w.image("acme/standard")
	w.signKeyless(standard, gitlabSubject, gitlabIssuer)
	w.client = oci.New(oci.Options{TagPrefix: "signed-"})
	w.signKeyless(prefixed, gitlabSubject, gitlabIssuer)
	if _, err := w.client.ReadLegacy(context.Background(), prefixed, oci.SignatureSuffix); err != nil {
		t.Fatalf("no signature at the prefixed tag: %v", err)
	}
	withPrefix := keylessCIP("prefix", "**", gitlabSubject) + "    source:\n    - tagPrefix: signed-\n"
	w.policy(withPrefix, LoadOptions{})
	if d := w.admit(prefixed.String()); !d.Allowed {
		t.Fatalf("signed at the prefixed tag: %s", d.Message)
	}
	wantDenied(t, "standard tag, prefixed policy", w.admit(standard.String()), "signatures in tags prefixed signed-", "no signatures found")
	w.policy(keylessCIP("plain", "**", gitlabSubject), LoadOptions{})
	wantDenied(t, "prefixed tag, plain policy", w.admit(prefixed.String()), "no signatures found")
}
