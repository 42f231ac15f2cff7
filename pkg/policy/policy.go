// Package policy evaluates attestation policies (CUE and Rego) over in-toto
// statements. It is the one policy engine of signet: verify-attestation and
// verify-blob-attestation use it with cosign's CLI conventions, the
// admission webhook with policy-controller's. It knows nothing of flags,
// files or registries: callers hand it named sources and statement bytes.
//
// The engines (cuelang.org/go, OPA) are linked only without the nopolicy
// build tag; with it, Compile fails with ErrNotBuilt.
package policy

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
)

// Lang is a policy language.
type Lang string

// The languages cosign and policy-controller accept.
const (
	CUE  Lang = "cue"
	Rego Lang = "rego"
)

// Source is one policy: its name (a file path, or where an admission
// policy came from, e.g. "policy P, authority A, attestation N"; it names
// the policy in errors), its language and its text.
type Source struct {
	Name string
	Lang Lang
	Data []byte
}

// Convention says which query a policy answers and how its result reads.
type Convention int

const (
	// CosignCLI is cosign verify-attestation's: Rego `package signature`
	// with a boolean `allow` (data.signature.allow), parsed as Rego v0
	// (v1 syntax with `import rego.v1`); CUE files unified into one
	// instance that the statement must satisfy (cuejson.Validate).
	CosignCLI Convention = iota
	// PolicyController is policy-controller's ClusterImagePolicy
	// attestation policies: Rego `package sigstore`, rule isCompliant,
	// either a boolean or a set of {result, error, warning} objects
	// (policy-controller's custom messages); CUE unified with the
	// statement and validated.
	PolicyController
)

// ErrNotBuilt is Compile's error in a binary built with -tags nopolicy.
var ErrNotBuilt = errors.New("CUE and Rego policies are not available: this signet was built with -tags nopolicy")

// LangOf tells a policy file's language by its extension, as cosign does.
func LangOf(path string) (Lang, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".cue":
		return CUE, nil
	case ".rego":
		return Rego, nil
	}
	return "", errors.New("invalid policy format, expected .cue or .rego")
}

// Set is a compiled group of policies, ready to evaluate statements. It is
// safe for concurrent use.
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

// Names lists the policies of lang in the set, in the order given.
func (s *Set) Names(lang Lang) []string {
	switch {
	case lang == CUE && s.cue != nil:
		return names(s.cue.srcs)
	case lang == Rego && s.rego != nil:
		return names(s.rego.srcs)
	}
	return nil
}

// Evaluate checks one statement (the whole in-toto statement JSON) against
// every policy of the set: nil when all pass, else a *Failure listing every
// failing policy. Warnings of passing policies are dropped; use Check to
// see them.
func (s *Set) Evaluate(ctx context.Context, statement []byte) error {
	r, err := s.Check(ctx, statement)
	if err != nil {
		return err
	}
	return r.Err()
}

// Verdict evaluates like Evaluate and also returns the warnings
// policy-controller style Rego results gave (of passing policies, and of
// failing ones beside the error): the admission webhook shows them.
func (s *Set) Verdict(ctx context.Context, statement []byte) (warnings []string, err error) {
	r, err := s.Check(ctx, statement)
	if err != nil {
		return nil, err
	}
	return r.Warnings, r.Err()
}

// Check evaluates like Evaluate and returns the whole result, warnings
// included. err is for a statement that cannot be evaluated at all (not
// JSON, a cancelled context); policy failures are in the Result.
func (s *Set) Check(ctx context.Context, statement []byte) (*Result, error) {
	r := &Result{}
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

// Violation is one way a statement failed a policy.
type Violation struct {
	// Policy names the failing source (for CUE, the file the failing
	// constraint is in when the engine says so, else every CUE source).
	Policy string
	Lang   Lang
	// Path is the failing value's path in the statement (CUE, e.g.
	// "predicate.builder.id") or the rule queried (Rego).
	Path   string
	Reason string
}

func (v Violation) String() string {
	s := "policy " + v.Policy
	if v.Path != "" {
		s += ": " + v.Path
	}
	return s + ": " + v.Reason
}

// Result is the outcome of one statement against a Set.
type Result struct {
	Violations []Violation
	// Messages are the engines' own error texts, one per failing engine
	// (CUE) or result (Rego), word for word what cosign (CosignCLI) or
	// policy-controller (PolicyController) reports for the same policy
	// and statement, so the CLI can print cosign's lines.
	Messages []string
	// Warnings come from policy-controller style Rego results.
	Warnings []string
}

// Err is nil when the statement passed, else a *Failure.
func (r *Result) Err() error {
	if len(r.Violations) == 0 {
		return nil
	}
	return &Failure{Violations: r.Violations, Messages: r.Messages, Warnings: r.Warnings}
}

// Failure is the error of a statement that failed one or more policies.
type Failure struct {
	Violations []Violation
	Messages   []string
	Warnings   []string
}

func (f *Failure) Error() string {
	parts := make([]string, len(f.Violations))
	for i, v := range f.Violations {
		parts[i] = v.String()
	}
	return strings.Join(parts, "; ")
}

func names(srcs []Source) []string {
	out := make([]string, len(srcs))
	for i, s := range srcs {
		out[i] = s.Name
	}
	return out
}
