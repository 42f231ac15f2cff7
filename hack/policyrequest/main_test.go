package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/signetdev/signet/pkg/policy"
	"github.com/signetdev/signet/pkg/policy/engine"
)

// TestRequestsServe: what the bench feeds signet-policy is answered as
// the bench expects, under the protocol of this build; a statement that
// fails the policy is reported, not taken for a pass.
func TestRequestsServe(t *testing.T) {
	st := []byte(`{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://cyclonedx.org/bom","subject":[],"predicate":{"components":[{"name":"a"}]}}`)
	for _, tc := range []struct {
		src  policy.Source
		want string
	}{
		{policy.Source{Name: "ok.cue", Lang: policy.CUE, Data: []byte(`predicate: components: [...{name: !="log4j-core"}]`)}, ""},
		{policy.Source{Name: "ok.rego", Lang: policy.Rego, Data: []byte("package signature\nallow { input.predicate.components[_].name == \"a\" }\n")}, ""},
		{policy.Source{Name: "bad.cue", Lang: policy.CUE, Data: []byte(`predicate: components: [...{name: "b"}]`)}, "failed the policy"},
		{policy.Source{Name: "syntax.cue", Lang: policy.CUE, Data: []byte(`predicate: {`)}, "compile"},
	} {
		var req, answers bytes.Buffer
		if err := writeRequests(&req, tc.src, st); err != nil {
			t.Fatal(err)
		}
		if err := engine.Serve(context.Background(), &req, &answers); err != nil {
			t.Fatalf("%s: %v", tc.src.Name, err)
		}
		err := checkAnswers(&answers)
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: %v, want %q", tc.src.Name, err, tc.want)
		}
	}
}
