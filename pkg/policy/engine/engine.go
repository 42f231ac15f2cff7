// Package engine is pkg/policy's engines: CUE (cuelang.org/go) and Rego
// (OPA), in-process. signet itself does not link it (see pkg/policy); the
// signet-policy program serves it to signet over a pipe (Serve), and
// anything that can afford the engines' start-up cost uses Local.
package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/signetdev/signet/pkg/policy"
)

// The engine speaks pkg/policy's types.
type (
	Source     = policy.Source
	Lang       = policy.Lang
	Convention = policy.Convention
	Result     = policy.Result
	Violation  = policy.Violation
	Failure    = policy.Failure
)

const (
	CUE              = policy.CUE
	Rego             = policy.Rego
	CosignCLI        = policy.CosignCLI
	PolicyController = policy.PolicyController
)

// Local runs the engines in this process.
type Local struct{}

// Compile implements policy.Engine.
func (Local) Compile(ctx context.Context, conv Convention, srcs []Source) (policy.Evaluator, error) {
	return Compile(ctx, conv, srcs...)
}

// Set is a compiled group of policies. It is safe for concurrent use.
type Set struct {
	conv Convention
	cue  *cueSet
	rego *regoSet
}

// Compile parses and compiles srcs: every CUE source into one instance,
// every Rego source into one set of modules. It fails on the first source
// that does not compile, naming it.
func Compile(ctx context.Context, conv Convention, srcs ...Source) (*Set, error) {
	if len(srcs) == 0 {
		return nil, errors.New("no policies to compile")
	}
	var cues, regos []Source
	for _, s := range srcs {
		switch s.Lang {
		case CUE:
			cues = append(cues, s)
		case Rego:
			regos = append(regos, s)
		default:
			return nil, fmt.Errorf("policy %s: unknown language %q, expected cue or rego", s.Name, s.Lang)
		}
	}
	set := &Set{conv: conv}
	var err error
	if len(cues) > 0 {
		if set.cue, err = compileCUE(conv, cues); err != nil {
			return nil, err
		}
	}
	if len(regos) > 0 {
		if set.rego, err = compileRego(ctx, conv, regos); err != nil {
			return nil, err
		}
	}
	return set, nil
}

// Evaluate checks one statement: nil when every policy passes, else a
// *policy.Failure.
func (s *Set) Evaluate(ctx context.Context, statement []byte) error {
	r, err := s.Check(ctx, statement)
	if err != nil {
		return err
	}
	return r.Err()
}

// Check evaluates one statement against every policy of the set; err is
// for a statement that cannot be evaluated at all.
func (s *Set) Check(ctx context.Context, statement []byte) (r *Result, err error) {
	// A statement that trips a bug in an engine fails its own check, not
	// the checks running beside it in the same signet-policy.
	defer func() {
		if p := recover(); p != nil {
			r, err = nil, fmt.Errorf("policy engine failed on this statement: %v", p)
		}
	}()
	r = &Result{}
	if s.cue != nil {
		if err := s.cue.check(r, statement); err != nil {
			return nil, err
		}
	}
	if s.rego != nil {
		if err := s.rego.check(ctx, r, statement); err != nil {
			return nil, err
		}
	}
	return r, nil
}

func names(srcs []Source) []string {
	out := make([]string, len(srcs))
	for i, s := range srcs {
		out[i] = s.Name
	}
	return out
}
