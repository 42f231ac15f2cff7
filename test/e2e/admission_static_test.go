//go:build e2e

package e2e

import (
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"

	"github.com/signetdev/signet/internal/testing/kube"
	"github.com/signetdev/signet/internal/testing/stack"
)

// TestAdmissionStatic: `static` policies on the real API server. They need
// no Sigstore stack, and a pass must make no registry call at all (a
// policy-controller complaint, #1863): the passing image lives on a
// registry that is shut down before the request.
func TestAdmissionStatic(t *testing.T) {
	host := scratchRegistry(t)
	gone := httptest.NewServer(http.NotFoundHandler())
	goneHost := strings.TrimPrefix(gone.URL, "http://")
	gone.Close()
	denied := (&stack.Env{}).PushRandomImageTo(t, host, "e2e/static-fail/app")
	passed := goneHost + "/e2e/static-pass/app@" + digestOf(t, denied)

	f := newAdmissionFixture(t, nil)
	f.cluster.Apply(t, `apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata:
  name: e2e-static-fail
spec:
  images:
  - glob: "127.0.0.1:*/e2e/static-fail/**"
  authorities:
  - static: {action: fail, message: "frozen: no deploys today"}
---
apiVersion: policy.sigstore.dev/v1alpha1
kind: ClusterImagePolicy
metadata:
  name: e2e-static-pass
spec:
  images:
  - glob: "127.0.0.1:*/e2e/static-pass/**"
  authorities:
  - static: {action: pass}
`)
	res, _ := eventually(60*time.Second, func() (kube.Result, bool) {
		r := f.create(t, enforcedNS, pod(denied))
		return r, r.Status == http.StatusForbidden && strings.Contains(r.Message(), "e2e-static-fail")
	})
	wantDenied(t, res, "spec.containers[0].image", denied, "e2e-static-fail", "frozen: no deploys today")
	f.podAdmitted(t, passed, 30*time.Second)
	// The mutating webhook resolves a tag through the registry, so the
	// tag's digest comes from the live one.
	tag := host + "/e2e/static-fail/app:latest"
	wantDenied(t, f.create(t, enforcedNS, pod(tag)), tag+"@"+digestOf(t, denied), "frozen")
}

// scratchRegistry is an in-process registry on loopback for tests that
// need no Sigstore stack; its host:port.
func scratchRegistry(t *testing.T) string {
	live := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(live.Close)
	return strings.TrimPrefix(live.URL, "http://")
}

// scratchImage pushes a random image to a scratch registry; the image by
// digest.
func scratchImage(t *testing.T, repo string) string {
	host := scratchRegistry(t)
	pushed := (&stack.Env{}).PushRandomImageTo(t, host, repo)
	return host + "/" + repo + "@" + digestOf(t, pushed)
}
