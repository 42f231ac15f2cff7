// Package attpolicy is --policy of verify-attestation and
// verify-blob-attestation: it loads CUE and Rego files into pkg/policy
// before any network request, and checks verified attestations the way
// cosign verify-attestation does, printing cosign's lines.
package attpolicy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"

	"github.com/signetdev/signet/internal/fileutil"
	"github.com/signetdev/signet/pkg/policy"
)

// maxPolicySize bounds a policy file; real ones are a few KiB.
const maxPolicySize = 4 << 20

// AddFlag registers --policy (repeatable and comma-separated, as cosign's
// StringSlice).
func AddFlag(fs *pflag.FlagSet, paths *[]string) {
	fs.StringSliceVar(paths, "policy", nil, "specify CUE or Rego files with policies to be used for validation")
}

// Checker holds the compiled policies: CUE and Rego apart, because cosign
// evaluates them apart (Rego only when CUE passed).
type Checker struct {
	cueNames, regoNames []string
	cue, rego           *policy.Set
}

// Load reads and compiles the --policy files with eng. nil, nil when
// none are given. The type of each file is its extension.
func Load(ctx context.Context, eng policy.Engine, paths []string) (*Checker, error) {
	if len(paths) == 0 {
		return nil, nil
	}
	var cues, regos []policy.Source
	for _, p := range paths {
		lang, err := policy.LangOf(p)
		if err != nil {
			return nil, fmt.Errorf("--policy %s: %w", p, err)
		}
		data, err := fileutil.ReadLimit(p, maxPolicySize)
		if err != nil {
			return nil, fmt.Errorf("--policy %s: %w", p, err)
		}
		src := policy.Source{Name: p, Lang: lang, Data: data}
		if lang == policy.CUE {
			cues = append(cues, src)
		} else {
			regos = append(regos, src)
		}
	}
	c := &Checker{}
	var err error
	if len(cues) > 0 {
		if c.cue, err = policy.Compile(ctx, eng, policy.CosignCLI, cues...); err != nil {
			return nil, fmt.Errorf("--policy: %w", err)
		}
		c.cueNames = c.cue.Names(policy.CUE)
	}
	if len(regos) > 0 {
		if c.rego, err = policy.Compile(ctx, eng, policy.CosignCLI, regos...); err != nil {
			return nil, fmt.Errorf("--policy: %w", err)
		}
		c.regoNames = c.rego.Names(policy.Rego)
	}
	return c, nil
}

// Attestation is one verified attestation of the wanted type.
type Attestation struct {
	// Statement is the verified DSSE payload: the whole in-toto
	// statement, as signed (cosign re-encodes known predicate types
	// through its Go structs first; signet gives the policy the bytes
	// that were signed).
	Statement []byte
	// Name says which attestation it is in signet's detail lines: its
	// predicate type and where it came from (referrer digest, .att
	// layer, bundle file).
	Name string
}

// ErrValidation marks the summary error, "N validation errors occurred".
var ErrValidation = errors.New("validation errors occurred")

type summary int

func (s summary) Error() string        { return fmt.Sprintf("%d validation errors occurred", int(s)) }
func (s summary) Is(target error) bool { return target == ErrValidation }

// Check evaluates every attestation, all or nothing as cosign: any
// failure fails the run. It writes cosign's stderr lines to errOut (the
// "will be validating" line per attestation and engine, then "There are N
// number of errors occurred during the validation:" and a "- <error>"
// line each) and, indented under each, signet's detail naming the policy,
// the attestation and the failing path or rule. The error is cosign's
// "N validation errors occurred" (exit 1, as cosign).
func (c *Checker) Check(ctx context.Context, errOut io.Writer, atts []Attestation) error {
	type failed struct{ line, detail string }
	var fails []failed
	for _, a := range atts {
		for _, eng := range []struct {
			lang  string
			names []string
			set   *policy.Set
		}{{"CUE", c.cueNames, c.cue}, {"Rego", c.regoNames, c.rego}} {
			if eng.set == nil {
				continue
			}
			fmt.Fprintf(errOut, "will be validating against %s policies: %v\n", eng.lang, eng.names)
			r, err := eng.set.Check(ctx, a.Statement)
			if err != nil {
				return fmt.Errorf("evaluating %s policies on %s: %w", eng.lang, a.Name, err)
			}
			if r.Err() == nil {
				continue
			}
			var details []string
			for _, v := range r.Violations {
				details = append(details, fmt.Sprintf("    %s (attestation %s)", v, a.Name))
			}
			for i, m := range r.Messages {
				f := failed{line: m}
				if i == 0 {
					f.detail = strings.Join(details, "\n")
				}
				fails = append(fails, f)
			}
			break // cosign skips Rego once CUE failed
		}
	}
	if len(fails) == 0 {
		return nil
	}
	fmt.Fprintf(errOut, "There are %d number of errors occurred during the validation:\n\n", len(fails))
	for _, f := range fails {
		fmt.Fprintf(errOut, "- %s\n", f.line)
		if f.detail != "" {
			fmt.Fprintln(errOut, f.detail)
		}
	}
	return summary(len(fails))
}
