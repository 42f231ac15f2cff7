package admission

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestManifests(t *testing.T) {
	ca := newCA(t)
	caFile, _ := ca.issue(t, "ca-bundle", 9)
	out, err := Manifests(&ManifestsOptions{Namespace: "sec", CABundle: caFile, Image: "registry.local/signet@sha256:" + strings.Repeat("a", 64), NoMatch: "warn", URL: "https://127.0.0.1:9443/"})
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(out))
	kinds := map[string]map[string]any{}
	crds := map[string]map[string]any{}
	for {
		var doc map[string]any
		if err := dec.Decode(&doc); err != nil {
			break
		}
		kinds[doc["kind"].(string)] = doc
		if doc["kind"] == "CustomResourceDefinition" {
			crds[doc["metadata"].(map[string]any)["name"].(string)] = doc
		}
	}
	if tr := crds["trustroots.policy.sigstore.dev"]; tr == nil || tr["spec"].(map[string]any)["names"].(map[string]any)["kind"] != "TrustRoot" {
		t.Errorf("no TrustRoot CRD: %v", tr)
	}
	kinds["CustomResourceDefinition"] = crds["clusterimagepolicies.policy.sigstore.dev"]
	for _, k := range []string{"CustomResourceDefinition", "Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "Deployment", "Service", "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"} {
		if kinds[k] == nil {
			t.Errorf("no %s in the manifests", k)
		}
	}
	crd := kinds["CustomResourceDefinition"]["spec"].(map[string]any)
	if crd["conversion"].(map[string]any)["strategy"] != "None" || len(crd["versions"].([]any)) != 2 {
		t.Errorf("CRD: %v", crd)
	}
	// ConfigMaps (configMapRef) are readable in signet's namespace only,
	// and serve looks them up there.
	if rules := fmt.Sprint(kinds["ClusterRole"]["rules"]); strings.Contains(rules, "configmaps") {
		t.Errorf("the ClusterRole grants ConfigMaps cluster-wide: %s", rules)
	}
	role := kinds["Role"]
	if md := role["metadata"].(map[string]any); md["namespace"] != "sec" || fmt.Sprint(role["rules"]) != "[map[apiGroups:[] resources:[configmaps] verbs:[get list watch]]]" {
		t.Errorf("Role: %v", role)
	}
	rb := kinds["RoleBinding"]
	if fmt.Sprint(rb["roleRef"]) != "map[apiGroup:rbac.authorization.k8s.io kind:Role name:signet-admission]" ||
		fmt.Sprint(rb["subjects"]) != "[map[kind:ServiceAccount name:signet-admission namespace:sec]]" || rb["metadata"].(map[string]any)["namespace"] != "sec" {
		t.Errorf("RoleBinding: %v", rb)
	}
	if !strings.Contains(string(out), "- --system-namespace=sec\n") {
		t.Error("serve is not told its namespace (--system-namespace)")
	}
	vw := kinds["ValidatingWebhookConfiguration"]["webhooks"].([]any)[0].(map[string]any)
	if vw["failurePolicy"] != "Fail" || vw["timeoutSeconds"] != 25 {
		t.Errorf("validating webhook: %v", vw)
	}
	cc := vw["clientConfig"].(map[string]any)
	if cc["url"] != "https://127.0.0.1:9443/validate" {
		t.Errorf("clientConfig %v", cc)
	}
	if b, _ := base64.StdEncoding.DecodeString(cc["caBundle"].(string)); !strings.Contains(string(b), "BEGIN CERTIFICATE") {
		t.Errorf("caBundle %v", cc["caBundle"])
	}
	sel := vw["namespaceSelector"].(map[string]any)["matchExpressions"].([]any)[0].(map[string]any)
	if sel["key"] != "policy.sigstore.dev/include" || sel["operator"] != "In" {
		t.Errorf("namespaceSelector %v", sel)
	}
	mw := kinds["MutatingWebhookConfiguration"]["webhooks"].([]any)[0].(map[string]any)
	if mw["clientConfig"].(map[string]any)["url"] != "https://127.0.0.1:9443/mutate" || mw["reinvocationPolicy"] != "IfNeeded" {
		t.Errorf("mutating webhook %v", mw)
	}
	if !strings.Contains(string(out), "namespace: sec") || !strings.Contains(string(out), "--no-match-policy=warn") ||
		!strings.Contains(string(out), "{name: GOMEMLIMIT, value: 400MiB}") {
		t.Error("namespace, no-match-policy or GC settings not rendered")
	}

	in, err := Manifests(&ManifestsOptions{Namespace: "sec", CABundle: caFile, Image: "x", NoMatch: "deny"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(in), "service: {namespace: sec, name: signet-admission, port: 443, path: /validate}") {
		t.Error("in-cluster clientConfig missing")
	}
	for _, tc := range []struct {
		o    ManifestsOptions
		want string
	}{
		{ManifestsOptions{Namespace: "sec", NoMatch: "deny", Image: "x"}, "--ca-bundle is required"},
		{ManifestsOptions{Namespace: "sec", CABundle: filepath.Join(t.TempDir(), "none"), NoMatch: "deny", Image: "x"}, "--ca-bundle"},
		{ManifestsOptions{Namespace: "Bad_NS", CABundle: caFile, NoMatch: "deny", Image: "x"}, "--namespace"},
		{ManifestsOptions{Namespace: "sec", CABundle: caFile, NoMatch: "deny", Image: "x", URL: "http://x"}, "--webhook-url"},
		{ManifestsOptions{Namespace: "sec", CABundle: caFile, NoMatch: "deny", Image: "a b"}, "--image"},
	} {
		if _, err := Manifests(&tc.o); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: got %v, want %q", tc.o, err, tc.want)
		}
	}
}
