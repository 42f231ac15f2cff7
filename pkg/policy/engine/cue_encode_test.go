package engine

import (
	"context"
	"strings"
	"testing"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/cuecontext"
)

// TestEncodeMatchesCompileBytes: the statement built by Encode (check's
// fast path) gets the verdict the JSON compiled as CUE text (what cosign
// does) gets. Messages may differ in order, which is why check judges a
// failing statement again the slow way (TestGoldenCosign holds those).
func TestEncodeMatchesCompileBytes(t *testing.T) {
	docs := []string{
		`{"predicate":{"n":1,"f":1.0,"e":1e3,"big":12345678901234567891,"neg":-0,"s":"x","b":true,"z":null,"l":[1,2.5,"a",{"k":[]}]}}`,
		`{"predicate":{"n":1.5,"f":2,"s":3,"l":[],"z":{}}}`,
		`{"predicate":{"n":"1","f":null,"l":[{"name":"log4j-core"}],"extra":{"deep":{"x":1}}}}`,
	}
	schemas := []string{
		`predicate: n: int`,
		`predicate: f: float`,
		`predicate: e: int`,
		`predicate: big: 12345678901234567891`,
		`predicate: big: >12345678901234567890`,
		`predicate: s: string`,
		`predicate: z: null`,
		`predicate: l: [...(int|float|string|{...})]`,
		`predicate: l: [...{name: !="log4j-core"}]`,
		`predicate: close({n: _, f: _})`,
		`#P: {n: number, f: number}` + "\n" + `predicate: #P`,
		`predicate: [string]: int`,
		`predicate: n: >=1 & <=1`,
		`predicate: extra: deep: x: 1`,
	}
	for _, schema := range schemas {
		for _, doc := range docs {
			ctx := cuecontext.New()
			sv := ctx.CompileString(schema)
			text := ctx.CompileBytes([]byte(doc))
			d, _, err := decodeStatement([]byte(doc))
			if err != nil {
				t.Fatal(err)
			}
			enc := ctx.Encode(d)
			want := ok(sv.Unify(text))
			got := ok(sv.Unify(enc))
			if got != want {
				t.Errorf("schema %q, doc %s:\n Encode:       %v\n CompileBytes: %v", schema, doc, got, want)
			}
		}
	}
}

func ok(u cue.Value) bool {
	return u.Err() == nil && u.Validate(cue.Final()) == nil
}

// TestDuplicateKeysJudgedAsCosign: a statement repeating a key is not
// judged on whichever value a decoder kept: CUE unifies both, as cosign's
// CompileBytes does, and conflicting values fail.
func TestDuplicateKeysJudgedAsCosign(t *testing.T) {
	set, err := Compile(context.Background(), CosignCLI, Source{Name: "p.cue", Lang: CUE, Data: []byte("predicate: a: int\n")})
	if err != nil {
		t.Fatal(err)
	}
	err = set.Evaluate(context.Background(), []byte(`{"predicate":{"a":1,"a":2}}`))
	if err == nil || !strings.Contains(err.Error(), "conflicting values") {
		t.Fatalf("duplicate key with two values: got %v, want a conflict", err)
	}
	if err := set.Evaluate(context.Background(), []byte(`{"predicate":{"a":1,"a":1}}`)); err != nil {
		t.Fatalf("duplicate key with one value: %v", err)
	}
}

// TestRefusedStringsJudgedAsCosign: JSON that CUE's scanner refuses (a
// lone surrogate, invalid UTF-8, a byte order mark in a string) fails
// cosign's CompileBytes wherever it is. A decoder would read U+FFFD there,
// and pruning would drop it where the policy does not look; either way
// signet passed a statement cosign rejects.
func TestRefusedStringsJudgedAsCosign(t *testing.T) {
	policies := []string{
		"predicate: a: int\n",                            // shaped: the rest is pruned
		"predicate: a: int\npredicate: b: predicate.a\n", // a reference: judged whole
	}
	statements := []string{
		`{"predicate":{"a":1},"x":"\ud800"}`,
		`{"predicate":{"a":1,"b":1},"x":["\udc00"]}`,
		`{"predicate":{"a":1,"b":1,"\ud83d\u0041":2}}`,
		"{\"predicate\":{\"a\":1,\"b\":1},\"x\":\"\xff\"}",
		"{\"predicate\":{\"a\":1,\"b\":1},\"x\":\"\xef\xbb\xbf\"}",
	}
	for _, p := range policies {
		for _, conv := range []Convention{CosignCLI, PolicyController} {
			set, err := Compile(context.Background(), conv, Source{Name: "p.cue", Lang: CUE, Data: []byte(p)})
			if err != nil {
				t.Fatal(err)
			}
			for _, st := range statements {
				err := set.Evaluate(context.Background(), []byte(st))
				if err == nil || !strings.HasPrefix(err.Error(), "statement: ") {
					t.Errorf("policy %q, statement %q: got %v, want CUE's statement error", p, st, err)
				}
			}
			ok := `{"predicate":{"a":1,"b":1},"x":"\ud83d\ude00\u00e9\ufeff"}`
			if err := set.Evaluate(context.Background(), []byte(ok)); err != nil {
				t.Errorf("policy %q, statement %s: %v", p, ok, err)
			}
		}
	}
}
