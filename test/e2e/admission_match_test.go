//go:build e2e

package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/signetdev/signet/internal/testing/kube"
)

// TestAdmissionMatch: spec.match on the real API server, which names the
// request's resource. Static policies, so no Sigstore stack: a policy for
// Pods passes, one for Deployments labelled team=b fails, and a
// Deployment neither selects is denied by the default no-match policy
// with a message naming the policies that left it out.
func TestAdmissionMatch(t *testing.T) {
	img := scratchImage(t, "e2e/match/app")

	f := newAdmissionFixture(t, nil)
	f.cluster.Apply(t, `apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata:
  name: e2e-match-pods
spec:
  images:
  - glob: "127.0.0.1:*/e2e/match/**"
  authorities:
  - static: {action: pass}
  match:
  - version: v1
    resource: pods
---
apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata:
  name: e2e-match-team-b
spec:
  images:
  - glob: "127.0.0.1:*/e2e/match/**"
  authorities:
  - static: {action: fail, message: "team b is frozen"}
  match:
  - group: apps
    version: "*"
    resource: deployments
    selector:
      matchExpressions:
      - {key: team, operator: In, values: [b]}
`)
	f.podAdmitted(t, img, 60*time.Second)

	teamB := deployment(img)
	teamB["metadata"].(map[string]any)["labels"] = map[string]any{"team": "b"}
	res, _ := eventually(30*time.Second, func() (kube.Result, bool) {
		r := f.create(t, enforcedNS, teamB)
		return r, r.Status == http.StatusForbidden && strings.Contains(r.Message(), "team b is frozen")
	})
	wantDenied(t, res, "spec.template.spec.containers[0].image", "e2e-match-team-b", "team b is frozen")
	if strings.Contains(res.Message(), "e2e-match-pods") {
		t.Errorf("the Pods-only policy judged a Deployment: %s", res.Message())
	}

	teamA := deployment(img)
	teamA["metadata"].(map[string]any)["labels"] = map[string]any{"team": "a"}
	wantDenied(t, f.create(t, enforcedNS, teamA), "no matching policies: spec.template.spec.containers[0].image",
		"policy e2e-match-pods matches the image, but its spec.match selects only v1/pods",
		"policy e2e-match-team-b matches the image, but its spec.match selects only apps/*/deployments")
}

// TestAdmissionCIPPolicy: a CIP-level spec.policy (Rego, run by the
// signet-policy beside the webhook) over the authorities' results and the
// object's type: a Pod passes, a Deployment of the same image does not.
func TestAdmissionCIPPolicy(t *testing.T) {
	img := scratchImage(t, "e2e/cippolicy/app")

	f := newAdmissionFixture(t, nil)
	f.cluster.Apply(t, `apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata:
  name: e2e-cip-policy
spec:
  images:
  - glob: "127.0.0.1:*/e2e/cippolicy/**"
  authorities:
  - name: always
    static: {action: pass}
  policy:
    type: rego
    includeTypeMeta: true
    data: |
      package sigstore
      default isCompliant = false
      isCompliant {
        input.authorityMatches.always.static
        input.typemeta.kind == "Pod"
      }
`)
	f.podAdmitted(t, img, 60*time.Second)
	wantDenied(t, f.create(t, enforcedNS, deployment(img)), "spec.template.spec.containers[0].image",
		"policy e2e-cip-policy: spec.policy failed over the authorities that passed (always)")
}
