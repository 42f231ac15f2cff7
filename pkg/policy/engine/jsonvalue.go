package engine

import (
	"bytes"
	"encoding/json"
	"errors"
	"unicode/utf8"

	"github.com/open-policy-agent/opa/v1/ast"
)

// jsonReader builds an engine's value straight from a statement's JSON
// text, in one pass. For a 5 MB SBOM, decoding into map[string]any first
// and converting that tree (ast.ValueFromReader, or cue's Encode of a
// decoded document) costs more than the policy itself and holds two
// copies of the document at once. The text must be one valid JSON value
// (checkJSON): the reader relies on it and checks nothing itself.
// Strings and numbers come out exactly as encoding/json with UseNumber
// gives them (what cosign and ast.ValueFromReader use), which the
// differential tests and FuzzJSONValue hold it to.
type jsonReader struct {
	b []byte
	i int
	// keys interns object keys: an SBOM repeats a few dozen names
	// hundreds of thousands of times.
	keys map[string]string
	// scratch stacks the members of the objects and arrays being read.
	pairs [][2]*ast.Term
	elems []any
	terms []*ast.Term
	slab  []ast.Term
}

// checkJSON accepts exactly what encoding/json decodes: one value, with
// nothing but white space around it.
func checkJSON(text []byte) error {
	if !json.Valid(text) {
		return errors.New("statement is not valid JSON")
	}
	return nil
}

func newJSONReader(text []byte) *jsonReader {
	return &jsonReader{b: text, keys: map[string]string{}}
}

func (r *jsonReader) ws() {
	for r.i < len(r.b) {
		switch r.b[r.i] {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return
		}
	}
}

// str reads the string that starts at r.i. A string without escapes that
// is valid UTF-8 is its bytes, as in encoding/json; anything else is left
// to encoding/json (escapes, surrogates, invalid UTF-8 replaced).
func (r *jsonReader) str(intern bool) string {
	start := r.i + 1
	end := start + bytes.IndexByte(r.b[start:], '"')
	raw := r.b[start:end]
	if bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw) {
		r.i = end + 1
		if !intern {
			return string(raw)
		}
		if s, ok := r.keys[string(raw)]; ok {
			return s
		}
		s := string(raw)
		r.keys[s] = s
		return s
	}
	// The closing quote is the first one not escaped.
	end = start
	for r.b[end] != '"' {
		if r.b[end] == '\\' {
			end++
		}
		end++
	}
	var s string
	if err := json.Unmarshal(r.b[start-1:end+1], &s); err != nil {
		// checkJSON accepted the text, so this cannot happen; keep the
		// bytes rather than invent a value.
		s = string(r.b[start:end])
	}
	r.i = end + 1
	return s
}

// num reads the number that starts at r.i, as written.
func (r *jsonReader) num() string {
	start := r.i
	for r.i < len(r.b) {
		switch r.b[r.i] {
		case '-', '+', '.', 'e', 'E', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
			r.i++
			continue
		}
		break
	}
	return string(r.b[start:r.i])
}

// next steps over white space and one separator (':' or ',') if present,
// and reports whether the container being read goes on.
func (r *jsonReader) next() bool {
	r.ws()
	switch r.b[r.i] {
	case ',', ':':
		r.i++
		r.ws()
		return true
	case '}', ']':
		r.i++
		return false
	}
	return true
}

// open steps into the object or array at r.i and reports whether it has
// members.
func (r *jsonReader) open() bool {
	r.i++
	r.ws()
	if c := r.b[r.i]; c == '}' || c == ']' {
		r.i++
		return false
	}
	return true
}

// regoValue reads the value at r.i as OPA's ast.ValueFromReader would
// build it (json.Number kept as its text, small integers interned, a
// repeated key's last value kept).
func (r *jsonReader) regoValue() ast.Value {
	r.ws()
	switch r.b[r.i] {
	case '{':
		base := len(r.pairs)
		for more := r.open(); more; more = r.next() {
			k := r.str(true)
			r.next()
			v := r.regoValue()
			r.pairs = append(r.pairs, [2]*ast.Term{r.term(ast.String(k)), r.term(v)})
		}
		obj := ast.NewObject(r.pairs[base:]...)
		clear(r.pairs[base:])
		r.pairs = r.pairs[:base]
		return obj
	case '[':
		base := len(r.terms)
		for more := r.open(); more; more = r.next() {
			v := r.regoValue()
			r.terms = append(r.terms, r.term(v))
		}
		elems := make([]*ast.Term, len(r.terms)-base)
		copy(elems, r.terms[base:])
		clear(r.terms[base:])
		r.terms = r.terms[:base]
		return ast.NewArray(elems...)
	case '"':
		return ast.String(r.str(false))
	case 't':
		r.i += 4
		return ast.InternedValue(true)
	case 'f':
		r.i += 5
		return ast.InternedValue(false)
	case 'n':
		r.i += 4
		return ast.NullValue
	default:
		n := r.num()
		if t := ast.InternedIntNumberTermFromString(n); t != nil {
			return t.Value
		}
		return ast.Number(n)
	}
}

// term allocates Terms in blocks: a statement has hundreds of thousands.
func (r *jsonReader) term(v ast.Value) *ast.Term {
	if len(r.slab) == 0 {
		r.slab = make([]ast.Term, 1024)
	}
	t := &r.slab[0]
	r.slab = r.slab[1:]
	t.Value = v
	return t
}

// goValue reads the value at r.i as encoding/json with UseNumber decodes
// it into an any, numbers as numLit, and counts in dups the objects that
// repeat a key (the map keeps the last value, as encoding/json's does).
func (r *jsonReader) goValue(dups *int) any {
	r.ws()
	switch r.b[r.i] {
	case '{':
		m := map[string]any{}
		n := 0
		for more := r.open(); more; more = r.next() {
			k := r.str(true)
			r.next()
			m[k] = r.goValue(dups)
			n++
		}
		if len(m) != n {
			*dups++
		}
		return m
	case '[':
		base := len(r.elems)
		for more := r.open(); more; more = r.next() {
			r.elems = append(r.elems, r.goValue(dups))
		}
		l := make([]any, len(r.elems)-base)
		copy(l, r.elems[base:])
		clear(r.elems[base:])
		r.elems = r.elems[:base]
		return l
	case '"':
		return r.str(false)
	case 't':
		r.i += 4
		return true
	case 'f':
		r.i += 5
		return false
	case 'n':
		r.i += 4
		return nil
	default:
		return numLit(r.num())
	}
}
