package engine

import (
	"strconv"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/parser"
	"cuelang.org/go/cue/token"
)

// A CUE policy is usually a partial schema: it names a few fields of the
// statement and leaves the rest of a multi-megabyte SBOM alone. Unifying
// the whole statement costs CUE's evaluator time in every field and, for
// a list, time that grows with the square of its length (it finds each
// element's arc by a linear search). When the policy can be shown to
// constrain only the fields it names, the statement is pruned to those
// fields and a long list of elements that are each judged alone is
// judged in chunks. Only a pass is taken from this shortcut; a failure is
// judged again on the whole statement, so cosign's messages are kept.
//
// The shortcut holds only for policies with no references, definitions,
// embeddings, comprehensions or pattern constraints: those are the ways
// a CUE value can reach a field it does not name (closedness, patterns)
// or depend on another field's value. Anything outside that subset gets
// no shape and is evaluated whole.

// shape is what a policy constrains at one place in the statement.
type shape struct {
	whole  bool              // a constraint on the value itself: keep all of it
	fields map[string]*shape // fields a struct literal names
	elem   *shape            // [...X]: what X constrains in every element
	// noChunk: the place is under a disjunction, so its list may not be
	// judged a chunk at a time (each chunk might pick another disjunct).
	noChunk bool
}

// predeclaredOK are the predeclared identifiers a policy may use without
// losing its shape; "self" and the others refer to values and are left out.
var predeclaredOK = map[string]bool{
	"_": true, "string": true, "bytes": true, "bool": true, "int": true, "float": true,
	"number": true, "len": true, "close": true, "matchIf": true, "matchN": true,
	"and": true, "or": true, "div": true, "mod": true, "quo": true, "rem": true,
}

// shapeOf returns the shape of the unified sources, or nil when the
// policy is outside the subset the shortcut is sound for.
func shapeOf(srcs []Source) *shape {
	a := &shaper{imports: map[string]bool{}, labels: map[string]bool{}}
	root := &shape{fields: map[string]*shape{}}
	for _, src := range srcs {
		f, err := parser.ParseFile(src.Name, src.Data)
		if err != nil {
			return nil
		}
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.Package, *ast.Attribute, *ast.CommentGroup:
			case *ast.ImportDecl:
				for _, spec := range d.Specs {
					if !a.addImport(spec) {
						return nil
					}
				}
			case *ast.Field:
				if !a.field(root, d, false) {
					return nil
				}
			case *ast.Ellipsis:
				if d.Type != nil {
					return nil
				}
			default:
				return nil
			}
		}
	}
	// A field labelled like a name the policy uses would shadow it.
	for name := range a.labels {
		if predeclaredOK[name] || a.imports[name] {
			return nil
		}
	}
	return root
}

type shaper struct {
	imports map[string]bool // names imported packages are known by
	labels  map[string]bool // every field label: they may shadow names
}

func (a *shaper) addImport(spec *ast.ImportSpec) bool {
	if spec.Name != nil {
		a.imports[spec.Name.Name] = true
		return true
	}
	p, err := strconv.Unquote(spec.Path.Value)
	if err != nil || strings.Contains(p, ":") {
		return false
	}
	a.imports[p[strings.LastIndex(p, "/")+1:]] = true
	return true
}

// field adds a struct literal's field to s.
func (a *shaper) field(s *shape, f *ast.Field, inOr bool) bool {
	switch f.Label.(type) {
	case *ast.Ident, *ast.BasicLit:
	default: // pattern constraints, dynamic fields, aliases
		return false
	}
	name, _, err := ast.LabelName(f.Label)
	if err != nil || strings.HasPrefix(name, "#") || strings.HasPrefix(name, "_") {
		return false // definitions close what they hold; hidden fields are for references
	}
	a.labels[name] = true
	v := a.expr(f.Value, inOr)
	if v == nil {
		return false
	}
	s.fields[name] = merge(s.fields[name], v)
	return true
}

func (a *shaper) expr(e ast.Expr, inOr bool) *shape {
	var s *shape
	switch e := e.(type) {
	case *ast.ParenExpr:
		return a.expr(e.X, inOr)
	case *ast.StructLit:
		s = &shape{fields: map[string]*shape{}}
		for _, d := range e.Elts {
			switch d := d.(type) {
			case *ast.Field:
				if !a.field(s, d, inOr) {
					return nil
				}
			case *ast.Ellipsis:
				if d.Type != nil {
					return nil
				}
			case *ast.Attribute, *ast.CommentGroup:
			default: // embeddings, comprehensions, let
				return nil
			}
		}
	case *ast.ListLit:
		if len(e.Elts) == 1 {
			if el, ok := e.Elts[0].(*ast.Ellipsis); ok {
				s = &shape{elem: &shape{fields: map[string]*shape{}}}
				if el.Type != nil {
					if s.elem = a.expr(el.Type, inOr); s.elem == nil {
						return nil
					}
				}
				break
			}
		}
		if !a.plain(e) { // positions or a closed length: keep the list as it is
			return nil
		}
		s = &shape{whole: true}
	case *ast.BinaryExpr:
		switch e.Op {
		case token.AND, token.OR:
			or := inOr || e.Op == token.OR
			x, y := a.expr(e.X, or), a.expr(e.Y, or)
			if x == nil || y == nil {
				return nil
			}
			s = merge(x, y)
		default:
			if !a.plain(e) {
				return nil
			}
			s = &shape{whole: true}
		}
	case *ast.UnaryExpr:
		if e.Op == token.MUL { // a default marks a disjunct
			return a.expr(e.X, inOr)
		}
		if !a.plain(e) {
			return nil
		}
		s = &shape{whole: true}
	default:
		if !a.plain(e) {
			return nil
		}
		s = &shape{whole: true}
	}
	if inOr {
		s.noChunk = true
	}
	return s
}

// plain reports whether e refers to nothing but predeclared names and
// imported packages, so it judges the value in its place by itself. The
// value is then kept whole, whatever e does with it (close, matchN, …).
func (a *shaper) plain(e ast.Node) bool {
	ok := true
	ast.Walk(e, func(n ast.Node) bool {
		if !ok {
			return false
		}
		switch n := n.(type) {
		case *ast.Ident:
			ok = predeclaredOK[n.Name] || a.imports[n.Name]
		case *ast.SelectorExpr: // pkg.Name: only pkg is a reference
			ok = a.plain(n.X)
			return false
		case *ast.Field:
			switch n.Label.(type) {
			case *ast.Ident, *ast.BasicLit:
				name, _, err := ast.LabelName(n.Label)
				if err != nil || strings.HasPrefix(name, "#") || strings.HasPrefix(name, "_") {
					ok = false
					return false
				}
				a.labels[name] = true
				ok = a.plain(n.Value)
			default:
				ok = false
			}
			return false
		case *ast.Comprehension, *ast.LetClause, *ast.Alias, *ast.EmbedDecl,
			*ast.BadExpr, *ast.BadDecl, *ast.Func, *ast.PostfixExpr:
			ok = false
		}
		return ok
	}, nil)
	return ok
}

func merge(a, b *shape) *shape {
	if a == nil {
		return b
	}
	out := &shape{whole: a.whole || b.whole, noChunk: a.noChunk || b.noChunk}
	if a.fields != nil || b.fields != nil {
		out.fields = make(map[string]*shape, len(a.fields)+len(b.fields))
		for k, v := range a.fields {
			out.fields[k] = v
		}
		for k, v := range b.fields {
			out.fields[k] = merge(out.fields[k], v)
		}
	}
	switch {
	case a.elem == nil:
		out.elem = b.elem
	case b.elem == nil:
		out.elem = a.elem
	default:
		out.elem = merge(a.elem, b.elem)
	}
	return out
}

// chunk is a list that may be judged a part at a time: an open list whose
// every element is held to the same constraint, reached from the root
// through struct fields only.
type chunk struct {
	parent map[string]any
	key    string
	list   []any
	path   cue.Path // where the list is
	// alone: no struct on the way to the list is under a disjunction, so
	// the list may be judged without its siblings (passChunks).
	alone bool
}

// prune returns the part of the decoded value v the shape constrains,
// and collects in chunks the lists that may be judged in parts.
func (s *shape) prune(v any, inList bool, chunks *[]chunk) any {
	return s.pruneAt(v, inList, nil, true, chunks)
}

// pruneAt is prune at the place reached by sels (outside lists), alone
// while no struct on the way is under a disjunction.
func (s *shape) pruneAt(v any, inList bool, sels []cue.Selector, alone bool, chunks *[]chunk) any {
	if s.whole {
		return v
	}
	switch t := v.(type) {
	case map[string]any:
		if s.fields == nil {
			return v
		}
		alone = alone && !s.noChunk
		out := make(map[string]any, len(s.fields))
		for k, fs := range s.fields {
			x, ok := t[k]
			if !ok {
				continue
			}
			var at []cue.Selector
			if !inList {
				at = append(sels[:len(sels):len(sels)], cue.Str(k))
			}
			out[k] = fs.pruneAt(x, inList, at, alone, chunks)
			if l, ok := out[k].([]any); ok && fs.chunkable() && !inList {
				*chunks = append(*chunks, chunk{parent: out, key: k, list: l, path: cue.MakePath(at...), alone: alone})
			}
		}
		return out
	case []any:
		if s.elem == nil {
			return v
		}
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = s.elem.pruneAt(x, true, nil, false, chunks)
		}
		return out
	default:
		return v
	}
}

// passChunks reports whether the pruned statement passes, its chunked
// lists judged s.chunk elements at a time. The first round judges all of
// the pruned statement, each list at its first chunk. Judging all of it
// again in every later round cost as much as the statement judged whole,
// per round, when the policy keeps a big value whole beside a chunked
// list (BenchmarkChunkedBesideWhole). So when every list is alone, a
// later round holds only the lists' next chunks, in the structs that lead
// to them, and looks at the lists alone: in the subset shapeOf accepts, a
// list reached through struct literals not under a disjunction can
// neither make a sibling fail nor be made to fail by one (no references;
// a validator or close() on a struct on the way keeps it whole, so no
// list in it is chunked). false means "judge it again the slow way".
func (s *cueSet) passChunks(v cue.Value, pruned any, chunks []chunk) bool {
	rounds, alone := 1, true
	for _, c := range chunks {
		rounds = max(rounds, (len(c.list)+s.chunk-1)/s.chunk)
		alone = alone && c.alone
	}
	for r := range rounds {
		doc := pruned
		if r > 0 && alone {
			doc = map[string]any{}
		}
		for _, c := range chunks {
			lo, hi := min(r*s.chunk, len(c.list)), min((r+1)*s.chunk, len(c.list))
			c.parent[c.key] = c.list[lo:hi]
			if r > 0 && alone && lo < hi {
				place(doc.(map[string]any), c.path.Selectors(), c.list[lo:hi])
			}
		}
		st := v.Context().Encode(doc)
		if st.Err() != nil {
			return false
		}
		u := v.Unify(st)
		if r == 0 || !alone {
			if !s.passes(u) {
				return false
			}
			continue
		}
		for _, c := range chunks {
			if r*s.chunk < len(c.list) && !s.passes(u.LookupPath(c.path)) {
				return false
			}
		}
	}
	return true
}

// place puts x in m at the path sels, making the structs on the way.
func place(m map[string]any, sels []cue.Selector, x any) {
	for _, sel := range sels[:len(sels)-1] {
		next, ok := m[sel.Unquoted()].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[sel.Unquoted()] = next
		}
		m = next
	}
	m[sels[len(sels)-1].Unquoted()] = x
}

func (s *shape) chunkable() bool {
	return !s.whole && !s.noChunk && s.elem != nil
}

// pruneText writes the part of a statement's JSON text the shape reaches,
// in the text's own order and spelling. dups counts the objects that
// repeat a key anywhere, also in the parts left out, and the strings
// CUE's scanner refuses (cueRefuses): CUE unifies a repeated key's
// values, and fails on such a string wherever it is, so only the whole
// text judges those.
//
// With exact, CUE judges the pruned text as it would the whole text: the
// same paths, values and order of errors, so cosign's lines can come from
// it. Three places are then kept whole: a value under a disjunction (an
// empty disjunction's message prints the value), a value of another kind
// than the policy's literal there, and any value where the policy holds
// it to a struct and a list at once (a conflict prints both sides);
// TestFastPassAgrees and FuzzCUEShape compare the lines.
func pruneText(statement []byte, s *shape, exact bool) (pruned []byte, dups int, err error) {
	r := newJSONReader(statement)
	out := r.pruned(s, exact, make([]byte, 0, 4096), &dups)
	r.refusedInto(&dups)
	if err := r.end(); err != nil {
		return nil, 0, err
	}
	return out, dups, nil
}

func (r *jsonReader) pruned(s *shape, exact bool, out []byte, dups *int) []byte {
	r.ws()
	start := r.i
	switch c := r.peek(); {
	case s.whole, exact && (s.noChunk || s.fields != nil && s.elem != nil),
		c == '[' && s.elem == nil, c == '{' && s.fields == nil, c != '{' && c != '[':
		r.skip(dups)
		return append(out, r.b[start:r.i]...)
	case c == '[':
		out = append(out, '[')
		for more, n := r.enter(']'), 0; more; more, n = r.more(']'), n+1 {
			if n > 0 {
				out = append(out, ',')
			}
			out = r.pruned(s.elem, exact, out, dups)
		}
		return append(out, ']')
	}
	out = append(out, '{')
	base, kept := len(r.seen), 0
	for more := r.enter('}'); more; more = r.more('}') {
		r.ws()
		keyStart := r.i
		k := r.key()
		r.seen = append(r.seen, k)
		fs, ok := s.fields[k]
		if !ok {
			r.skip(dups)
			continue
		}
		if kept++; kept > 1 {
			out = append(out, ',')
		}
		out = append(out, r.b[keyStart:r.i]...) // the name as written, and its colon
		out = r.pruned(fs, exact, out, dups)
	}
	r.objectEnd(base, dups)
	return append(out, '}')
}
