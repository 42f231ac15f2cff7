//go:build e2e

package e2e

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/signetdev/signet/internal/testing/kube"
)

// TestAdmissionConfigMap: a spec.policy in a ConfigMap of signet's
// namespace (policy.configMapRef), on the real API server, with the
// webhook authenticated as its service account, so the shipped RBAC (a
// Role for ConfigMaps in its own namespace) is what lets it read them.
// The policy judges; editing the ConfigMap flips the next admission; a
// policy naming a key the ConfigMap lacks denies, saying so on its
// status, until the key is added.
func TestAdmissionConfigMap(t *testing.T) {
	img := scratchImage(t, "e2e/cmref/app")
	other := scratchImage(t, "e2e/cmref-key/app")

	f := newAdmissionFixture(t, nil)
	bulkConfigMaps(t, f.cluster)
	f.restartWebhook(t, "--kubeconfig", f.serviceAccountKubeconfig(t, "signet-system", "signet-admission"))
	// The shipped RBAC lets it read ConfigMaps in its namespace only.
	for ns, want := range map[string]string{"signet-system": "yes", enforcedNS: "no"} {
		out, _, _ := f.cluster.TryKubectl("", "auth", "can-i", "watch", "configmaps", "-n", ns, "--as", "system:serviceaccount:signet-system:signet-admission")
		if strings.TrimSpace(out) != want {
			t.Errorf("can the service account watch ConfigMaps in %s: %q, want %s", ns, out, want)
		}
	}
	kindPolicy := func(kind string) string {
		return fmt.Sprintf("package sigstore\n    default isCompliant = false\n    isCompliant { input.typemeta.kind == %q }\n", kind)
	}
	configMap := func(kind, extra string) string {
		return `apiVersion: v1
kind: ConfigMap
metadata:
  name: e2e-policies
  namespace: signet-system
data:
  kind.rego: |
    ` + kindPolicy(kind) + extra
	}
	f.cluster.Apply(t, configMap("Pod", "")+`---
apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata:
  name: e2e-cmref
spec:
  images:
  - glob: "127.0.0.1:*/e2e/cmref/**"
  authorities:
  - name: always
    static: {action: pass}
  policy:
    type: rego
    includeTypeMeta: true
    configMapRef: {name: e2e-policies, key: kind.rego}
---
apiVersion: policy.sigstore.dev/v1alpha1
kind: ClusterImagePolicy
metadata:
  name: e2e-cmref-key
spec:
  images:
  - glob: "127.0.0.1:*/e2e/cmref-key/**"
  authorities:
  - name: always
    static: {action: pass}
  policy:
    type: rego
    configMapRef: {name: e2e-policies, namespace: signet-system, key: later.rego}
`)
	f.podAdmitted(t, img, 60*time.Second)
	wantDenied(t, f.create(t, enforcedNS, deployment(img)), "spec.template.spec.containers[0].image",
		"policy e2e-cmref: spec.policy failed over the authorities that passed (always)")
	wantDenied(t, f.create(t, enforcedNS, pod(other)), "e2e-cmref-key",
		`ConfigMap signet-system/e2e-policies has no key "later.rego" (it has keys "kind.rego")`)
	if st := f.cluster.Kubectl(t, "", "get", "clusterimagepolicy", "e2e-cmref-key", "-o", `jsonpath={.status.conditions[?(@.type=="Ready")].message}`); !strings.Contains(st, `has no key "later.rego"`) {
		t.Errorf("status of e2e-cmref-key: %q", st)
	}

	// The edit reaches the next admission: the Pod admitted a moment ago
	// (its verdict cached) is denied, the Deployment admitted.
	f.cluster.Apply(t, configMap("Deployment", "  later.rego: |\n    package sigstore\n    isCompliant = true\n"))
	res, took := eventually(30*time.Second, func() (kube.Result, bool) {
		r := f.create(t, enforcedNS, pod(img))
		return r, r.Status == http.StatusForbidden
	})
	wantDenied(t, res, "policy e2e-cmref: spec.policy failed")
	t.Logf("the ConfigMap edit reached admission in %v", took.Round(time.Millisecond))
	wantCreated(t, f.create(t, enforcedNS, deployment(img)))
	f.podAdmitted(t, other, 30*time.Second)
	if log, err := os.ReadFile(f.hook.Log); err != nil || strings.Contains(string(log), "ConfigMap watch in namespace") {
		t.Errorf("the ConfigMap list or watch failed (%v); log:\n%s", err, log)
	}
}

// bulkConfigMaps fills signet's namespace with ConfigMaps whose whole
// objects list to more than the webhook reads of a list (32 MiB): 14 of
// 500,000 control bytes, each escaped to six in JSON (3 MB, under the
// API server's request limit). Reading their metadata alone, the webhook
// still follows the policies' ConfigMaps.
func bulkConfigMaps(t *testing.T, c *kube.Cluster) {
	t.Helper()
	data := strings.Repeat("\x01", 500_000)
	for i := range 14 {
		name := fmt.Sprintf("e2e-bulk-%d", i)
		res := c.Create(t, "/api/v1/namespaces/signet-system/configmaps", map[string]any{
			"apiVersion": "v1", "kind": "ConfigMap",
			"metadata": map[string]any{"name": name, "namespace": "signet-system"},
			"data":     map[string]string{"bulk": data},
		})
		if res.Status != http.StatusCreated {
			t.Fatalf("creating ConfigMap %s: %d %s", name, res.Status, res.Message())
		}
		t.Cleanup(func() { c.TryKubectl("", "delete", "configmap", "-n", "signet-system", name, "--wait=false") })
	}
}

// serviceAccountKubeconfig is a kubeconfig authenticating as service
// account ns/name by a client certificate (the API server takes the
// user from CN and the groups from O), so RBAC applies as in the pod.
func (f *admissionFixture) serviceAccountKubeconfig(t *testing.T, ns, name string) string {
	t.Helper()
	leaf, err := f.cluster.CA().ClientCert("system:serviceaccount:"+ns+":"+name, "system:serviceaccounts", "system:serviceaccounts:"+ns)
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.StdEncoding.EncodeToString
	path := filepath.Join(f.dir, "sa-kubeconfig")
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: e2e
  cluster: {server: %s, certificate-authority-data: %s}
users:
- name: sa
  user: {client-certificate-data: %s, client-key-data: %s}
contexts:
- name: e2e
  context: {cluster: e2e, user: sa}
current-context: e2e
`, f.cluster.Server, b64(f.caPEM), b64(leaf.CertPEM), b64(leaf.KeyPEM))
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
