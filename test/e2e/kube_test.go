//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/signetdev/signet/internal/testing/kube"
)

// TestKubeCluster checks the test cluster itself and signet's CRD on it:
// the API server is the pinned version, kubectl reaches it with the
// kubeconfig signet is given, and a ClusterImagePolicy applied as v1beta1
// reads back as both versions (conversion None) over plain HTTPS.
func TestKubeCluster(t *testing.T) {
	c := kube.StartT(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := c.Do(ctx, http.MethodGet, "/version", nil)
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		GitVersion string `json:"gitVersion"`
	}
	if err := json.Unmarshal(res.Body, &v); err != nil || v.GitVersion != kube.KubeVersion {
		t.Errorf("/version: %v %s, want gitVersion %s", err, res.Body, kube.KubeVersion)
	}
	if out := c.Kubectl(t, "", "auth", "can-i", "create", "pods", "--all-namespaces"); strings.TrimSpace(out) != "yes" {
		t.Errorf("the admin kubeconfig cannot create pods: %q", out)
	}

	f := &admissionFixture{cluster: c}
	c.Apply(t, f.crd(t))
	c.Kubectl(t, "", "wait", "--for", "condition=established", "--timeout", "60s", "crd/clusterimagepolicies.policy.sigstore.dev")
	c.Apply(t, `apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata:
  name: gitlab-ci
spec:
  images:
  - glob: "registry.example.com/acme/**"
  authorities:
  - keyless:
      url: https://fulcio.example.com
      identities:
      - issuer: https://gitlab.example.com
        subjectRegExp: "^https://gitlab.example.com/acme/.*"
`)
	for _, version := range []string{"v1alpha1", "v1beta1"} {
		res, err := c.Do(ctx, http.MethodGet, "/apis/policy.sigstore.dev/"+version+"/clusterimagepolicies/gitlab-ci", nil)
		if err != nil {
			t.Fatal(err)
		}
		var cip struct {
			APIVersion string `json:"apiVersion"`
			Spec       struct {
				Authorities []struct {
					Keyless struct {
						Identities []map[string]string `json:"identities"`
					} `json:"keyless"`
				} `json:"authorities"`
			} `json:"spec"`
		}
		if res.Status != http.StatusOK || json.Unmarshal(res.Body, &cip) != nil {
			t.Fatalf("GET the policy as %s: %d %s", version, res.Status, res.Body)
		}
		if cip.APIVersion != "policy.sigstore.dev/"+version || len(cip.Spec.Authorities) != 1 ||
			len(cip.Spec.Authorities[0].Keyless.Identities) != 1 || cip.Spec.Authorities[0].Keyless.Identities[0]["subjectRegExp"] == "" {
			t.Errorf("the policy read as %s lost fields: %s", version, res.Body)
		}
	}
}
