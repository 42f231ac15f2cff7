package engine

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"unicode/utf8"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/signetdev/signet/internal/jsonlex"
)

// jsonReader builds an engine's value straight from a statement's JSON
// text, checking it on the way, in one pass. For a 5 MB SBOM, decoding
// into map[string]any first and converting that tree (ast.ValueFromReader,
// or cue's Encode of a decoded document) cost more than the policy itself
// and held two copies of the document at once; a separate json.Valid pass
// cost a tenth of the rest. It accepts exactly what json.Valid accepts,
// and strings and numbers come out as encoding/json with UseNumber gives
// them (what cosign and ast.ValueFromReader use): the differential tests
// and FuzzJSONValue hold it to both.
type jsonReader struct {
	b     []byte
	i     int
	depth int
	bad   bool
	// keys interns object keys: an SBOM repeats a few dozen names
	// hundreds of thousands of times.
	keys map[string]string
	// scratch stacks the members of the objects and arrays being read.
	pairs [][2]*ast.Term
	elems []any
	seen  []string // keys of the objects being skipped, for pruneText
	// refused counts the strings (keys too) read since the last look that
	// CUE's scanner refuses though JSON allows them (cueRefuses).
	refused int
	terms   []*ast.Term
	slab    []ast.Term
}

// maxDepth is encoding/json's limit on nesting.
const maxDepth = 10000

var errNotJSON = errors.New("statement is not valid JSON")

func newJSONReader(text []byte) *jsonReader {
	return &jsonReader{b: text, keys: map[string]string{}}
}

// fail marks the text invalid and stops the reading: every later look
// sees the end of the text.
func (r *jsonReader) fail() {
	r.bad = true
	r.i = len(r.b)
}

func (r *jsonReader) peek() byte {
	if r.i < len(r.b) {
		return r.b[r.i]
	}
	return 0
}

func (r *jsonReader) ws() { r.i = jsonlex.SkipWS(r.b, r.i) }

// end checks that nothing but white space follows the value read.
func (r *jsonReader) end() error {
	r.ws()
	if r.bad || r.i != len(r.b) {
		return errNotJSON
	}
	return nil
}

// enter steps into the object or array at r.i and reports whether it has
// members (an empty one is stepped over).
func (r *jsonReader) enter(close byte) bool {
	r.i++
	if r.depth++; r.depth > maxDepth {
		r.fail()
		return false
	}
	r.ws()
	if r.peek() == close {
		r.i++
		r.depth--
		return false
	}
	return true
}

// more steps over the separator after a member and reports whether
// another follows, or over the container's end.
func (r *jsonReader) more(close byte) bool {
	r.ws()
	switch r.peek() {
	case ',':
		r.i++
		return true
	case close:
		r.i++
		r.depth--
		return false
	}
	r.fail()
	return false
}

// key reads an object member's name and the colon after it.
func (r *jsonReader) key() string {
	r.ws()
	if r.peek() != '"' {
		r.fail()
		return ""
	}
	k := r.str(true)
	r.ws()
	if r.peek() != ':' {
		r.fail()
		return ""
	}
	r.i++
	return k
}

// literal steps over true, false or null.
func (r *jsonReader) literal(word string) {
	if !bytes.HasPrefix(r.b[r.i:], []byte(word)) {
		r.fail()
		return
	}
	r.i += len(word)
}

// str reads the string that starts at r.i. A string without escapes that
// is valid UTF-8 is its bytes, as in encoding/json; anything else is
// decoded by encoding/json (escapes, surrogates, invalid UTF-8 replaced).
// jsonlex.String accepts exactly the strings encoding/json accepts.
func (r *jsonReader) str(intern bool) string {
	raw, plain := r.scanStr()
	switch {
	case r.bad:
		return ""
	case plain && !intern:
		return string(raw)
	case plain:
		if s, ok := r.keys[string(raw)]; ok {
			return s
		}
		s := string(raw)
		r.keys[s] = s
		return s
	}
	return r.decodeStr(raw)
}

// decodeStr decodes the string just stepped over, whose text between the
// quotes is raw, and counts it if CUE refuses it.
func (r *jsonReader) decodeStr(raw []byte) string {
	var s string
	if json.Unmarshal(r.b[r.i-len(raw)-2:r.i], &s) != nil {
		r.fail()
		return ""
	}
	if cueRefuses(raw) {
		r.refused++
	}
	return s
}

// scanStr steps over the string at r.i, returning its text between the
// quotes and whether that text is its value (no escapes, valid UTF-8, no
// byte order mark: plainString).
func (r *jsonReader) scanStr() (raw []byte, plain bool) {
	end, ascii, ok := jsonlex.String(r.b, r.i)
	if !ok {
		r.fail()
		return nil, false
	}
	raw = r.b[r.i+1 : end-1]
	r.i = end
	return raw, ascii || plainString(raw)
}

// cueRefuses reports whether CUE's scanner refuses a string's text that
// JSON allows: invalid UTF-8 or an escaped surrogate that is not half of
// a pair (encoding/json puts U+FFFD there), or a byte order mark (CUE
// allows one only as the first character of a file). cosign's
// CompileBytes then fails on the whole statement, wherever the string is,
// so such a statement may be judged only whole: not decoded, not pruned.
func cueRefuses(raw []byte) bool {
	if !utf8.Valid(raw) || bytes.Contains(raw, byteOrderMark) {
		return true
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' || i+1 >= len(raw) {
			continue
		}
		if raw[i+1] != 'u' {
			i++ // the escaped character, which may be a backslash
			continue
		}
		switch v := hex4(raw[i+2:]); {
		case v >= 0xD800 && v < 0xDC00: // high: a low one must follow
			if i+12 > len(raw) || raw[i+6] != '\\' || raw[i+7] != 'u' {
				return true
			}
			if w := hex4(raw[i+8:]); w < 0xDC00 || w >= 0xE000 {
				return true
			}
			i += 11
		case v >= 0xDC00 && v < 0xE000: // low, alone
			return true
		default:
			i += 5
		}
	}
	return false
}

var byteOrderMark = []byte("\uFEFF")

// hex4 is the value of the four hex digits b starts with (-1 if not).
func hex4(b []byte) int {
	if len(b) < 4 {
		return -1
	}
	v := 0
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			v = v<<4 | int(c-'0')
		case 'a' <= c && c <= 'f':
			v = v<<4 | int(c-'a'+10)
		case 'A' <= c && c <= 'F':
			v = v<<4 | int(c-'A'+10)
		default:
			return -1
		}
	}
	return v
}

// refusedInto adds to n the strings read since the last call that CUE's
// scanner refuses.
func (r *jsonReader) refusedInto(n *int) {
	*n += r.refused
	r.refused = 0
}

// plainString reports whether a string's text is its value: no escapes,
// no control characters, valid UTF-8, no byte order mark (for CUE).
func plainString(raw []byte) bool {
	ascii := true
	for _, c := range raw {
		if c < 0x20 || c == '\\' {
			return false
		}
		if c >= utf8.RuneSelf {
			ascii = false
		}
	}
	return ascii || utf8.Valid(raw) && !bytes.Contains(raw, byteOrderMark)
}

// num reads the number that starts at r.i, as written.
func (r *jsonReader) num() string {
	end, ok := jsonlex.Number(r.b, r.i)
	if !ok {
		r.fail()
		return ""
	}
	start := r.i
	r.i = end
	return string(r.b[start:end])
}

// regoValue reads the value at r.i as OPA's ast.ValueFromReader would
// build it (json.Number kept as its text, small integers interned, a
// repeated key's last value kept).
func (r *jsonReader) regoValue() ast.Value {
	r.ws()
	switch r.peek() {
	case '{':
		base := len(r.pairs)
		for more := r.enter('}'); more; more = r.more('}') {
			k := r.key()
			v := r.regoValue()
			r.pairs = append(r.pairs, [2]*ast.Term{r.term(ast.String(k)), r.term(v)})
		}
		obj := ast.NewObject(r.pairs[base:]...)
		clear(r.pairs[base:])
		r.pairs = r.pairs[:base]
		return obj
	case '[':
		base := len(r.terms)
		for more := r.enter(']'); more; more = r.more(']') {
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
		r.literal("true")
		return ast.InternedValue(true)
	case 'f':
		r.literal("false")
		return ast.InternedValue(false)
	case 'n':
		r.literal("null")
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
// repeat a key (the map keeps the last value, as encoding/json's does)
// and the strings CUE refuses (cueRefuses): either way only the whole
// text judges the statement as cosign does.
func (r *jsonReader) goValue(dups *int) any {
	r.ws()
	switch r.peek() {
	case '{':
		m := map[string]any{}
		n := 0
		for more := r.enter('}'); more; more = r.more('}') {
			k := r.key()
			m[k] = r.goValue(dups)
			n++
		}
		if len(m) != n {
			*dups++
		}
		r.refusedInto(dups) // its keys
		return m
	case '[':
		base := len(r.elems)
		for more := r.enter(']'); more; more = r.more(']') {
			r.elems = append(r.elems, r.goValue(dups))
		}
		l := make([]any, len(r.elems)-base)
		copy(l, r.elems[base:])
		clear(r.elems[base:])
		r.elems = r.elems[:base]
		return l
	case '"':
		s := r.str(false)
		r.refusedInto(dups)
		return s
	case 't':
		r.literal("true")
		return true
	case 'f':
		r.literal("false")
		return false
	case 'n':
		r.literal("null")
		return nil
	default:
		return numLit(r.num())
	}
}

// skip steps over the value at r.i, checking it as goValue does.
func (r *jsonReader) skip(dups *int) {
	r.ws()
	switch r.peek() {
	case '{':
		base := len(r.seen)
		for more := r.enter('}'); more; more = r.more('}') {
			r.seen = append(r.seen, r.key())
			r.skip(dups)
		}
		r.objectEnd(base, dups)
	case '[':
		for more := r.enter(']'); more; more = r.more(']') {
			r.skip(dups)
		}
	case '"':
		r.skipStr()
	case 't':
		r.literal("true")
	case 'f':
		r.literal("false")
	case 'n':
		r.literal("null")
	default:
		r.num()
	}
}

// objectEnd counts the object whose keys are seen[base:] if it repeats
// one (sorted, so a crafted object of many keys costs n log n), and drops
// its keys.
func (r *jsonReader) objectEnd(base int, dups *int) {
	keys := r.seen[base:]
	slices.Sort(keys)
	for i := 1; i < len(keys); i++ {
		if keys[i] == keys[i-1] {
			*dups++
			break
		}
	}
	r.seen = r.seen[:base]
}

// skipStr steps over the string at r.i, checking and counting it as str
// does but without keeping it.
func (r *jsonReader) skipStr() {
	if raw, plain := r.scanStr(); !plain && !r.bad {
		r.decodeStr(raw)
	}
}
