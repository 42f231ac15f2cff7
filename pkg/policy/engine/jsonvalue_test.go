package engine

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"

	cueast "cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/literal"
	"cuelang.org/go/cue/parser"
	"cuelang.org/go/cue/token"
	"github.com/open-policy-agent/opa/v1/ast"
)

// jsonCases are the corners where a hand-written reader could part from
// encoding/json: escapes, surrogates, invalid UTF-8, numbers as written,
// repeated keys (also spelled differently), nesting, white space.
var jsonCases = []string{
	`{}`, `[]`, `null`, `true`, `false`, `0`, `-0`, `""`, `"x"`,
	` { "a" : [ 1 , 2.50 , -3e+2 , 1E400 , 12345678901234567891 ] , "b" : { } } `,
	"{\"tab\\t\":\"\\u00e9\\\"\\\\\\/\\b\\f\\n\\r\",\"é\":\"ü\"}",
	`{"s":"\ud83d\ude00","lone":"\ud800","bad":"\udc00x"}`,
	// CUE refuses these strings (cueRefuses), JSON does not
	`{"lone":"\ud800"}`, `["\udc00x"]`, `"\ud83d\u0041"`, `"\ud83d\ud83d\ude00"`, `"\\ud800"`, `"\ud83d\ude00\uDBFF\uDFFF"`,
	"{\"bom\":\"a\xef\xbb\xbf\"}", "[\"\ufeff\"]", "{\"k\xff\":1}", "\"\\u00e9\xe9\"",
	"{\"raw\":\"\xff\xfe\",\"mixed\":\"ok\xc3\",\"k\xff\":1}",
	`{"a":1,"a":2}`,
	`{"a":{"b":1},"a":{"c":2}}`,
	`{"a":1,"\u0061":2}`,
	`{"x":[{"a":1,"a":1},{"y":[[],[[]],{}]}]}`,
	`{"predicate":{"n":1,"f":1.0,"e":1e3,"big":12345678901234567891,"neg":-0,"s":"x","b":true,"z":null}}`,
	"[\"\\\\\",\"a\\\\\\\"b\",\"\\\"\"]",
	"\n\t[1,\r\n2]\n",
	// refused, as json.Valid refuses them
	``, ` `, `01`, `1.`, `.5`, `-`, `1e`, `1e+`, `+1`, `-01`, `1 2`, `[1 2]`, `[1,]`, `[,1]`, `{,}`,
	`{"a":1,}`, `{"a"}`, `{"a":}`, `{"a":1 "b":2}`, `{1:2}`, `tru`, `nul`, `truex`, `[true false]`,
	`"abc`, "\"a\x01b\"", `"\q"`, `"\u12"`, `"\u12g4"`, `"\`, `[`, `]`, `{`, `}`, `{"a":[}`,
	"\xef\xbb\xbf{}", `NaN`, `Infinity`, `1e400x`, `"a"x`,
}

func TestJSONReaderMatchesEncodingJSON(t *testing.T) {
	for _, c := range jsonCases {
		checkReader(t, []byte(c))
	}
	checkReader(t, sbomStatement(64<<10))
	// encoding/json's nesting limit: 10000 levels, not one more.
	for _, n := range []int{maxDepth, maxDepth + 1} {
		checkReader(t, []byte(strings.Repeat("[", n)+strings.Repeat("]", n)))
		checkReader(t, []byte(strings.Repeat(`{"a":`, n)+"1"+strings.Repeat("}", n)))
	}
}

func checkReader(t *testing.T, text []byte) {
	t.Helper()
	rr := newJSONReader(text)
	got := rr.regoValue()
	accepted := rr.end() == nil
	if accepted != json.Valid(text) {
		t.Fatalf("%q: reader accepts it: %v, json.Valid: %v", text, accepted, !accepted)
	}
	if _, _, err := decodeStatement(text); (err == nil) != accepted {
		t.Fatalf("%q: decodeStatement: %v, json.Valid: %v", text, err, accepted)
	}
	if !accepted {
		return
	}
	want, err := ast.ValueFromReader(bytes.NewReader(text))
	if err != nil {
		t.Fatalf("%q: ValueFromReader: %v", text, err)
	}
	if got.Compare(want) != 0 || got.Hash() != want.Hash() {
		t.Errorf("%q: rego value\n got  %v\n want %v", text, got, want)
	}
	wantDoc, wantDup, err := decodeReference(text)
	if err != nil {
		t.Fatalf("%q: %v", text, err)
	}
	doc, dup, err := decodeStatement(text)
	if err != nil {
		t.Fatalf("%q: %v", text, err)
	}
	if !reflect.DeepEqual(doc, wantDoc) || dup != wantDup {
		t.Errorf("%q: go value\n got  %#v (dup %v)\n want %#v (dup %v)", text, doc, dup, wantDoc, wantDup)
	}
}

// FuzzJSONValue: statements come from registries; the reader must build
// what encoding/json (and OPA's ValueFromReader) build, for any text they
// accept.
func FuzzJSONValue(f *testing.F) {
	for _, c := range jsonCases {
		f.Add([]byte(c))
	}
	f.Add([]byte(statement))
	f.Fuzz(func(t *testing.T, data []byte) { checkReader(t, data) })
}

// decodeReference is the statement decoder the reader replaced:
// encoding/json with UseNumber, numbers turned into numLits, and a repeated
// key found by counting the text's members against the decoded ones; dup
// is also set for a text CUE's own parser refuses (cueRefuses).
func decodeReference(text []byte) (any, bool, error) {
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, false, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false, errors.New("not one JSON value")
	}
	var members int
	doc = literalNumbers(doc, &members)
	return doc, members != membersIn(text) || cueParseFails(text), nil
}

// cueParseFails reports whether CUE's parser, or its unquoting of a
// string, refuses the text (as CompileBytes would, before any evaluation).
func cueParseFails(text []byte) bool {
	f, err := parser.ParseFile("statement", text)
	if err != nil {
		return true
	}
	bad := false
	cueast.Walk(f, func(n cueast.Node) bool {
		if l, ok := n.(*cueast.BasicLit); ok && l.Kind == token.STRING {
			if _, err := literal.Unquote(l.Value); err != nil {
				bad = true
			}
		}
		return !bad
	}, nil)
	return bad
}

func literalNumbers(v any, members *int) any {
	switch x := v.(type) {
	case json.Number:
		return numLit(x)
	case map[string]any:
		*members += len(x)
		for k, e := range x {
			x[k] = literalNumbers(e, members)
		}
	case []any:
		for i, e := range x {
			x[i] = literalNumbers(e, members)
		}
	}
	return v
}

// membersIn counts the object members of valid JSON text: every colon
// outside a string separates one member's name from its value.
func membersIn(text []byte) int {
	n := 0
	in, esc := false, false
	for _, c := range text {
		switch {
		case esc:
			esc = false
		case in && c == '\\':
			esc = true
		case c == '"':
			in = !in
		case !in && c == ':':
			n++
		}
	}
	return n
}
