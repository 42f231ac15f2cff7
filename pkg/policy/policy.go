// Package policy evaluates attestation policies (CUE and Rego) over in-toto
// statements. It is the one policy engine of signet: verify-attestation and
// verify-blob-attestation use it with cosign's CLI conventions, the
// admission webhook with policy-controller's. It knows nothing of flags,
// files or registries: callers hand it named sources and statement bytes.
//
// The engines (cuelang.org/go, OPA) live in pkg/policy/engine and are not
// linked into signet: they cost more start-up time and memory than every
// other package together, for the few runs that pass --policy. signet runs
// them in the signet-policy program shipped beside it (Process); tests and
// other programs may run them in-process (engine.Local). Either way the
// same code judges, through the Engine interface.
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

// Engine compiles policies into an Evaluator.
type Engine interface {
	Compile(ctx context.Context, conv Convention, srcs []Source) (Evaluator, error)
}

// Evaluator judges statements against compiled policies. It is safe for
// concurrent use.
type Evaluator interface {
	// Check evaluates one statement; err is for a statement that cannot
	// be evaluated at all, policy failures are in the Result.
	Check(ctx context.Context, statement []byte) (*Result, error)
}

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
	srcs []Source
	ev   Evaluator
}

// Compile has eng parse and compile srcs: every CUE source into one
// instance, every Rego source into one set of modules. It fails on the
// first source that does not compile, naming it.
func Compile(ctx context.Context, eng Engine, conv Convention, srcs ...Source) (*Set, error) {
	if len(srcs) == 0 {
		return nil, errors.New("no policies to compile")
	}
	for _, s := range srcs {
		if s.Lang != CUE && s.Lang != Rego {
			return nil, fmt.Errorf("policy %s: unknown language %q, expected cue or rego", s.Name, s.Lang)
		}
	}
	ev, err := eng.Compile(ctx, conv, srcs)
	if err != nil {
		return nil, err
	}
	return &Set{srcs: srcs, ev: ev}, nil
}

// Names lists the policies of lang in the set, in the order given.
func (s *Set) Names(lang Lang) []string {
	var out []string
	for _, src := range s.srcs {
		if src.Lang == lang {
			out = append(out, src.Name)
		}
	}
	return out
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
	return s.ev.Check(ctx, statement)
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
