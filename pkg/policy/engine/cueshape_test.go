package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"cuelang.org/go/cue"
)

// TestShapeOf: the policies the shortcut must leave whole, because a value
// there can reach a field it does not name or depends on another field.
func TestShapeOf(t *testing.T) {
	for _, tc := range []struct {
		policy string
		shaped bool
	}{
		{"predicateType: \"x\"\npredicate: components: [...{name: !=\"log4j\"}]\n", true},
		{"import \"strings\"\npredicate: a: strings.HasPrefix(\"x\")\n", true},
		{"import s \"strings\"\npredicate: a: s.HasPrefix(\"x\")\n", true},
		{"predicate: a: close({b: int})\n", true},
		{"predicate: a: [1, 2]\n", true},
		{"predicate: a: *1 | int\n", true},
		{"predicate: {a: 1, ...}\n", true},
		{"predicate: a: b\npredicate: b: 1\n", false},                     // a reference
		{"#P: {a: int}\npredicate: #P\n", false},                          // a definition closes
		{"predicate: {#P: {a: int}}\n", false},                            // a definition closes
		{"predicate: {{a: int}}\n", false},                                // an embedding
		{"predicate: [string]: int\n", false},                             // a pattern
		{"predicate: {[string]: int}\n", false},                           // a pattern
		{"predicate: a: {for k, v in b {(k): v}}\n", false},               // a comprehension
		{"let x = 1\npredicate: a: x\n", false},                           // a let
		{"_h: 1\npredicate: a: _h\n", false},                              // a hidden field
		{"int: 5\npredicate: a: int\n", false},                            // a label shadows int
		{"predicate: {string: 1, a: string}\n", false},                    // a label shadows string
		{"import \"list\"\npredicate: list: 1\n", false},                  // a label shadows an import
		{"predicate: a: self.b\n", false},                                 // self refers
		{"predicate: a: len(predicate.b) > 1\n", false},                   // a reference in a call
		{"X=predicate: a: 1\n", false},                                    // an alias
		{"predicate: {a: 1} & close({a: int}) | {b: \"\\(x)\"}\n", false}, // an interpolated reference
		{"predicate: a: [...]\n", true},
		{"{a: 1}\n", false}, // a top-level embedding
	} {
		if got := shapeOf([]Source{{Name: "p.cue", Lang: CUE, Data: []byte(tc.policy)}}) != nil; got != tc.shaped {
			t.Errorf("shapeOf(%q) shaped = %v, want %v", tc.policy, got, tc.shaped)
		}
	}
}

// TestShapeChunks: which lists are judged in parts.
func TestShapeChunks(t *testing.T) {
	for _, tc := range []struct {
		policy string
		want   []string
	}{
		{"predicate: components: [...{name: string}]\n", []string{"components"}},
		{"predicate: components: [...{name: string}] | [...{id: int}]\n", nil}, // each chunk might pick another disjunct
		{"predicate: {components: [...{name: string}]} | {b: 1}\n", nil},
		{"predicate: components: [...{name: string}]\npredicate: components: [1, ...]\n", nil}, // a position
		{"import \"list\"\npredicate: components: [...{name: string}] & list.MaxItems(9)\n", nil},
		{"predicate: components: [...{deps: [...string]}]\n", []string{"components"}}, // not the list inside
	} {
		s := shapeOf([]Source{{Name: "p.cue", Lang: CUE, Data: []byte(tc.policy)}})
		if s == nil {
			t.Fatalf("shapeOf(%q) = nil", tc.policy)
		}
		doc := map[string]any{"predicate": map[string]any{"components": []any{
			map[string]any{"name": "a", "id": numLit("1"), "deps": []any{"x"}}}}}
		var chunks []chunk
		s.prune(doc, false, &chunks)
		var got []string
		for _, c := range chunks {
			got = append(got, c.key)
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%q: chunked %v, want %v", tc.policy, got, tc.want)
		}
	}
}

// TestFastPassAgrees: the shortcut's verdict is the whole statement's,
// on the cases that would break a careless pruning or chunking.
func TestFastPassAgrees(t *testing.T) {
	comps := func(names ...string) string {
		var b strings.Builder
		for i, n := range names {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, `{"name":%q,"purl":"pkg:x/%s","licenses":[{"id":"MIT"}]}`, n, n)
		}
		return `{"predicateType":"https://cyclonedx.org/bom","predicate":{"components":[` + b.String() + `],"extra":{"deep":[1,2,3]}}}`
	}
	for _, tc := range []struct {
		policy, statement string
	}{
		{"predicate: components: [...{name: !=\"log4j\"}]\n", comps("a", "b", "c", "d", "e")},
		{"predicate: components: [...{name: !=\"log4j\"}]\n", comps("a", "b", "c", "log4j", "e")},
		// Every element of one disjunct or every element of the other:
		// chunks of 2 would each pick one and pass.
		{"predicate: components: [...{name: \"a\"}] | [...{name: \"b\"}]\n", comps("a", "a", "b", "b")},
		{"predicate: {components: [...{name: \"a\"}]} | {extra: 1}\n", comps("a", "a", "b", "b")},
		// A closed struct sees the fields pruning drops.
		{"predicate: close({components: [...]})\n", comps("a")},
		{"predicate: components: [...close({name: string})]\n", comps("a")},
		{"predicate: components: [...{name: string, purl: =~\"^pkg:x/\"}]\n", comps("a", "b", "c")},
		{"predicate: components: [...{licenses: [...{id: \"MIT\"}]}]\n", comps("a", "b", "c")},
		{"predicate: components: [...{licenses: [...{id: \"GPL\"}]}]\n", comps("a", "b", "c")},
		{"import \"list\"\npredicate: components: list.MaxItems(3)\n", comps("a", "b", "c", "d")},
		{"import \"list\"\npredicate: components: list.MaxItems(4)\n", comps("a", "b", "c", "d")},
		{"predicate: components: [_, _, ...]\n", comps("a")},
		{"predicate: extra: deep: [...int]\n", comps("a")},
		{"predicate: extra: deep: [...string]\n", comps("a")},
		{"predicate: extra: string | {deep: [...int]}\n", comps("a")},
		{"predicate: missing!: string\n", comps("a")},
		{"predicate: missing?: string\n", comps("a")},
		{"predicateType: \"https://cyclonedx.org/bom\" | \"x\"\n", comps("a")},
		{"predicate: components: [...{name: string}] & [...{purl: string}]\n", comps("a", "b", "c")},
		// An element held to a struct and a list at once conflicts, and
		// the message prints the element: all of it.
		{"predicate: components: [...{name: string}] & [...[...string]]\n", comps("a", "b")},
		{"predicate: components: [...{name: string}]\npredicate: components: [...[...]]\n", comps("a")},
		// Later rounds judge the chunked list without its siblings: a
		// required sibling, a sibling under a disjunction, a struct on the
		// way under one (then every round is judged whole).
		{"predicate: extra!: deep: [...int]\npredicate: components: [...{name: string}]\n", comps("a", "b", "c", "d", "e")},
		{"predicate: extra: {deep: [...int]} | null\npredicate: components: [...{name: !=\"e\"}]\n", comps("a", "b", "c", "d", "e")},
		{"predicate: ({extra: {...}} | {extra: 1}) & {components: [...{name: !=\"d\"}]}\n", comps("a", "b", "c", "d", "e")},
		{"predicate: ({extra: {...}} | {extra: 1}) & {components: [...{name: string}]}\n", comps("a", "b", "c", "d", "e")},
		{"predicateType: string\npredicate: components: [...{licenses: [...{id: \"MIT\"}]}]\n", comps("a", "b", "c", "d", "e")},
		// CUE refuses these strings where JSON has U+FFFD: cosign's
		// CompileBytes fails wherever they are, also where pruning looks not.
		{"predicate: components: [...{name: string}]\n", `{"predicate":{"components":[{"name":"a"}]},"x":"\ud800"}`},
		{"predicate: components: [...{name: string}]\n", `{"predicate":{"components":[{"name":"a","x":"\udc00"}]}}`},
		{"predicate: components: [...{name: string}]\n", `{"predicate":{"components":[{"name":"\ud83d\u0041"}]}}`},
		{"predicate: components: [...{name: string}]\n", "{\"predicate\":{\"components\":[{\"name\":\"a\"}]},\"x\":\"\xff\"}"},
		{"predicate: components: [...{name: string}]\n", "{\"predicate\":{\"components\":[{\"name\":\"a\"}]},\"x\":\"\xef\xbb\xbf\"}"},
	} {
		for _, conv := range []Convention{CosignCLI, PolicyController} {
			set, err := compileCUE(conv, []Source{{Name: "p.cue", Lang: CUE, Data: []byte(tc.policy)}})
			if err != nil {
				t.Fatalf("%q: %v", tc.policy, err)
			}
			set.chunk = 2
			fast, whole := verdicts(t, set, []byte(tc.statement))
			if fast != whole {
				t.Errorf("conv %d, %q: shortcut passes = %v, whole statement passes = %v", conv, tc.policy, fast, whole)
			}
		}
	}
}

// verdicts judges a statement with the shortcut and whole, and holds
// check (what signet runs) to the whole statement's lines.
func verdicts(t *testing.T, set *cueSet, statement []byte) (fast, whole bool) {
	t.Helper()
	v, err := set.build()
	if err != nil {
		t.Fatal(err)
	}
	st := v.Context().CompileBytes(statement, cue.Filename("statement"))
	whole = st.Err() == nil && set.passes(v.Unify(st))
	var got, want Result
	errGot, errWant := set.check(&got, statement), set.judge(&want, v, statement)
	if fmt.Sprint(errGot) != fmt.Sprint(errWant) || !reflect.DeepEqual(got, want) {
		t.Errorf("statement %s\nchecked %+v (%v)\nwhole   %+v (%v)", statement, got, errGot, want, errWant)
	}
	doc, dup, err := decodeStatement(statement)
	if err != nil {
		t.Fatal(err)
	}
	_, dups, err := pruneText(statement, set.shape, false)
	if err != nil {
		t.Fatal(err)
	}
	if dup || dups > 0 {
		return whole, whole // check judges it whole, compared above
	}
	fast = set.fastPass(v, doc)
	if whole {
		return fast, whole
	}
	// A failure is reported from the pruned text: its lines must be the
	// whole text's.
	pruned, dups, err := pruneText(statement, set.shape, true)
	if err != nil || dups > 0 {
		t.Fatalf("pruneText: %v, %d repeated keys", err, dups)
	}
	got, want = Result{}, Result{}
	errGot, errWant = set.judge(&got, v, pruned), set.judge(&want, v, statement)
	if fmt.Sprint(errGot) != fmt.Sprint(errWant) || !reflect.DeepEqual(got, want) {
		t.Errorf("statement %s\npruned to %s\njudged %+v (%v)\nwhole   %+v (%v)", statement, pruned, got, errGot, want, errWant)
	}
	return fast, whole
}

// FuzzCUEShape: for policies and statements built from the fuzzer's
// bytes, the shortcut passes exactly when the whole statement passes.
func FuzzCUEShape(f *testing.F) {
	f.Add([]byte("policy and statement"))
	f.Add([]byte{3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3, 2, 3, 8, 4, 6, 2, 6, 4, 3, 3, 8, 3, 2, 7, 9, 5})
	f.Add([]byte{8, 8, 8, 8, 2, 2, 2, 2, 9, 9, 9, 9, 1, 1, 1, 1, 7, 7, 7, 7, 0, 0, 0, 0, 5, 5, 5, 5})
	f.Fuzz(func(t *testing.T, seed []byte) {
		g := &gen{b: seed}
		srcs := g.sources()
		statement, err := json.Marshal(g.doc(0))
		if err != nil {
			t.Fatal(err)
		}
		statement = g.respell(statement)
		for _, conv := range []Convention{CosignCLI, PolicyController} {
			set, err := compileCUE(conv, srcs)
			if err != nil || set.shape == nil {
				return
			}
			set.chunk = 1 + int(g.next()%3)
			if fast, whole := verdicts(t, set, statement); fast != whole {
				t.Fatalf("conv %d, chunk %d\npolicy:\n%s\nstatement: %s\nshortcut passes = %v, whole statement passes = %v",
					conv, set.chunk, srcs, statement, fast, whole)
			}
		}
	})
}

// gen draws small policies and statements over the same few field names,
// so that they meet.
type gen struct {
	b []byte
	i int
}

func (g *gen) next() byte {
	if g.i >= len(g.b) {
		return 0
	}
	g.i++
	return g.b[g.i-1]
}

var genKeys = []string{"a", "b", "c"}

func (g *gen) doc(depth int) any {
	k := g.next() % 8
	if depth == 0 {
		k = 0 // a statement is an object
	}
	switch {
	case depth < 3 && (k == 0 || k == 6):
		m := map[string]any{}
		for _, key := range genKeys {
			if g.next()%4 != 0 {
				m[key] = g.doc(depth + 1)
			}
		}
		return m
	case depth < 3 && (k == 1 || k == 7):
		l := []any{}
		for n := g.next() % 6; n > 0; n-- {
			l = append(l, g.doc(depth+1))
		}
		return l
	case k == 2:
		return "x"
	case k == 3:
		return "y"
	case k == 4:
		return numLit(genNums[g.next()%byte(len(genNums))])
	case k == 5 && g.next()%2 == 0:
		return nil
	default:
		return g.next()%2 == 0
	}
}

// genNums are numbers as JSON may write them: CUE reads 1.0 and 1e0 as
// floats, 1 and -0 as ints.
var genNums = []string{"0", "1", "2", "1.0", "-0", "1e0", "0.5"}

// respell writes some of the statement's keys and strings another way
// JSON allows ("\u0061" for a, white space, a repeated key, a lone
// surrogate), so that pruning meets the text's spelling, not
// json.Marshal's.
func (g *gen) respell(text []byte) []byte {
	switch g.next() % 8 {
	case 0:
		return bytes.ReplaceAll(text, []byte(`"a":`), []byte(`"\u0061" :`))
	case 1:
		return bytes.ReplaceAll(text, []byte(`,`), []byte("\n,\t"))
	case 2:
		return bytes.ReplaceAll(text, []byte(`"x"`), []byte(`"\u0078"`))
	case 3:
		return bytes.Replace(text, []byte(`{"b":`), []byte(`{"b":"y","b":`), 1)
	case 4: // a string CUE refuses, where the policy may not look
		return bytes.Replace(text, []byte(`"y"`), []byte(`"y\ud800"`), 1)
	}
	return text
}

// policy names each top-level field once, so that few policies conflict
// with themselves; the values lean to the permissive, so that many pass.
func (g *gen) policy() string { return withImports(g.fields()) }

func (g *gen) fields() string {
	var b strings.Builder
	for _, key := range genKeys {
		if g.next()%3 != 0 {
			fmt.Fprintf(&b, "%s: %s\n", key, g.expr(0))
		}
	}
	return b.String()
}

// withImports puts before a file's fields the imports they use: CUE
// refuses an import a file does not use.
func withImports(fields string) string {
	out := fields
	for _, pkg := range []string{"list", "struct", "strings"} {
		if strings.Contains(fields, pkg+".") {
			out = fmt.Sprintf("import %q\n", pkg) + out
		}
	}
	return out
}

// sources is the policy as one file, or as two (each with its own package
// clause and imports), which may both name a field: shapeOf merges what
// the files say of it, as CUE unifies them.
func (g *gen) sources() []Source {
	if g.next()%2 == 0 {
		return []Source{{Name: "p.cue", Lang: CUE, Data: []byte(g.policy())}}
	}
	var files [2]strings.Builder
	for i := range files {
		files[i].WriteString("package p\n")
	}
	for _, line := range strings.SplitAfter(g.fields(), "\n") {
		files[g.next()%2].WriteString(line)
	}
	if g.next()%2 == 0 { // a field the other file names too, maybe
		fmt.Fprintf(&files[1], "%s: %s\n", genKeys[g.next()%3], g.expr(1))
	}
	out := make([]Source, len(files))
	for i := range files {
		out[i] = Source{Name: fmt.Sprintf("p%d.cue", i), Lang: CUE, Data: []byte(withImports(files[i].String()))}
	}
	return out
}

func (g *gen) expr(depth int) string {
	k := g.next() % 40
	if depth >= 3 {
		k %= 7
	}
	if k >= 20 {
		return g.expr2(k, depth)
	}
	switch k {
	case 0, 1:
		return "_"
	case 2:
		return "int"
	case 3:
		return "string"
	case 4:
		return `!="y"`
	case 5:
		return "<2"
	case 6:
		return `"x"`
	case 7, 8:
		return fmt.Sprintf("{%s: %s}", genKeys[g.next()%3], g.expr(depth+1))
	case 9:
		return fmt.Sprintf("{%s?: %s}", genKeys[g.next()%3], g.expr(depth+1))
	case 10, 11, 12:
		return fmt.Sprintf("[...%s]", g.expr(depth+1))
	case 13:
		return fmt.Sprintf("(%s | %s)", g.expr(depth+1), g.expr(depth+1))
	case 14:
		return fmt.Sprintf("(%s & %s)", g.expr(depth+1), g.expr(depth+1))
	case 15:
		return fmt.Sprintf("close({%s?: %s})", genKeys[g.next()%3], g.expr(depth+1))
	case 16:
		return fmt.Sprintf("[%s, ...]", g.expr(depth+1))
	case 17:
		return fmt.Sprintf("list.MaxItems(%d)", 1+g.next()%4)
	case 18:
		return "[...] | {...}"
	default:
		return fmt.Sprintf("*%s | %s", g.expr(depth+1), g.expr(depth+1))
	}
}

// expr2 draws the rarer constructs: validators that see a whole value,
// required fields, quoted labels, other kinds and number forms.
func (g *gen) expr2(k byte, depth int) string {
	key := func() string { return genKeys[g.next()%3] }
	switch k {
	case 20:
		return "null"
	case 21:
		return "float"
	case 22:
		return "number & >=0"
	case 23:
		return "bool"
	case 24:
		return fmt.Sprintf("{%s!: %s}", key(), g.expr(depth+1))
	case 25:
		return fmt.Sprintf("{%q: %s}", key(), g.expr(depth+1))
	case 26:
		return fmt.Sprintf("{\"\\u00%x\": %s}", key()[0], g.expr(depth+1)) // "\u0061": a
	case 27:
		return fmt.Sprintf("matchN(1, [%s, %s])", g.expr(depth+1), g.expr(depth+1))
	case 28:
		return fmt.Sprintf("matchIf(%s, %s, %s)", g.expr(depth+1), g.expr(depth+1), g.expr(depth+1))
	case 29:
		return fmt.Sprintf("struct.MaxFields(%d)", g.next()%3)
	case 30:
		return "list.UniqueItems()"
	case 31:
		return fmt.Sprintf("[%s, %s]", g.expr(depth+1), g.expr(depth+1))
	case 32:
		return fmt.Sprintf("{%s: %s, ...}", key(), g.expr(depth+1))
	case 33:
		return fmt.Sprintf("or([%s, %s])", g.expr(depth+1), g.expr(depth+1))
	case 34:
		return `=~"^x" | 1.0`
	case 35:
		return fmt.Sprintf("{%s?: %s} | {%s?: %s}", key(), g.expr(depth+1), key(), g.expr(depth+1))
	case 36:
		return fmt.Sprintf("[...%s] & [...%s]", g.expr(depth+1), g.expr(depth+1))
	case 37:
		return "1"
	case 38:
		return fmt.Sprintf("*%s | [...]", g.expr(depth+1))
	default:
		return fmt.Sprintf("{%s: %s} @x(y)", key(), g.expr(depth+1))
	}
}

// TestCUEShapeGeneratorMeets keeps FuzzCUEShape honest: over fixed random
// seeds its generator must yield shaped policies that pass and that fail,
// and lists judged in several chunks, or the fuzz target proves nothing.
func TestCUEShapeGeneratorMeets(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var shaped, pass, fail, chunked int
	for range 1500 {
		seed := make([]byte, 64)
		for i := range seed {
			seed[i] = byte(rng.UintN(256))
		}
		g := &gen{b: seed}
		policy := g.policy()
		statement, _ := json.Marshal(g.doc(0))
		statement = g.respell(statement)
		set, err := compileCUE(CosignCLI, []Source{{Name: "p.cue", Lang: CUE, Data: []byte(policy)}})
		if err != nil || set.shape == nil {
			continue
		}
		shaped++
		set.chunk = 1
		fast, whole := verdicts(t, set, statement)
		if fast != whole {
			t.Fatalf("policy:\n%s\nstatement: %s\nshortcut %v, whole %v", policy, statement, fast, whole)
		}
		if whole {
			pass++
		} else {
			fail++
		}
		doc, _, _ := decodeStatement(statement)
		var chunks []chunk
		set.shape.prune(doc, false, &chunks)
		for _, c := range chunks {
			if len(c.list) > 1 {
				chunked++
				break
			}
		}
	}
	t.Logf("shaped %d, pass %d, fail %d, chunked %d", shaped, pass, fail, chunked)
	if shaped < 1000 || pass < 200 || fail < 200 || chunked < 30 {
		t.Errorf("generator too narrow: shaped %d, pass %d, fail %d, chunked %d", shaped, pass, fail, chunked)
	}
}

// BenchmarkChunkedBesideWhole: a chunked list beside a big value the
// policy keeps whole (here under a disjunction). Judging the whole pruned
// statement in every chunk round encoded and unified the kept value
// len(components)/chunkLen times (5.27 s/op against 0.69 s/op "whole");
// passChunks judges later rounds' lists alone. "whole" is the statement
// judged once, without the shortcut.
func BenchmarkChunkedBesideWhole(b *testing.B) {
	const n = 8000
	var sb strings.Builder
	sb.WriteString(`{"predicate":{"components":[`)
	for i := range n {
		if i > 0 {
			sb.WriteString(",")
		}
		fmt.Fprintf(&sb, `{"name":"c%d","version":"1.%d"}`, i, i)
	}
	sb.WriteString(`],"dependencies":[`)
	for i := range n {
		if i > 0 {
			sb.WriteString(",")
		}
		fmt.Fprintf(&sb, `{"ref":"c%d"}`, i)
	}
	sb.WriteString(`]}}`)
	statement := []byte(sb.String())
	policy := "predicate: components: [...{name: !=\"log4j-core\"}]\npredicate: dependencies: [...{ref: string}] | null\n"
	set, err := compileCUE(CosignCLI, []Source{{Name: "p.cue", Lang: CUE, Data: []byte(policy)}})
	if err != nil || set.shape == nil {
		b.Fatal(err)
	}
	b.Run("shortcut", func(b *testing.B) {
		for b.Loop() {
			var r Result
			if err := set.check(&r, statement); err != nil || len(r.Messages) > 0 {
				b.Fatal(err, r.Messages)
			}
		}
	})
	b.Run("whole", func(b *testing.B) {
		whole := *set
		whole.shape = nil
		for b.Loop() {
			var r Result
			if err := whole.check(&r, statement); err != nil || len(r.Messages) > 0 {
				b.Fatal(err, r.Messages)
			}
		}
	})
}
