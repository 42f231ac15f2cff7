package release

import (
	"encoding/json"
	"fmt"
	"sort"
)

// MergeBOMs joins the CycloneDX SBOMs of the programs a release archive
// ships (signet, signet-policy, the KMS plugin; cyclonedx-gomod describes
// one main package at a time) into one: the first BOM's metadata names the
// release, every other program becomes an application component, and
// components and dependencies are the union of all, by bom-ref, in a
// stable order so the result is reproducible.
func MergeBOMs(boms [][]byte) ([]byte, error) {
	if len(boms) == 0 {
		return nil, fmt.Errorf("sbom-merge: no SBOMs")
	}
	var docs []map[string]any
	for i, b := range boms {
		var d map[string]any
		if err := json.Unmarshal(b, &d); err != nil {
			return nil, fmt.Errorf("sbom-merge: SBOM %d: %w", i+1, err)
		}
		if d["bomFormat"] != "CycloneDX" {
			return nil, fmt.Errorf("sbom-merge: SBOM %d is not CycloneDX (bomFormat %v)", i+1, d["bomFormat"])
		}
		docs = append(docs, d)
	}
	out := docs[0]
	comps := map[string]any{}
	deps := map[string]map[string]bool{}
	addComp := func(c any) error {
		m, ok := c.(map[string]any)
		ref, _ := m["bom-ref"].(string)
		if !ok || ref == "" {
			return fmt.Errorf("sbom-merge: a component without a bom-ref")
		}
		if _, seen := comps[ref]; !seen {
			comps[ref] = m
		}
		return nil
	}
	for i, d := range docs {
		if i > 0 {
			meta, _ := d["metadata"].(map[string]any)
			if app, ok := meta["component"]; ok {
				if err := addComp(app); err != nil {
					return nil, err
				}
			}
		}
		list, _ := d["components"].([]any)
		for _, c := range list {
			if err := addComp(c); err != nil {
				return nil, err
			}
		}
		dl, _ := d["dependencies"].([]any)
		for _, x := range dl {
			m, _ := x.(map[string]any)
			ref, _ := m["ref"].(string)
			if ref == "" {
				return nil, fmt.Errorf("sbom-merge: a dependency without a ref")
			}
			if deps[ref] == nil {
				deps[ref] = map[string]bool{}
			}
			on, _ := m["dependsOn"].([]any)
			for _, o := range on {
				if s, ok := o.(string); ok {
					deps[ref][s] = true
				}
			}
		}
	}
	var refs []string
	for r := range comps {
		refs = append(refs, r)
	}
	sort.Strings(refs)
	list := make([]any, 0, len(refs))
	for _, r := range refs {
		list = append(list, comps[r])
	}
	out["components"] = list
	refs = refs[:0]
	for r := range deps {
		refs = append(refs, r)
	}
	sort.Strings(refs)
	dl := make([]any, 0, len(refs))
	for _, r := range refs {
		on := make([]string, 0, len(deps[r]))
		for o := range deps[r] {
			on = append(on, o)
		}
		sort.Strings(on)
		entry := map[string]any{"ref": r}
		if len(on) > 0 {
			entry["dependsOn"] = on
		}
		dl = append(dl, entry)
	}
	out["dependencies"] = dl
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
