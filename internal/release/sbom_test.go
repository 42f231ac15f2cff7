package release

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestMergeBOMs(t *testing.T) {
	signet := `{"bomFormat":"CycloneDX","specVersion":"1.5","metadata":{"component":{"bom-ref":"pkg:golang/signet","type":"application","name":"signet"}},
		"components":[{"bom-ref":"pkg:golang/cobra@v1","name":"cobra"},{"bom-ref":"pkg:golang/sigstore-go@v1","name":"sigstore-go"}],
		"dependencies":[{"ref":"pkg:golang/signet","dependsOn":["pkg:golang/sigstore-go@v1","pkg:golang/cobra@v1"]}]}`
	engine := `{"bomFormat":"CycloneDX","specVersion":"1.5","metadata":{"component":{"bom-ref":"pkg:golang/signet-policy","type":"application","name":"signet-policy"}},
		"components":[{"bom-ref":"pkg:golang/cue@v0.16.1","name":"cue"},{"bom-ref":"pkg:golang/sigstore-go@v1","name":"sigstore-go"}],
		"dependencies":[{"ref":"pkg:golang/signet-policy","dependsOn":["pkg:golang/cue@v0.16.1"]},{"ref":"pkg:golang/signet","dependsOn":["pkg:golang/cue@v0.16.1"]}]}`
	got, err := MergeBOMs([][]byte{[]byte(signet), []byte(engine)})
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Metadata struct {
			Component struct{ Name string } `json:"component"`
		} `json:"metadata"`
		Components []struct {
			Ref string `json:"bom-ref"`
		} `json:"components"`
		Dependencies []struct {
			Ref       string   `json:"ref"`
			DependsOn []string `json:"dependsOn"`
		} `json:"dependencies"`
	}
	if err := json.Unmarshal(got, &d); err != nil {
		t.Fatal(err)
	}
	if d.Metadata.Component.Name != "signet" {
		t.Errorf("metadata names %q, want the first BOM's signet", d.Metadata.Component.Name)
	}
	var refs []string
	for _, c := range d.Components {
		refs = append(refs, c.Ref)
	}
	if want := "pkg:golang/cobra@v1 pkg:golang/cue@v0.16.1 pkg:golang/signet-policy pkg:golang/sigstore-go@v1"; strings.Join(refs, " ") != want {
		t.Errorf("components %v, want %s (union by bom-ref, sorted, the other program an application)", refs, want)
	}
	if len(d.Dependencies) != 2 || d.Dependencies[0].Ref != "pkg:golang/signet" || strings.Join(d.Dependencies[0].DependsOn, " ") != "pkg:golang/cobra@v1 pkg:golang/cue@v0.16.1 pkg:golang/sigstore-go@v1" {
		t.Errorf("dependencies %+v: want the union per ref, sorted", d.Dependencies)
	}
	again, _ := MergeBOMs([][]byte{[]byte(signet), []byte(engine)})
	if string(again) != string(got) {
		t.Error("two merges of the same SBOMs differ")
	}
	if _, err := MergeBOMs([][]byte{[]byte(signet), []byte(`{"bomFormat":"SPDX"}`)}); err == nil || !strings.Contains(err.Error(), "SBOM 2 is not CycloneDX") {
		t.Errorf("SPDX input: %v", err)
	}
}
