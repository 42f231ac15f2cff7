package admission

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signetdev/signet/pkg/admission"
	"github.com/signetdev/signet/pkg/policy/engine"
)

// TestReviewOneSnapshot: a policy whose spec.policy includes the object
// arriving between decoding a review (which keeps the object only if a
// policy needs it) and judging it must not deny that request with "the
// request's object was not kept": one request is judged by the policies
// it was decoded for.
func TestReviewOneSnapshot(t *testing.T) {
	cip, err := admission.ParsePolicy(staticCIP("late", "**", "pass", "1",
		`,"policy":{"type":"rego","includeTypeMeta":true,"data":"package sigstore\nisCompliant { input.typemeta.kind == \"Pod\" }"}`))
	if err != nil {
		t.Fatal(err)
	}
	late, err := admission.Compile(context.Background(), cip, admission.LoadOptions{Compile: policyCompiler(engine.Local{})})
	if err != nil {
		t.Fatal(err)
	}
	var reads atomic.Int64
	e := &admission.Engine{
		// The policy arrives after the first read of the policies.
		Policies: func() []*admission.Policy {
			if reads.Add(1) == 1 {
				return nil
			}
			return []*admission.Policy{late}
		},
		NoMatch: admission.NoMatchAllow, Workers: 1, Cache: admission.NewCache(10, time.Minute, nil),
	}
	srv := httptest.NewServer((&server{engine: e, ready: func() error { return nil }, timeout: 5 * time.Second, logf: t.Logf}).handler())
	defer srv.Close()
	img := "registry.example/app@sha256:" + strings.Repeat("2", 64)
	resp := post(t, http.DefaultClient, srv.URL+"/validate", podReview("u1", img))
	if !resp.Allowed {
		t.Fatalf("denied by a policy it was not decoded for: %+v", resp.Result)
	}
	if n := reads.Load(); n != 1 {
		t.Errorf("the policies were read %d times for one review, want once", n)
	}
	// The next review sees the policy, with the object kept for it.
	resp = post(t, http.DefaultClient, srv.URL+"/validate", podReview("u2", img))
	if !resp.Allowed {
		t.Fatalf("the next review: %+v", resp.Result)
	}
}
