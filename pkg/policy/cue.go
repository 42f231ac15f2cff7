//go:build !nopolicy

package policy

import (
	"encoding/json"
	"errors"
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
	conv Convention
	srcs []Source
}

func compileCUE(conv Convention, srcs []Source) (*cueSet, error) {
	s := &cueSet{conv: conv, srcs: srcs}
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
	if !json.Valid(statement) {
		return errors.New("statement is not valid JSON")
	}
	st := v.Context().CompileBytes(statement, cue.Filename("statement"))
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
	err = all
	for _, e := range cueerrors.Errors(err) {
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
