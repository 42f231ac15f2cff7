package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
)

// The queries of the two conventions. cosign's has no bindings, so a
// result is allowed only when it is exactly one `true`; policy-controller
// binds the rule so a set of result objects can be read.
const (
	cosignQuery = "data.signature.allow"
	pcRule      = "isCompliant"
	pcQuery     = pcRule + " = data.sigstore." + pcRule
)

// withheld are builtins a policy may not call: a policy decides over the
// statement it is given, and must not reach the network outside signet's
// injected transports (nor, in the webhook, the cluster's).
var withheld = map[string]bool{"http.send": true, "net.lookup_ip_addr": true}

type regoSet struct {
	conv  Convention
	srcs  []Source
	query rego.PreparedEvalQuery // safe for concurrent Eval
	// deny is data.signature.deny, beyond cosign (CosignCLI only): a set
	// of messages a policy may define to say why allow is not true;
	// cosign ignores the rule, so such a policy works with both.
	deny *rego.PreparedEvalQuery
}

func compileRego(ctx context.Context, conv Convention, srcs []Source) (*regoSet, error) {
	query := cosignQuery
	if conv == PolicyController {
		query = pcQuery
	}
	caps := ast.CapabilitiesForThisVersion()
	kept := caps.Builtins[:0]
	for _, b := range caps.Builtins {
		if !withheld[b.Name] {
			kept = append(kept, b)
		}
	}
	caps.Builtins = kept
	opts := []func(*rego.Rego){
		rego.Query(query),
		// cosign and policy-controller parse policies as Rego v0; a v1
		// policy says `import rego.v1`, which the v0 parser honours.
		rego.SetRegoVersion(ast.RegoV0),
		rego.Capabilities(caps),
	}
	for _, s := range srcs {
		opts = append(opts, rego.Module(s.Name, string(s.Data)))
	}
	pq, err := rego.New(opts...).PrepareForEval(ctx)
	if err != nil {
		return nil, fmt.Errorf("policy %s: %s", strings.Join(names(srcs), ", "), strings.Join(strings.Fields(err.Error()), " "))
	}
	set := &regoSet{conv: conv, srcs: srcs, query: pq}
	if conv == CosignCLI {
		opts[0] = rego.Query(denyQuery)
		dq, err := rego.New(opts...).PrepareForEval(ctx)
		if err != nil {
			return nil, fmt.Errorf("policy %s: %s", strings.Join(names(srcs), ", "), strings.Join(strings.Fields(err.Error()), " "))
		}
		set.deny = &dq
	}
	return set, nil
}

const denyQuery = "data.signature.deny"

// denied evaluates data.signature.deny; its messages (strings, or any
// value as JSON), sorted, or none when the rule is absent or fails.
func (s *regoSet) denied(ctx context.Context, input ast.Value) string {
	if s.deny == nil {
		return ""
	}
	rs, err := s.deny.Eval(ctx, rego.EvalParsedInput(input))
	if err != nil || len(rs) != 1 || len(rs[0].Expressions) != 1 {
		return ""
	}
	var msgs []string
	switch v := rs[0].Expressions[0].Value.(type) {
	case []any:
		for _, m := range v {
			if str, ok := m.(string); ok {
				msgs = append(msgs, str)
			} else {
				msgs = append(msgs, jsonText(m))
			}
		}
	case string:
		msgs = append(msgs, v)
	}
	sort.Strings(msgs)
	if len(msgs) == 0 {
		return ""
	}
	return "; deny: " + strings.Join(msgs, "; ")
}

func (s *regoSet) check(ctx context.Context, r *Result, statement []byte) error {
	// Numbers stay exact, as cosign decodes them (UseNumber): a size or
	// a CVSS score compares exactly, whatever its digits. The statement
	// is converted once, here: rego.EvalInput would round-trip it through
	// JSON again, which for a 5 MB SBOM costs as much as the policy.
	jr := newJSONReader(statement)
	input := jr.regoValue()
	if err := jr.end(); err != nil {
		return err
	}
	rs, err := s.query.Eval(ctx, rego.EvalParsedInput(input))
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		r.Messages = append(r.Messages, err.Error())
		r.Violations = append(r.Violations, s.violation(queryOf(s.conv), "evaluation failed: "+strings.Join(strings.Fields(err.Error()), " ")))
		return nil
	}
	if s.conv == PolicyController {
		s.checkCompliant(r, rs)
		return nil
	}
	if rs.Allowed() {
		return nil
	}
	why := s.denied(ctx, input)
	before := len(r.Violations)
	for _, result := range rs {
		for _, e := range result.Expressions {
			r.Messages = append(r.Messages, fmt.Sprintf("expression value, %v, is not true", e))
			r.Violations = append(r.Violations, s.violation(cosignQuery, fmt.Sprintf("is %s, not true%s", jsonText(e.Value), why)))
		}
	}
	if len(r.Violations) == before {
		r.Messages = append(r.Messages, fmt.Sprintf("result is undefined for query '%s'", cosignQuery))
		r.Violations = append(r.Violations, s.violation(cosignQuery, "is undefined (no `allow` rule in `package signature` gave a value)"+why))
	}
	return nil
}

// checkCompliant reads policy-controller's isCompliant: true passes; a set
// (or array) of {result, error, warning} objects passes on the first
// object whose result is true, its warning kept for the caller to show
// (the admission webhook's warnings); else it fails with every object's
// error text. Items are read in order (a set's is OPA's sorted order) and
// an item that is not such an object, or whose result is not a boolean,
// fails the policy when it is reached, as policy-controller's parse of
// the object does (fail closed).
func (s *regoSet) checkCompliant(r *Result, rs rego.ResultSet) {
	notCompliant := fmt.Sprintf("policy is not compliant for query '%s'", pcQuery)
	for _, result := range rs {
		switch v := result.Bindings[pcRule].(type) {
		case bool:
			if v {
				return
			}
		case []any:
			s.checkResults(r, v)
			return
		}
	}
	r.Messages = append(r.Messages, notCompliant)
	r.Violations = append(r.Violations, s.violation("data.sigstore."+pcRule, "is not compliant (undefined, false, or not a boolean or a set of results)"))
}

func (s *regoSet) checkResults(r *Result, items []any) {
	var errs, warns []string
	for _, item := range items {
		obj, ok := item.(map[string]any)
		res, isBool := obj["result"].(bool)
		if _, present := obj["result"]; !present {
			isBool = true // absent is false, as in policy-controller
		}
		if !ok || !isBool {
			r.Messages = append(r.Messages, fmt.Sprintf("policy is not compliant for query '%s': unexpected result %s", pcQuery, jsonText(item)))
			r.Violations = append(r.Violations, s.violation("data.sigstore."+pcRule, "is not compliant: "+jsonText(item)+" is not a {result: bool, error, warning} object"))
			return
		}
		w, _ := obj["warning"].(string)
		e, _ := obj["error"].(string)
		if res {
			if w != "" {
				r.Warnings = append(r.Warnings, w)
			}
			return
		}
		if w != "" {
			warns = append(warns, w)
		}
		if e != "" {
			errs = append(errs, e)
		}
	}
	r.Warnings = append(r.Warnings, warns...)
	msg, reason := fmt.Sprintf("policy is not compliant for query %q", pcQuery), "is not compliant"
	if len(errs) > 0 {
		msg = fmt.Sprintf("policy is not compliant for query '%s' with errors: %s", pcQuery, strings.Join(errs, "; "))
		reason = "is not compliant: " + strings.Join(errs, "; ")
	}
	r.Messages = append(r.Messages, msg)
	r.Violations = append(r.Violations, s.violation("data.sigstore."+pcRule, reason))
}

func (s *regoSet) violation(path, reason string) Violation {
	return Violation{Policy: strings.Join(names(s.srcs), ", "), Lang: Rego, Path: path, Reason: reason}
}

func queryOf(c Convention) string {
	if c == PolicyController {
		return "data.sigstore." + pcRule
	}
	return cosignQuery
}

// jsonText shows a Rego value as JSON (a set as its array), falling back
// to Go's form.
func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
