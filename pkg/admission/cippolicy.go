package admission

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/sigstore/sigstore/pkg/cryptoutils"

	"github.com/signetdev/signet/pkg/imagesig"
)

// cipPolicy is a ClusterImagePolicy's spec.policy: CUE or Rego, with
// policy-controller's conventions, over the results of every authority
// that passed (policyResult), and, when asked, the object's spec,
// metadata and type.
type cipPolicy struct {
	policy                                StatementPolicy
	includeSpec, includeMeta, includeType bool
	fetchConfig                           bool
}

func compileCIPPolicy(ctx context.Context, name string, pol *PolicyDocSpec, o LoadOptions) (*cipPolicy, error) {
	sp, err := compilePolicyDoc(ctx, name, pol, o)
	if err != nil {
		return nil, err
	}
	is := func(b *bool) bool { return b != nil && *b }
	return &cipPolicy{policy: sp, includeSpec: is(pol.IncludeSpec), includeMeta: is(pol.IncludeObjectMeta), includeType: is(pol.IncludeTypeMeta),
		fetchConfig: is(pol.FetchConfigFile)}, nil
}

// includes reports whether the verdict depends on the object.
func (c *cipPolicy) includes() bool {
	return c != nil && (c.includeSpec || c.includeMeta || c.includeType)
}

// objectParts are the parts of a request's object a spec.policy may
// include, read once per request, with what cache keys need of them
// (metadata needs nothing: verdicts that include it are not cached).
type objectParts struct {
	spec, meta      json.RawMessage
	typ             *typeMeta
	specSum, typSum string
	err             error
}

func readObjectParts(obj []byte) *objectParts {
	var o struct {
		APIVersion string          `json:"apiVersion"`
		Kind       string          `json:"kind"`
		Metadata   json.RawMessage `json:"metadata"`
		Spec       json.RawMessage `json:"spec"`
	}
	if err := json.Unmarshal(obj, &o); err != nil {
		return &objectParts{err: fmt.Errorf("reading the object for includeSpec/includeObjectMeta/includeTypeMeta: %w", err)}
	}
	sum := func(b []byte) string {
		h := sha256.Sum256(b)
		return hex.EncodeToString(h[:])
	}
	return &objectParts{spec: o.Spec, meta: o.Metadata, typ: &typeMeta{Kind: o.Kind, APIVersion: o.APIVersion},
		specSum: sum(o.Spec), typSum: o.APIVersion + "/" + o.Kind}
}

// cacheKey is what a cached verdict of this policy depends on in the
// object: the hashes of the parts it includes.
func (c *cipPolicy) cacheKey(o *objectParts) string {
	if !c.includes() || o == nil {
		return ""
	}
	var k string
	if c.includeSpec {
		k += "spec:" + o.specSum
	}
	if c.includeMeta {
		k += "|meta" // never stored (cacheable), so never found
	}
	if c.includeType {
		k += "|type:" + o.typSum
	}
	return k
}

// cacheable: includeObjectMeta's input (uid, resourceVersion,
// managedFields…) differs on every request, so its verdicts would fill
// the cache without ever being found.
func (c *cipPolicy) cacheable() bool { return c == nil || !c.includeMeta }

// policyResult is policy-controller's PolicyResult as JSON: its
// authorityMatches, config, spec, metadata and typemeta.
type policyResult struct {
	AuthorityMatches map[string]authorityMatch  `json:"authorityMatches,omitempty"`
	Config           map[string]json.RawMessage `json:"config,omitempty"`
	Spec             json.RawMessage            `json:"spec,omitempty"`
	ObjectMeta       json.RawMessage            `json:"metadata,omitempty"`
	TypeMeta         *typeMeta                  `json:"typemeta,omitempty"`
}

type typeMeta struct {
	Kind       string `json:"kind,omitempty"`
	APIVersion string `json:"apiVersion,omitempty"`
}

// authorityMatch is what one passing authority found: signatures, or
// attestations by name, or a static pass.
type authorityMatch struct {
	Signatures   []policySignature              `json:"signatures,omitempty"`
	Attestations map[string][]policyAttestation `json:"attestations,omitempty"`
	Static       bool                           `json:"static,omitempty"`
}

// policySignature is policy-controller's PolicySignature: the layer's
// digest as id, the certificate's subject and issuer, and the GitHub
// workflow claims under policy-controller's names.
type policySignature struct {
	ID                    string `json:"id,omitempty"`
	Subject               string `json:"subject,omitempty"`
	Issuer                string `json:"issuer,omitempty"`
	GitHubWorkflowTrigger string `json:"githubWorkflowTrigger,omitempty"`
	GitHubWorkflowSHA     string `json:"githubWorkflowSha,omitempty"`
	GitHubWorkflowName    string `json:"githubWorkflowName,omitempty"`
	GitHubWorkflowRepo    string `json:"githubWorkflowRepo,omitempty"`
	GitHubWorkflowRef     string `json:"githubWorkflowRef,omitempty"`
}

type policyAttestation struct {
	policySignature
	PredicateType string `json:"predicateType,omitempty"`
}

func toAuthorityMatch(f found) authorityMatch {
	m := authorityMatch{Static: f.static}
	for _, v := range f.signatures {
		m.Signatures = append(m.Signatures, toPolicySignature(v))
	}
	for name, vs := range f.attestations {
		if m.Attestations == nil {
			m.Attestations = map[string][]policyAttestation{}
		}
		for _, v := range vs {
			pa := policyAttestation{policySignature: toPolicySignature(v)}
			if v.Statement != nil {
				pa.PredicateType = v.Statement.GetPredicateType()
			}
			m.Attestations[name] = append(m.Attestations[name], pa)
		}
	}
	return m
}

func toPolicySignature(v imagesig.Verified) policySignature {
	s := policySignature{ID: v.LayerDigest, Issuer: v.Claims.Issuer}
	if v.Certificate != nil {
		s.Subject = certSubject(v.Certificate)
	}
	x := v.Claims.Extensions
	s.GitHubWorkflowTrigger = x["1.3.6.1.4.1.57264.1.2"]
	s.GitHubWorkflowSHA = x["1.3.6.1.4.1.57264.1.3"]
	s.GitHubWorkflowName = x["1.3.6.1.4.1.57264.1.4"]
	s.GitHubWorkflowRepo = x["1.3.6.1.4.1.57264.1.5"]
	s.GitHubWorkflowRef = x["1.3.6.1.4.1.57264.1.6"]
	return s
}

// certSubject is the certificate's identity as cosign names it: the
// first email, else the first URI, else the Fulcio username SAN.
func certSubject(c *x509.Certificate) string {
	switch {
	case len(c.EmailAddresses) > 0:
		return c.EmailAddresses[0]
	case len(c.URIs) > 0:
		return c.URIs[0].String()
	}
	other, _ := cryptoutils.UnmarshalOtherNameSAN(c.Extensions)
	return other
}

// judge evaluates the policy over the passing authorities' results.
func (c *cipPolicy) judge(ctx context.Context, passed map[string]found, configs map[string]json.RawMessage, o *objectParts) error {
	r := policyResult{AuthorityMatches: map[string]authorityMatch{}, Config: configs}
	for name, f := range passed {
		r.AuthorityMatches[name] = toAuthorityMatch(f)
	}
	if c.includes() {
		if o == nil {
			return errors.New("the request's object was not kept for includeSpec/includeObjectMeta/includeTypeMeta")
		}
		if o.err != nil {
			return o.err
		}
		if c.includeSpec {
			r.Spec = o.spec
		}
		if c.includeMeta {
			r.ObjectMeta = o.meta
		}
		if c.includeType {
			r.TypeMeta = o.typ
		}
	}
	doc, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return verdictError(c.policy.Verdict(ctx, doc))
}

// verdictError is a policy's verdict as one error. A compliant result
// that carries a warning does not pass: as in policy-controller, a
// warning fails, so an enforcing policy denies and a warn-mode one warns.
// Admitting with a warning instead would let through what
// policy-controller refuses.
func verdictError(warns []string, err error) error {
	switch {
	case err != nil && len(warns) > 0:
		return fmt.Errorf("%w (warnings: %s)", err, strings.Join(warns, "; "))
	case err == nil && len(warns) > 0:
		return fmt.Errorf("policy warning: %s", strings.Join(warns, "; "))
	}
	return err
}
