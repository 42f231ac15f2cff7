//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/signetdev/signet/internal/testing/fakesigstore"
	"github.com/signetdev/signet/internal/testing/kube"
	"github.com/signetdev/signet/internal/testing/stack"
)

// TestAdmissionCluster proves `signet admission serve` against a real
// kube-apiserver: ClusterImagePolicies applied with kubectl and read by
// signet over the API (list + watch), Pods and workloads admitted, mutated
// or refused by the API server on signet's answer, and the failure modes
// an operator meets. The subtests share one cluster and run in order.
func TestAdmissionCluster(t *testing.T) {
	f := newAdmissionFixture(t, stack.Get(t)) // --no-match-policy: the default, deny
	env := f.env
	signer := stack.TokenRequest{ProjectPath: "acme/admission", Ref: "main"}
	impostor := stack.TokenRequest{ProjectPath: "acme/impostor", Ref: "main"}
	reg := env.Registry

	signed := env.PushRandomImageTo(t, reg, "e2e/admission/app")
	f.sign(t, signed, signer)
	unsigned := env.PushRandomImageTo(t, reg, "e2e/admission/unsigned")
	other := env.PushRandomImageTo(t, reg, "e2e/admission/other")
	f.sign(t, other, impostor)
	f.cluster.Apply(t, keylessCIP("e2e-gitlab", reg+"/e2e/admission/**", "enforce", env, signer))

	// The registration and the policy reach the API server and signet a
	// moment after kubectl returns: wait until an unsigned image is
	// refused by this policy, which shows both are in place.
	res, took := eventually(60*time.Second, func() (kube.Result, bool) {
		r := f.create(t, enforcedNS, pod(unsigned))
		return r, r.Status == http.StatusForbidden && strings.Contains(r.Message(), "e2e-gitlab")
	})
	wantDenied(t, res, unsigned, "spec.containers[0].image", "e2e-gitlab")
	t.Logf("webhook and policy in effect after %v", took.Round(time.Millisecond))

	t.Run("signed-pod-admitted", func(t *testing.T) {
		res := f.create(t, enforcedNS, pod(signed))
		wantCreated(t, res)
		if got := podImage(t, res, 0); got != signed {
			t.Errorf("stored image %q, want %q unchanged", got, signed)
		}
	})
	t.Run("unsigned-pod-denied", func(t *testing.T) {
		wantDenied(t, f.create(t, enforcedNS, pod(signed, unsigned)), "spec.containers[1].image", unsigned, "e2e-gitlab")
	})
	t.Run("unsigned-init-container-denied", func(t *testing.T) {
		p := pod(signed)
		// Container names are unique across containers and init containers.
		p["spec"].(map[string]any)["initContainers"] = []any{map[string]any{"name": "init0", "image": unsigned}}
		wantDenied(t, f.create(t, enforcedNS, p), "spec.initContainers[0].image", unsigned)
	})
	t.Run("other-identity-denied", func(t *testing.T) {
		// The message says what was expected and what the certificate holds.
		wantDenied(t, f.create(t, enforcedNS, pod(other)), other, env.Identity(signer), env.Identity(impostor))
	})
	t.Run("tag-mutated-to-digest", func(t *testing.T) {
		tag := reg + "/e2e/admission/app:latest"
		res := f.create(t, enforcedNS, pod(tag))
		wantCreated(t, res)
		if got, want := podImage(t, res, 0), tag+"@"+digestOf(t, signed); got != want {
			t.Errorf("stored image %q, want the tag pinned to its digest %q", got, want)
		}
	})
	t.Run("unlabelled-namespace-not-checked", func(t *testing.T) {
		wantCreated(t, f.create(t, openNS, pod(unsigned)))
	})
	t.Run("deployment-judged-by-pod-template", func(t *testing.T) {
		wantDenied(t, f.create(t, enforcedNS, deployment(unsigned)), "spec.template.spec.containers[0].image", unsigned)
		wantCreated(t, f.create(t, enforcedNS, deployment(signed)))
	})
	t.Run("cronjob-judged-by-pod-template", func(t *testing.T) {
		wantDenied(t, f.create(t, enforcedNS, cronJob(unsigned)), "spec.jobTemplate.spec.template.spec.containers[0].image", unsigned)
		wantCreated(t, f.create(t, enforcedNS, cronJob(signed)))
	})
	t.Run("attestation-policies", func(t *testing.T) { f.attestationPolicies(t, signer) })
	t.Run("trust-roots-from-the-api-server", func(t *testing.T) { f.trustRoots(t, signer) })
	t.Run("warn-mode-admits-with-warning", func(t *testing.T) {
		img := env.PushRandomImageTo(t, reg, "e2e/admission-warn/app")
		f.cluster.Apply(t, keylessCIP("e2e-warn", reg+"/e2e/admission-warn/**", "warn", env, signer))
		res, _ := eventually(30*time.Second, func() (kube.Result, bool) {
			r := f.create(t, enforcedNS, pod(img))
			return r, r.Status == http.StatusCreated && len(r.Warnings) > 0
		})
		wantCreated(t, res)
		if !strings.Contains(strings.Join(res.Warnings, "\n"), img) {
			t.Errorf("warnings %q do not name the image %s", res.Warnings, img)
		}
	})
	t.Run("no-matching-policy-denied", func(t *testing.T) {
		img := env.PushRandomImageTo(t, reg, "e2e/unmatched/app")
		wantDenied(t, f.create(t, enforcedNS, pod(img)), "no matching policies", img)
	})
	t.Run("policy-updated-through-the-api", func(t *testing.T) {
		img := env.PushRandomImageTo(t, reg, "e2e/admission-watch/app")
		f.sign(t, img, signer)
		f.cluster.Apply(t, keylessCIP("e2e-watch", reg+"/e2e/admission-watch/**", "enforce", env, signer))
		f.podAdmitted(t, img, 30*time.Second) // and its pass is now cached
		f.cluster.Apply(t, keylessCIP("e2e-watch", reg+"/e2e/admission-watch/**", "enforce", env, impostor))
		res, took := eventually(30*time.Second, func() (kube.Result, bool) {
			r := f.create(t, enforcedNS, pod(img))
			return r, r.Status == http.StatusForbidden
		})
		wantDenied(t, res, img, env.Identity(impostor))
		t.Logf("the updated policy applied %v after kubectl apply", took.Round(time.Millisecond))
	})
	t.Run("registry-down-denied-within-deadline", func(t *testing.T) {
		proxy := stack.NewFaultProxy(t, reg)
		first := env.PushRandomImageTo(t, proxy.Host, "e2e/proxied/app")
		second := env.PushRandomImageTo(t, proxy.Host, "e2e/proxied/second")
		f.sign(t, first, signer)
		f.sign(t, second, signer)
		f.cluster.Apply(t, keylessCIP("e2e-proxied", "127.0.0.1:*/e2e/proxied/**", "enforce", env, signer))
		f.podAdmitted(t, first, 30*time.Second)
		proxy.Set(stack.Reset)
		start := time.Now()
		res = f.create(t, enforcedNS, pod(second))
		took := time.Since(start)
		wantDenied(t, res, second, proxy.Host)
		if took >= webhookTimeout {
			t.Errorf("denial took %v, not within the webhook's %v", took, webhookTimeout)
		}
		t.Logf("denied in %v: %s", took.Round(time.Millisecond), res.Message())
	})
	t.Run("webhook-down-fails-closed", func(t *testing.T) {
		f.stopWebhook(t)
		res := f.create(t, enforcedNS, pod(signed))
		if res.Status < 500 || !strings.Contains(res.Message(), "failed calling webhook") {
			t.Errorf("with the webhook down: %v; want the API server to refuse (failurePolicy Fail)", res)
		}
		f.startWebhook(t)
		f.podAdmitted(t, signed, 30*time.Second)
	})
	t.Run("no-matching-policy-allowed-or-warned-per-setting", func(t *testing.T) {
		img := env.PushRandomImageTo(t, reg, "e2e/unmatched/other")
		f.restartWebhook(t, "--no-match-policy", "allow")
		wantCreated(t, f.create(t, enforcedNS, pod(img)))
		f.restartWebhook(t, "--no-match-policy", "warn")
		res := f.create(t, enforcedNS, pod(img))
		wantCreated(t, res)
		if !strings.Contains(strings.Join(res.Warnings, "\n"), "no matching policies") {
			t.Errorf("warnings %q, want a no-matching-policies warning", res.Warnings)
		}
		f.restartWebhook(t)
	})
}

// attestationPolicies: CUE and Rego policies, with policy-controller's
// conventions, over a keyless-signed CycloneDX SBOM attestation. Every
// matching policy must pass: the passing CUE and Rego policies match all
// of e2e/att/**, each failing one only its own repository.
func (f *admissionFixture) attestationPolicies(t *testing.T, signer stack.TokenRequest) {
	env, reg := f.env, f.env.Registry
	sbom := writeFile(t, t.TempDir(), "sbom.json", `{"bomFormat":"CycloneDX","specVersion":"1.5","components":[{"name":"openssl","version":"3.0.15"}]}`)
	attest := func(repo string) string {
		img := env.PushRandomImageTo(t, reg, repo)
		signetTool().ok(t, nil, "attest", "--yes", "--identity-token", env.Token(t, signer),
			"--signing-config", env.SigningConfig, "--trusted-root", env.TrustedRoot,
			"--predicate", sbom, "--type", "cyclonedx", img)
		return img
	}
	ok, cueDeny, regoDeny := attest("e2e/att/ok/app"), attest("e2e/att/cue-deny/app"), attest("e2e/att/rego-deny/app")
	warned := attest("e2e/att/rego-warn/app")
	noAtt := env.PushRandomImageTo(t, reg, "e2e/att/ok/bare")
	const cuePass = "predicateType: \"https://cyclonedx.org/bom\"\npredicate: bomFormat: \"CycloneDX\"\n"
	const cueFail = "predicate: bomFormat: \"SPDX\"\n"
	const regoPass = "package sigstore\nimport rego.v1\ndefault isCompliant := false\nisCompliant if {\n  input.predicate.bomFormat == \"CycloneDX\"\n}\n"
	const regoFail = "package sigstore\nimport rego.v1\ndefault isCompliant := false\nisCompliant if {\n  input.predicate.components[0].version == \"1.1.1\"\n}\n"
	// policy-controller's result objects: compliant, but with a warning,
	// which policy-controller counts as the attestation's failure: the
	// enforcing policy denies, naming the warning.
	const regoWarn = "package sigstore\nimport rego.v1\nisCompliant contains r if {\n  input.predicate.specVersion == \"1.5\"\n  r := {\"result\": true, \"error\": \"\", \"warning\": \"CycloneDX 1.5: please move to 1.6\"}\n}\n"
	f.applyUntilCreated(t, ok,
		attestationCIP("e2e-att-cue", reg+"/e2e/att/**", "cue", cuePass, env, signer),
		attestationCIP("e2e-att-rego", reg+"/e2e/att/**", "rego", regoPass, env, signer),
		attestationCIP("e2e-att-cue-deny", reg+"/e2e/att/cue-deny/**", "cue", cueFail, env, signer),
		attestationCIP("e2e-att-rego-deny", reg+"/e2e/att/rego-deny/**", "rego", regoFail, env, signer),
		attestationCIP("e2e-att-rego-warn", reg+"/e2e/att/rego-warn/**", "rego", regoWarn, env, signer))
	wantDenied(t, f.create(t, enforcedNS, pod(cueDeny)), cueDeny, "e2e-att-cue-deny")
	wantDenied(t, f.create(t, enforcedNS, pod(regoDeny)), regoDeny, "e2e-att-rego-deny")
	wantDenied(t, f.create(t, enforcedNS, pod(noAtt)), noAtt, "https://cyclonedx.org/bom")
	wantDenied(t, f.create(t, enforcedNS, pod(warned)), warned, "e2e-att-rego-warn", "policy warning: CycloneDX 1.5: please move to 1.6")
}

// applyUntilCreated applies objs and waits until a Pod of img is admitted:
// then they have reached signet.
func (f *admissionFixture) applyUntilCreated(t *testing.T, img string, objs ...string) {
	t.Helper()
	f.cluster.Apply(t, strings.Join(objs, "---\n"))
	f.podAdmitted(t, img, 30*time.Second)
}

// podAdmitted creates a Pod of img in the enforced namespace until the
// webhook admits it, within timeout: a policy just applied has reached
// signet then.
func (f *admissionFixture) podAdmitted(t *testing.T, img string, timeout time.Duration) {
	t.Helper()
	res, _ := eventually(timeout, func() (kube.Result, bool) {
		r := f.create(t, enforcedNS, pod(img))
		return r, r.Status == http.StatusCreated
	})
	wantCreated(t, res)
}

// trustRoots: TrustRoot objects applied to the API server are what a
// policy's trustRootRef verifies with: the stack's trusted root admits an
// image it signed; another Sigstore instance's denies it.
func (f *admissionFixture) trustRoots(t *testing.T, signer stack.TokenRequest) {
	env, reg := f.env, f.env.Registry
	stackRoot, err := os.ReadFile(env.TrustedRoot)
	if err != nil {
		t.Fatal(err)
	}
	trustRoot := func(name string, trustedRootJSON []byte) string {
		// A JSON string is a YAML double-quoted scalar: kubectl reads one
		// YAML stream.
		quoted, _ := json.Marshal(string(trustedRootJSON))
		return fmt.Sprintf("apiVersion: policy.sigstore.dev/v1alpha1\nkind: TrustRoot\nmetadata:\n  name: %s\nspec:\n  trustedRootJSON: %s\n", name, quoted)
	}
	withRef := func(cip, ref string) string {
		return strings.Replace(cip, "    keyless:\n", "    keyless:\n      trustRootRef: "+ref+"\n", 1)
	}
	ours, theirs := env.PushRandomImageTo(t, reg, "e2e/trustroot/ours/app"), env.PushRandomImageTo(t, reg, "e2e/trustroot/theirs/app")
	f.sign(t, ours, signer)
	f.sign(t, theirs, signer)
	f.applyUntilCreated(t, ours,
		trustRoot("e2e-stack", stackRoot),
		trustRoot("e2e-elsewhere", fakesigstore.New(t).TrustedRootJSON(t)),
		withRef(keylessCIP("e2e-trustroot-ours", reg+"/e2e/trustroot/ours/**", "enforce", env, signer), "e2e-stack"),
		withRef(keylessCIP("e2e-trustroot-theirs", reg+"/e2e/trustroot/theirs/**", "enforce", env, signer), "e2e-elsewhere"))
	wantDenied(t, f.create(t, enforcedNS, pod(theirs)), theirs, "e2e-trustroot-theirs")
}

// attestationCIP requires an attestation of the CycloneDX predicate type
// by req's identity that passes a CUE or Rego policy.
func attestationCIP(name, glob, lang, policy string, env *stack.Env, req stack.TokenRequest) string {
	indented := "          " + strings.ReplaceAll(strings.TrimSuffix(policy, "\n"), "\n", "\n          ")
	return keylessCIP(name, glob, "enforce", env, req) + fmt.Sprintf(`    attestations:
    - name: sbom
      predicateType: https://cyclonedx.org/bom
      policy:
        type: %s
        data: |
%s
`, lang, indented)
}

// sign signs ref keylessly with signet and a token for req, through the
// stack's Fulcio, transparency log and registry.
func (f *admissionFixture) sign(t *testing.T, ref string, req stack.TokenRequest) {
	t.Helper()
	signetTool().ok(t, nil, "sign", "--yes", "--identity-token", f.env.Token(t, req),
		"--signing-config", f.env.SigningConfig, "--trusted-root", f.env.TrustedRoot, ref)
}

// keylessCIP is a ClusterImagePolicy, as policy-controller users write
// it, requiring a keyless signature by req's GitLab CI identity.
func keylessCIP(name, glob, mode string, env *stack.Env, req stack.TokenRequest) string {
	return fmt.Sprintf(`apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata:
  name: %s
spec:
  mode: %s
  images:
  - glob: %q
  authorities:
  - name: gitlab-ci
    keyless:
      url: %s
      identities:
      - issuer: %s
        subject: %q
`, name, mode, glob, env.FulcioURL, env.OIDCIssuer, env.Identity(req))
}

func wantCreated(t *testing.T, res kube.Result) {
	t.Helper()
	if res.Status != http.StatusCreated {
		t.Errorf("got %v, want 201 Created", res)
	}
}

// wantDenied checks the API server refused the object on the webhook's
// answer and that the message holds every part.
func wantDenied(t *testing.T, res kube.Result, parts ...string) {
	t.Helper()
	msg := res.Message()
	if res.Status != http.StatusForbidden || !strings.Contains(msg, "denied the request") {
		t.Errorf("got %v, want 403 with the webhook's denial", res)
		return
	}
	for _, p := range parts {
		if !strings.Contains(msg, p) {
			t.Errorf("denial does not name %q:\n%s", p, msg)
		}
	}
}

// podImage is the image of container i of the Pod the API server stored.
func podImage(t *testing.T, res kube.Result, i int) string {
	t.Helper()
	var p struct {
		Spec struct {
			Containers []struct {
				Image string `json:"image"`
			} `json:"containers"`
		} `json:"spec"`
	}
	if err := json.Unmarshal(res.Body, &p); err != nil || len(p.Spec.Containers) <= i {
		t.Fatalf("response is not a Pod with %d containers: %v\n%s", i+1, err, res.Body)
	}
	return p.Spec.Containers[i].Image
}
