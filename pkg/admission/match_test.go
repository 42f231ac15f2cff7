package admission

import (
	"context"
	"strings"
	"testing"
)

func TestLabelSelector(t *testing.T) {
	labels := map[string]string{"team": "a", "tier": "web"}
	for _, tc := range []struct {
		name string
		sel  LabelSelector
		want bool
	}{
		{"empty selects everything", LabelSelector{}, true},
		{"matchLabels", LabelSelector{MatchLabels: map[string]string{"team": "a"}}, true},
		{"matchLabels other value", LabelSelector{MatchLabels: map[string]string{"team": "b"}}, false},
		{"matchLabels missing key", LabelSelector{MatchLabels: map[string]string{"env": "prod"}}, false},
		{"In", LabelSelector{MatchExpressions: []LabelSelectorRequirement{{Key: "tier", Operator: "In", Values: []string{"db", "web"}}}}, true},
		{"In missing key", LabelSelector{MatchExpressions: []LabelSelectorRequirement{{Key: "env", Operator: "In", Values: []string{"x"}}}}, false},
		{"NotIn", LabelSelector{MatchExpressions: []LabelSelectorRequirement{{Key: "tier", Operator: "NotIn", Values: []string{"web"}}}}, false},
		{"NotIn missing key", LabelSelector{MatchExpressions: []LabelSelectorRequirement{{Key: "env", Operator: "NotIn", Values: []string{"x"}}}}, true},
		{"Exists", LabelSelector{MatchExpressions: []LabelSelectorRequirement{{Key: "team", Operator: "Exists"}}}, true},
		{"DoesNotExist", LabelSelector{MatchExpressions: []LabelSelectorRequirement{{Key: "team", Operator: "DoesNotExist"}}}, false},
		{"all must hold", LabelSelector{MatchLabels: map[string]string{"team": "a"}, MatchExpressions: []LabelSelectorRequirement{{Key: "tier", Operator: "In", Values: []string{"db"}}}}, false},
	} {
		if got := tc.sel.matches(labels); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestMatch: spec.match limits a policy to resources (and labels); a
// policy it leaves out is named in the no-match denial.
func TestMatch(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.policy(`apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata: {name: pods-only}
spec:
  images: [{glob: "ghcr.io/acme/**"}]
  authorities: [{static: {action: pass}}]
  match: [{version: v1, resource: pods}]
---
apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata: {name: team-b-blocked}
spec:
  images: [{glob: "ghcr.io/acme/**"}]
  authorities: [{static: {action: fail, message: "team b may not deploy"}}]
  match:
  - group: apps
    version: "*"
    resource: deployments
    selector:
      matchLabels: {team: b}
`, LoadOptions{})
	img := "ghcr.io/acme/app@sha256:" + strings.Repeat("c", 64)
	deploy := func(labels map[string]string) Workload {
		d := pod(img)
		d.Resource = GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
		d.Labels = labels
		return d
	}
	if d := w.e.Validate(ctx, "ns", pod(img)); !d.Allowed {
		t.Errorf("pod: %s", d.Message)
	}
	d := w.e.Validate(ctx, "ns", deploy(map[string]string{"team": "a"}))
	if d.Allowed {
		t.Fatal("a deployment no policy selects was admitted under --no-match-policy deny")
	}
	mustContain(t, d.Message, "no matching policies: spec.containers[0].image", "policy pods-only matches the image, but its spec.match selects only v1/pods",
		"policy team-b-blocked matches the image, but its spec.match selects only apps/*/deployments")
	d = w.e.Validate(ctx, "ns", deploy(map[string]string{"team": "b"}))
	if d.Allowed {
		t.Fatal("team b's deployment was admitted")
	}
	mustContain(t, d.Message, "policy team-b-blocked", "team b may not deploy")
	if strings.Contains(d.Message, "pods-only") {
		t.Errorf("a policy for pods judged a deployment: %s", d.Message)
	}
}

// TestReadWorkloadSelection: spec.match sees the request's resource and
// the object's own labels (a Deployment's, not its pod template's).
func TestReadWorkloadSelection(t *testing.T) {
	req := review(t, "CREATE", "apps", "Deployment", "",
		`{"metadata":{"labels":{"team":"a"}},"spec":{"template":{"metadata":{"labels":{"team":"t"}},"spec":{"containers":[{"image":"x"}]}}}}`, "")
	req.Resource = GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	w, skip, err := ReadWorkload(req)
	if err != nil || skip {
		t.Fatalf("skip %v, %v", skip, err)
	}
	if w.Resource != req.Resource || w.Labels["team"] != "a" {
		t.Errorf("resource %+v labels %v", w.Resource, w.Labels)
	}
	// A review without a resource (hand-made) gets the kind's plural.
	req.Resource = GroupVersionResource{}
	w, _, _ = ReadWorkload(req)
	if want := (GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}); w.Resource != want {
		t.Errorf("derived resource %+v, want %+v", w.Resource, want)
	}
}
