package admission

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

func review(t *testing.T, op, group, kind, sub, obj, old string) *Request {
	t.Helper()
	r := &Request{UID: "u", Operation: op, Kind: GroupVersionKind{Group: group, Version: "v1", Kind: kind}, SubResource: sub}
	if obj != "" {
		r.Object = json.RawMessage(obj)
	}
	if old != "" {
		r.OldObject = json.RawMessage(old)
	}
	return r
}

func TestImages(t *testing.T) {
	podObj := `{"metadata":{"name":"p"},"spec":{"initContainers":[{"image":"init"}],"containers":[{"image":"a"},{"image":"b"}],"ephemeralContainers":[{"image":"dbg"}],"volumes":[{"name":"v","image":{"reference":"vol"}},{"name":"e"}]}}`
	deploy := func(replicas int, image string) string {
		return `{"spec":{"replicas":` + itoa(replicas) + `,"template":{"spec":{"containers":[{"image":"` + image + `"}]}}}}`
	}
	cron := `{"spec":{"jobTemplate":{"spec":{"template":{"spec":{"containers":[{"image":"c"}]}}}}}}`
	for _, tc := range []struct {
		name string
		req  *Request
		want string // path=image, comma separated; "skip"
	}{
		{"pod", review(t, "CREATE", "", "Pod", "", podObj, ""), "spec.initContainers[0].image=init,spec.containers[0].image=a,spec.containers[1].image=b,spec.ephemeralContainers[0].image=dbg,spec.volumes[0].image.reference=vol"},
		{"ephemeral subresource", review(t, "UPDATE", "", "Pod", "ephemeralcontainers", podObj, podObj), "spec.initContainers[0].image=init,spec.containers[0].image=a,spec.containers[1].image=b,spec.ephemeralContainers[0].image=dbg,spec.volumes[0].image.reference=vol"},
		{"status", review(t, "UPDATE", "", "Pod", "status", podObj, podObj), "skip"},
		{"delete", review(t, "DELETE", "", "Pod", "", "", podObj), "skip"},
		{"being deleted", review(t, "UPDATE", "", "Pod", "", `{"metadata":{"deletionTimestamp":"2026-01-01T00:00:00Z"},"spec":{"containers":[{"image":"a"}]}}`, podObj), "skip"},
		{"deployment", review(t, "CREATE", "apps", "Deployment", "", deploy(3, "d"), ""), "spec.template.spec.containers[0].image=d"},
		{"scale down", review(t, "UPDATE", "apps", "Deployment", "", deploy(1, "d"), deploy(3, "d")), "skip"},
		{"scale down with a new image", review(t, "UPDATE", "apps", "Deployment", "", deploy(1, "e"), deploy(3, "d")), "spec.template.spec.containers[0].image=e"},
		{"scale up", review(t, "UPDATE", "apps", "StatefulSet", "", deploy(4, "d"), deploy(3, "d")), "spec.template.spec.containers[0].image=d"},
		{"cronjob", review(t, "CREATE", "batch", "CronJob", "", cron, ""), "spec.jobTemplate.spec.template.spec.containers[0].image=c"},
		{"configmap", review(t, "CREATE", "", "ConfigMap", "", `{}`, ""), "skip"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, skip, err := ReadWorkload(tc.req)
			imgs := w.Images
			if err != nil {
				t.Fatal(err)
			}
			got := "skip"
			if !skip {
				var parts []string
				for _, i := range imgs {
					parts = append(parts, i.Path+"="+i.Image)
				}
				got = strings.Join(parts, ",")
			}
			if got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
	w, _, _ := ReadWorkload(review(t, "CREATE", "batch", "CronJob", "", cron, ""))
	if imgs := w.Images; imgs[0].Pointer != "/spec/jobTemplate/spec/template/spec/containers/0/image" {
		t.Errorf("pointer %s", imgs[0].Pointer)
	}
	if _, _, err := ReadWorkload(review(t, "CREATE", "", "Pod", "", `{"spec":[]}`, "")); err == nil {
		t.Error("a malformed pod was accepted")
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestReview(t *testing.T) {
	rv, err := DecodeReview(strings.NewReader(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"x","operation":"CREATE"}}`), MaxReviewSize, false)
	if err != nil || rv.Request.UID != "x" {
		t.Fatal(rv, err)
	}
	for _, bad := range []string{`{}`, `{"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","request":{"uid":"x"}}`, `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}`, `[`} {
		if _, err := DecodeReview(strings.NewReader(bad), MaxReviewSize, false); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	if _, err := DecodeReview(strings.NewReader(strings.Repeat(" ", 100)), 10, false); err == nil || !strings.Contains(err.Error(), "size limit") {
		t.Errorf("oversized review: %v", err)
	}
	out, _ := json.Marshal(Answer(rv.Request, Deny("no", []string{"w"})))
	want := `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"x","allowed":false,"status":{"status":"Failure","message":"no","reason":"Forbidden","code":403},"warnings":["w"]}}`
	if string(out) != want {
		t.Errorf("got  %s\nwant %s", out, want)
	}
}

func TestGlob(t *testing.T) {
	for _, tc := range []struct {
		glob, image string
		want        bool
	}{
		{"ghcr.io/acme/*", "ghcr.io/acme/app@sha256:" + strings.Repeat("a", 64), true},
		{"ghcr.io/acme/*", "ghcr.io/acme/team/app@sha256:" + strings.Repeat("a", 64), false},
		{"ghcr.io/acme/**", "ghcr.io/acme/team/app:v1", true},
		{"*", "busybox", true},
		{"*", "index.docker.io/library/busybox:latest", true},
		{"*", "acme/app", false},
		{"*/*", "acme/app", true},
		{"index.docker.io/library/busybox:*", "busybox:1.36", true},
		{"busybox", "busybox", true},
		{"registry.local/app", "registry.local/app2", false},
		{"**", "anything/at/all:v1", true},
	} {
		g, err := compileGlob(tc.glob)
		if err != nil {
			t.Fatal(err)
		}
		if got := g.match(tc.image); got != tc.want {
			t.Errorf("glob %q image %q: %v, want %v", tc.glob, tc.image, got, tc.want)
		}
	}
	if _, err := compileGlob("ghcr.io/(a|b)"); err == nil {
		t.Error("a regexp glob was accepted")
	}
}

func TestCompileRefuses(t *testing.T) {
	base := `{"apiVersion":"policy.sigstore.dev/v1beta1","kind":"ClusterImagePolicy","metadata":{"name":"p"},"spec":%s}`
	for _, tc := range []struct{ spec, want string }{
		{`{"images":[{"glob":"**"}],"authorities":[{"static":{"action":"pass"}}],"policy":{"type":"cue","data":"x"}}`, "spec.policy: CUE/Rego policies are not available"},
		{`{"images":[{"glob":"**"}],"authorities":[{"static":{"action":"pass"}}],"match":[{"resource":"pods"}]}`, "spec.match[0]: version is required"},
		{`{"images":[{"glob":"**"}],"authorities":[{"static":{"action":"pass"}}],"match":[{"version":"v1","resource":"pod"}]}`, `spec.match[0]: resource "pod" in group "" is not a workload signet judges`},
		{`{"images":[{"glob":"**"}],"authorities":[{"static":{"action":"pass"}}],"match":[{"version":"v1","resource":"daemonsets"}]}`, `resource "daemonsets" in group ""`},
		{`{"images":[{"glob":"**"}],"authorities":[{"static":{"action":"pass"}}],"match":[{"version":"v1","resource":"pods","selector":{"matchExpressions":[{"key":"a","operator":"In"}]}}]}`, "spec.match[0]: selector.matchExpressions[0]: operator In needs values"},
		{`{"images":[{"glob":"**"}],"authorities":[{"static":{"action":"pass"}}],"match":[{"version":"v1","resource":"pods","selector":{"matchExpressions":[{"key":"a","operator":"Exists","values":["x"]}]}}]}`, "operator Exists takes no values"},
		{`{"images":[{"glob":"**"}],"authorities":[{"static":{"action":"pass"}}],"match":[{"version":"v1","resource":"pods","selector":{"matchExpressions":[{"key":"a","operator":"Gt","values":["1"]}]}}]}`, `operator "Gt": want In, NotIn, Exists or DoesNotExist`},
		{`{"images":[{"glob":"**"}],"authorities":[{"static":{"action":"pass"}}],"match":[{"version":"v1","resource":"pods","selector":{"matchLabels":{"a":"b"},"nodeSelector":{}}}]}`, "nodeSelector"},
		{`{"images":[{"glob":"**"}],"authorities":[{"static":{"action":"pass"}}],"mode":"audit"}`, `spec.mode "audit"`},
		{`{"images":[{"glob":"**"}],"authorities":[]}`, "at least one authority"},
		{`{"images":[],"authorities":[{"static":{"action":"pass"}}]}`, "at least one glob"},
		{`{"images":[{"glob":"**"}],"authorities":[{"static":{"action":"maybe"}}]}`, `static.action "maybe"`},
		{`{"images":[{"glob":"**"}],"authorities":[{"keyless":{"identities":[]}}]}`, "at least one identity"},
		{`{"images":[{"glob":"**"}],"authorities":[{"keyless":{"identities":[{"issuer":"x"}]}}]}`, "both an issuer"},
		{`{"images":[{"glob":"**"}],"authorities":[{"keyless":{"identities":[{"issuer":"x","subject":"a","subjectRegExp":"b"}]}}]}`, "mutually exclusive"},
		{`{"images":[{"glob":"**"}],"authorities":[{"keyless":{"trustRootRef":"corp","identities":[{"issuer":"x","subject":"a"}]}}]}`, `trustRootRef "corp": no such trust root`},
		{`{"images":[{"glob":"**"}],"authorities":[{"key":{"secretRef":{"name":"k"}}}]}`, "key.secretRef: secrets are read from the API server"},
		{`{"images":[{"glob":"**"}],"authorities":[{"key":{"data":"x","hashAlgorithm":"sha512"}}]}`, `hashAlgorithm "sha512"`},
		{`{"images":[{"glob":"**"}],"authorities":[{"keyless":{"identities":[{"issuer":"x","subject":"a"}]},"source":[{"tagPrefix":"-p"}]}]}`, `tagPrefix "-p": -psha256-`},
		{`{"images":[{"glob":"**"}],"authorities":[{"keyless":{"identities":[{"issuer":"x","subject":"a"}]},"source":[{"tagPrefix":"` + strings.Repeat("p", 54) + `"}]}]}`, "at most 128 characters"},
		{`{"images":[{"glob":"**"}],"authorities":[{"keyless":{"identities":[{"issuer":"x","subject":"a"}]},"attestations":[{"name":"a","predicateType":"custom","policy":{"type":"cue","data":"x"}}]}]}`, "CUE/Rego policies are not available"},
		{`{"images":[{"glob":"**"}],"authorities":[{"keyless":{"identities":[{"issuer":"x","subject":"a"}]},"attestations":[{"name":"a","predicateType":"custom","policy":{"type":"cue","remote":{"url":"u"}}}]}]}`, "policy.remote: sha256sum is required"},
		{`{"images":[{"glob":"**"}],"authorities":[{"static":{"action":"pass"},"unknownField":1}]}`, `unknown field "unknownField"`},
		{`{"images":[{"glob":"**"}],"authorities":[{"static":{"action":"pass"}}],"mode":"warn"}`, ""},
	} {
		p, err := ParsePolicy([]byte(strings.Replace(base, "%s", tc.spec, 1)))
		if err == nil {
			_, err = Compile(context.Background(), p, LoadOptions{})
		}
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.spec, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: got %v, want %q", tc.spec, err, tc.want)
		case err != nil && !strings.HasPrefix(err.Error(), "ClusterImagePolicy p: "):
			t.Errorf("error does not name the policy: %v", err)
		}
	}
	ann := `{"apiVersion":"policy.sigstore.dev/v1alpha1","kind":"ClusterImagePolicy","metadata":{"name":"p","annotations":{"` + IdentityExtensionsAnnotation + `":%s}},"spec":{"images":[{"glob":"**"}],"authorities":[{"name":"ci","keyless":{"identities":[{"issuer":"x","subject":"a"}]}}]}}`
	for _, tc := range []struct{ v, want string }{
		{`"{\"ci\":{\"no-such-claim\":\"x\"}}"`, `unknown claim "no-such-claim"`},
		{`"{\"other\":{\"source-repository-ref\":\"x\"}}"`, `names authority "other"`},
		{`"not json"`, "want a JSON object"},
		{`"{\"ci\":{\"source-repository-ref-regexp\":\"^refs/tags/\"}}"`, ""},
	} {
		p, err := ParsePolicy([]byte(strings.Replace(ann, "%s", tc.v, 1)))
		if err == nil {
			_, err = Compile(context.Background(), p, LoadOptions{})
		}
		if (tc.want == "" && err != nil) || (tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want))) {
			t.Errorf("%s: got %v, want %q", tc.v, err, tc.want)
		}
	}
}

func TestParsePolicyFile(t *testing.T) {
	ps, err := ParsePolicyFile([]byte(`apiVersion: v1
kind: List
items:
- apiVersion: policy.sigstore.dev/v1alpha1
  kind: ClusterImagePolicy
  metadata: {name: a}
  spec: {images: [{glob: "**"}], authorities: [{static: {action: pass}}]}
---
apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata: {name: b}
spec: {images: [{glob: "**"}], authorities: [{static: {action: fail}}]}
`))
	if err != nil || len(ps) != 2 || ps[0].Metadata.Name != "a" || ps[1].Metadata.Name != "b" {
		t.Fatal(ps, err)
	}
	for _, bad := range []string{"", "kind: ConfigMap\napiVersion: v1\nmetadata: {name: x}\nspec: {}\n", "apiVersion: policy.sigstore.dev/v2\nkind: ClusterImagePolicy\nmetadata: {name: x}\nspec: {}\n", ": :"} {
		if _, err := ParsePolicyFile([]byte(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
