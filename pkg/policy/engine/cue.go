package engine

import (
	"fmt"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/build"
	"cuelang.org/go/cue/cuecontext"
	cueerrors "cuelang.org/go/cue/errors"
	"cuelang.org/go/cue/parser"
	"cuelang.org/go/cue/token"
)

// cueSet holds the CUE sources, checked once by compileCUE. Each statement
// is evaluated in a fresh cue.Context built from the sources again: a
// Context grows with every value compiled in it and is not safe for
// concurrent use, and a long-running admission webhook evaluates many
// statements concurrently. Building the policy costs far less than
// compiling a statement.
type cueSet struct {
	conv  Convention
	srcs  []Source
	shape *shape // nil: evaluate the statement whole (cueshape.go)
	chunk int    // elements of a list judged at once; chunkLen but in tests
}

func compileCUE(conv Convention, srcs []Source) (*cueSet, error) {
	s := &cueSet{conv: conv, srcs: srcs, shape: shapeOf(srcs), chunk: chunkLen}
	if _, err := s.build(); err != nil {
		return nil, err
	}
	return s, nil
}

// build unifies every source into one instance, as cosign's
// load.Instances(files) does: the files must share a package clause (or
// have none) and may import CUE's standard library.
func (s *cueSet) build() (cue.Value, error) {
	inst := build.NewContext().NewInstance("", nil)
	for _, src := range s.srcs {
		f, err := parser.ParseFile(src.Name, src.Data, parser.ParseComments)
		if err != nil {
			return cue.Value{}, fmt.Errorf("policy %s: %s", src.Name, oneLine(err))
		}
		if err := inst.AddSyntax(f); err != nil {
			return cue.Value{}, fmt.Errorf("policy %s: %s", src.Name, oneLine(err))
		}
	}
	if inst.Err != nil {
		return cue.Value{}, fmt.Errorf("policy %s: %s", strings.Join(names(s.srcs), ", "), oneLine(inst.Err))
	}
	v := cuecontext.New().BuildInstance(inst)
	if err := v.Err(); err != nil {
		return cue.Value{}, fmt.Errorf("policy %s: %s", s.policyOf(err), oneLine(err))
	}
	return v, nil
}

func (s *cueSet) check(r *Result, statement []byte) error {
	v, err := s.build()
	if err != nil {
		return err
	}
	// What CUE judges: the part of the text the policy reaches
	// (cueshape.go), unless some object repeats a key, which CompileBytes
	// unifies wherever it is.
	text, dup := statement, false
	if s.shape != nil {
		pruned, dups, err := pruneText(statement, s.shape, false)
		if err != nil {
			return err
		}
		if dup = dups > 0; !dup {
			text = pruned
		}
	}
	// The fast path: Encode builds the statement's value straight from the
	// decoded document, a third of the cost of compiling the JSON text as
	// CUE source (parse, compile, evaluate). Numbers keep their literal
	// text (numLit), so the verdict is the one CompileBytes gives
	// (TestEncodeMatchesCompileBytes). Only the order of fields differs,
	// and with it which error CUE names first; so a statement that fails,
	// or whose JSON repeats a key (which CompileBytes unifies and a decoded
	// map would silently drop), is judged again the slow way, for cosign's
	// exact lines.
	if !dup {
		doc, d, err := decodeStatement(text)
		if err != nil {
			return err
		}
		if !d && s.fastPass(v, doc) {
			return nil
		}
		if s.shape != nil {
			if text, _, err = pruneText(statement, s.shape, true); err != nil {
				return err
			}
		}
	}
	return s.judge(r, v, text)
}

// judge evaluates the statement's text as cosign (or policy-controller)
// does and puts its lines and violations in r.
func (s *cueSet) judge(r *Result, v cue.Value, text []byte) error {
	st := v.Context().CompileBytes(text, cue.Filename("statement"))
	if err := st.Err(); err != nil {
		return fmt.Errorf("statement: %s", oneLine(err))
	}
	u := v.Unify(st)
	var all error
	switch s.conv {
	case PolicyController:
		// policy-controller: Unify, then Validate() with no options.
		all = u.Validate()
		if all != nil {
			r.Messages = append(r.Messages, "failed to evaluate the policy with error: "+all.Error())
		}
	default:
		// cosign's encoding/json.Validate: after Unify it returns the
		// value's first error alone, else Validate(cue.Final()). Its text
		// is cosign's line; every error of Validate goes in Violations.
		all = u.Validate(cue.Final())
		if first := u.Err(); first != nil {
			r.Messages = append(r.Messages, first.Error())
			if all == nil {
				all = first
			}
		} else if all != nil {
			r.Messages = append(r.Messages, all.Error())
		}
	}
	if all == nil {
		return nil
	}
	for _, e := range cueerrors.Errors(all) {
		format, args := e.Msg()
		r.Violations = append(r.Violations, Violation{
			Policy: s.policyOf(e),
			Lang:   CUE,
			Path:   strings.Join(e.Path(), "."),
			Reason: fmt.Sprintf(format, args...),
		})
	}
	return nil
}

// chunkLen bounds the elements of a list judged in one unification:
// CUE's cost per list grows with the square of its length.
const chunkLen = 512

// fastPass reports whether the statement passes, judging only the part of
// it the policy's shape reaches, long lists a chunk at a time. false means
// "judge it again the slow way", not "fails".
func (s *cueSet) fastPass(v cue.Value, doc any) bool {
	if s.shape == nil {
		st := v.Context().Encode(doc)
		return st.Err() == nil && s.passes(v.Unify(st))
	}
	var chunks []chunk
	return s.passChunks(v, s.shape.prune(doc, false, &chunks), chunks)
}

// passes is the verdict of the slow path below, without its messages.
func (s *cueSet) passes(u cue.Value) bool {
	if s.conv == PolicyController {
		return u.Validate() == nil
	}
	return u.Err() == nil && u.Validate(cue.Final()) == nil
}

// policyOf names the source a CUE error points into; when it points into
// none (or the engine gives no position), every source is named.
func (s *cueSet) policyOf(err error) string {
	for _, e := range cueerrors.Errors(err) {
		for _, pos := range append([]token.Pos{e.Position()}, e.InputPositions()...) {
			for _, src := range s.srcs {
				if pos.Filename() == src.Name {
					return src.Name
				}
			}
		}
	}
	return strings.Join(names(s.srcs), ", ")
}

// oneLine flattens a CUE error list: every message with its position,
// joined with "; ".
func oneLine(err error) string {
	errs := cueerrors.Errors(err)
	if len(errs) == 0 {
		return err.Error()
	}
	parts := make([]string, 0, len(errs))
	for _, e := range errs {
		msg := e.Error()
		if pos := e.Position(); pos.IsValid() {
			msg += " (" + pos.String() + ")"
		}
		parts = append(parts, msg)
	}
	return strings.Join(parts, "; ")
}

// numLit is a JSON number as written. CUE's Encode hands a json.Marshaler's
// text to its own parser, so the number becomes exactly the literal the
// JSON held: 1 an int, 1.0 a float, 1e400 still exact.
type numLit string

func (n numLit) MarshalJSON() ([]byte, error) { return []byte(n), nil }

// decodeStatement decodes the statement's JSON with every number kept as
// its literal; dup reports an object that repeats a key (a decoded map
// keeps one of the values).
func decodeStatement(statement []byte) (doc any, dup bool, err error) {
	var dups int
	r := newJSONReader(statement)
	doc = r.goValue(&dups)
	if err := r.end(); err != nil {
		return nil, false, err
	}
	return doc, dups > 0, nil
}
