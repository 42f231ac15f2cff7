package engine

import (
	"context"
	"testing"
)

// FuzzCompile: policies come from users and, in the webhook, from cluster
// objects; parsing them must never panic.
func FuzzCompile(f *testing.F) {
	f.Add("package signature\nallow { input.predicateType == \"x\" }\n", "predicate: Data: string\n")
	f.Add("package signature\nimport rego.v1\nallow if { true }\n", "import \"time\"\nbefore: time.Parse(time.RFC3339, \"2049-10-09T17:10:27Z\")\n")
	f.Add("package sigstore\nisCompliant[r] { r := {\"result\": true} }\n", "predicate: {\n")
	f.Fuzz(func(t *testing.T, rego, cue string) {
		ctx := context.Background()
		for _, conv := range []Convention{CosignCLI, PolicyController} {
			if set, err := Compile(ctx, conv, Source{Name: "f.rego", Lang: Rego, Data: []byte(rego)}); err == nil {
				_ = set.Evaluate(ctx, []byte(statement))
			}
			if set, err := Compile(ctx, conv, Source{Name: "f.cue", Lang: CUE, Data: []byte(cue)}); err == nil {
				_ = set.Evaluate(ctx, []byte(statement))
			}
		}
	})
}

// FuzzEvaluate: statements come from registries; any bytes must give a
// pass, a Failure or an error, never a panic.
func FuzzEvaluate(f *testing.F) {
	f.Add([]byte(statement))
	f.Add([]byte(`{"predicate":{"n":1e400}}`))
	f.Add([]byte(`[1,2`))
	ctx := context.Background()
	set, err := Compile(ctx, CosignCLI,
		Source{Name: "p.cue", Lang: CUE, Data: []byte("predicate: Data: string\n")},
		Source{Name: "p.rego", Lang: Rego, Data: []byte("package signature\nallow { input.predicate.Data == \"foobar test attestation\" }\n")})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) { _ = set.Evaluate(ctx, data) })
}
