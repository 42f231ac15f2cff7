package admission

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/signetdev/signet/pkg/policy"
	"github.com/signetdev/signet/pkg/policy/engine"
)

const cmCIP = `apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata:
  name: from-cm
spec:
  images:
  - glob: "registry.example/**"
  authorities:
  - name: always
    static: {action: pass}
  policy:
    type: rego
    includeTypeMeta: true
    configMapRef: {name: policies, key: kind.rego}
`

func regoKind(kind string) string {
	return "package sigstore\ndefault isCompliant = false\nisCompliant { input.typemeta.kind == \"" + kind + "\" }\n"
}

// TestConfigMapPolicy: spec.policy read from a ConfigMap of the system
// namespace judges as if inline; another text is another policy version,
// so verdicts cached under the old one are not reused.
func TestConfigMapPolicy(t *testing.T) {
	w := newWorld(t)
	compile := func(ctx context.Context, name, lang string, data []byte) (StatementPolicy, error) {
		return policy.Compile(ctx, engine.Local{}, policy.PolicyController, policy.Source{Name: name, Lang: policy.Lang(lang), Data: data})
	}
	cm := map[string]string{"kind.rego": regoKind("Pod"), "other": "x"}
	var asked []string
	o := LoadOptions{Compile: compile, SystemNamespace: "signet-system",
		ConfigMap: func(_ context.Context, ns, name string) (map[string]string, error) {
			asked = append(asked, ns+"/"+name)
			return cm, nil
		}}
	w.policy(cmCIP, o)
	if len(asked) != 1 || asked[0] != "signet-system/policies" {
		t.Fatalf("ConfigMaps read: %v", asked)
	}
	img := "registry.example/app@sha256:" + strings.Repeat("a", 64)
	pw := pod(img)
	pw.Object = []byte(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{}}`)
	ctx := context.Background()
	if d := w.e.Validate(ctx, "ns", pw); !d.Allowed {
		t.Fatal(d.Message)
	}
	v1 := w.ps[0].version

	cm["kind.rego"] = regoKind("Deployment")
	w.policy(cmCIP, o)
	if w.ps[0].version == v1 {
		t.Fatal("a changed ConfigMap left the policy's version as it was")
	}
	d := w.e.Validate(ctx, "ns", pw)
	if d.Allowed {
		t.Fatal("the verdict cached under the old ConfigMap text admitted the Pod")
	}
	mustContain(t, d.Message, "policy from-cm: spec.policy failed")

	// The same text again is the same version (a relist or an unrelated
	// key's change keeps cached verdicts).
	cm["other"] = "y"
	v2 := w.ps[0].version
	w.policy(cmCIP, o)
	if w.ps[0].version != v2 {
		t.Error("an unrelated key changed the policy's version")
	}
}

// TestConfigMapPolicyRefused: what cannot be read refuses the policy,
// naming the ConfigMap and key.
func TestConfigMapPolicyRefused(t *testing.T) {
	compile := func(ctx context.Context, name, lang string, data []byte) (StatementPolicy, error) {
		return policy.Compile(ctx, engine.Local{}, policy.PolicyController, policy.Source{Name: name, Lang: policy.Lang(lang), Data: data})
	}
	data := map[string]string{"kind.rego": regoKind("Pod"), "empty": " \n"}
	get := func(_ context.Context, ns, name string) (map[string]string, error) {
		if name != "policies" {
			return nil, errors.New("does not exist")
		}
		return data, nil
	}
	for _, tc := range []struct {
		ref  string // replaces the ref in cmCIP
		get  func(context.Context, string, string) (map[string]string, error)
		want string
	}{
		{"{name: gone, key: kind.rego}", get, "spec.policy.configMapRef: ConfigMap signet-system/gone: does not exist"},
		{"{name: policies, key: nope}", get, `spec.policy.configMapRef: ConfigMap signet-system/policies has no key "nope" (it has keys "empty", "kind.rego")`},
		{"{name: policies, key: empty}", get, `spec.policy.configMapRef: key "empty" of ConfigMap signet-system/policies is empty`},
		{"{name: policies}", get, "spec.policy.configMapRef: key is required"},
		{"{key: kind.rego}", get, "spec.policy.configMapRef: name is required"},
		{"{name: policies, namespace: cosign-system, key: kind.rego}", get, `spec.policy.configMapRef: namespace "cosign-system": the ConfigMap must be in signet's namespace "signet-system"`},
		{"{name: policies, key: kind.rego}", nil, "ConfigMap signet-system/policies: ConfigMaps are read from the API server, and none is configured"},
		{"{name: policies, key: kind.rego, optional: true}", get, `unknown field "optional"`},
	} {
		text := strings.Replace(cmCIP, "{name: policies, key: kind.rego}", tc.ref, 1)
		cips, err := ParsePolicyFile([]byte(text))
		if err == nil {
			_, err = Compile(context.Background(), cips[0], LoadOptions{Compile: compile, SystemNamespace: "signet-system", ConfigMap: tc.get})
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.ref, err, tc.want)
		}
	}
	// The same namespace, named, is accepted; so is an attestation's
	// policy from a ConfigMap.
	att := strings.Replace(keylessCIP("att", "**", gitlabSubject), "        subject: "+gitlabSubject+"\n",
		"        subject: "+gitlabSubject+"\n    attestations:\n    - name: sbom\n      predicateType: cyclonedx\n      policy:\n        type: rego\n        configMapRef: {name: policies, namespace: signet-system, key: kind.rego}\n", 1)
	cips, err := ParsePolicyFile([]byte(att))
	if err != nil {
		t.Fatal(err)
	}
	p, err := Compile(context.Background(), cips[0], LoadOptions{Compile: compile, SystemNamespace: "signet-system", ConfigMap: get})
	if err != nil {
		t.Fatal(err)
	}
	if p.Authorities[0].atts[0].policy == nil {
		t.Error("the attestation's ConfigMap policy was not compiled")
	}
}
