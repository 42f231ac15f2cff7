package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
)

// sbomStatement builds a CycloneDX statement of about size bytes: the
// shape syft writes, components with purls, licenses and properties.
func sbomStatement(size int) []byte {
	type comp struct {
		Type       string              `json:"type"`
		Name       string              `json:"name"`
		Version    string              `json:"version"`
		Purl       string              `json:"purl"`
		Licenses   []map[string]any    `json:"licenses"`
		Properties []map[string]string `json:"properties"`
	}
	var comps []comp
	n := 0
	for i := 0; n < size; i++ {
		c := comp{Type: "library", Name: fmt.Sprintf("pkg-%d", i), Version: fmt.Sprintf("1.%d.0", i%97),
			Purl:     fmt.Sprintf("pkg:golang/example.com/pkg-%d@v1.%d.0", i, i%97),
			Licenses: []map[string]any{{"license": map[string]string{"id": "Apache-2.0"}}},
			Properties: []map[string]string{{"name": "syft:package:foundBy", "value": "go-module-binary-cataloger"},
				{"name": "syft:location:0:path", "value": fmt.Sprintf("/usr/local/bin/tool-%d", i)}}}
		comps = append(comps, c)
		n += 330
	}
	st := map[string]any{
		"_type": "https://in-toto.io/Statement/v0.1", "predicateType": "https://cyclonedx.org/bom",
		"subject": []map[string]any{{"name": "registry.local/app", "digest": map[string]string{"sha256": "4d2e2b8b7b1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5"}}},
		"predicate": map[string]any{"bomFormat": "CycloneDX", "specVersion": "1.6",
			"metadata":   map[string]any{"tools": map[string]any{"components": []map[string]string{{"type": "application", "author": "anchore", "name": "syft", "version": "1.57.1"}}}},
			"components": comps},
	}
	b, _ := json.Marshal(st)
	return b
}

// BenchmarkEvaluateSBOM: a CUE and a Rego policy over a 5 MB SBOM
// statement, the budget (≤ 0.5 s, ≤ 200 MiB; make bench reports
// it as a process, this is the per-call cost).
func BenchmarkEvaluateSBOM(b *testing.B) {
	st := sbomStatement(5 << 20)
	ctx := context.Background()
	for _, tc := range []Source{
		{Name: "sbom.cue", Lang: CUE, Data: []byte("predicateType: \"https://cyclonedx.org/bom\"\npredicate: metadata: tools: components: [...{name: string}]\npredicate: components: [...{name: !=\"log4j-core\"}]\n")},
		{Name: "sbom.rego", Lang: Rego, Data: []byte("package signature\n\nimport rego.v1\n\nallow if {\n\tinput.predicate.metadata.tools.components[_].name == \"syft\"\n\tnot forbidden\n}\n\nforbidden if input.predicate.components[_].name == \"log4j-core\"\n")},
	} {
		b.Run(string(tc.Lang), func(b *testing.B) {
			set, err := Compile(ctx, CosignCLI, tc)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(st)))
			b.ReportAllocs()
			for b.Loop() {
				if err := set.Evaluate(ctx, st); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
