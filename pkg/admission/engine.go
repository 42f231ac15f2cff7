package admission

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/signetdev/signet/internal/trust"
	"github.com/signetdev/signet/pkg/imagesig"
	"github.com/signetdev/signet/pkg/oci"
	"github.com/signetdev/signet/pkg/verifier"
)

// NoMatch is what happens to an image no policy matches
// (policy-controller's no-match-policy).
type NoMatch string

const (
	NoMatchDeny  NoMatch = "deny"
	NoMatchWarn  NoMatch = "warn"
	NoMatchAllow NoMatch = "allow"
)

// Engine judges images against the current policies.
type Engine struct {
	// Policies returns the current policies (a snapshot; never mutated).
	Policies func() []*Policy
	// Source returns where signatures are read, as an authority's source
	// says; pull secrets are named in the request's namespace.
	Source func(ctx context.Context, s SignatureSource, namespace string) (imagesig.Source, error)
	// Resolve resolves a tag to its digest (the mutating webhook).
	Resolve func(ctx context.Context, image string) (name.Digest, error)
	// Configs reads an image's config files by platform (spec.policy's
	// fetchConfigFile); nil refuses them.
	Configs func(ctx context.Context, d name.Digest) (map[string]json.RawMessage, error)
	// Parse parses an image reference as the registry client will use it
	// (plain HTTP allowed or not); nil is name.ParseReference.
	Parse func(image string) (name.Reference, error)
	// Trust loads trust material: ref "" is the default (--trusted-root
	// or TUF), else a named trust root.
	Trust func(ctx context.Context, ref string) (root.TrustedMaterial, error)
	// TrustVersion changes when the trust material does (cache key).
	TrustVersion func() string
	Cache        *Cache
	NoMatch      NoMatch
	// Workers bounds images verified at once in one request.
	Workers int

	// refs memoises parsed references: parsing is a sixth of a cached
	// admission's CPU, and a cluster runs the same few hundred images.
	refMu sync.Mutex
	refs  map[string]parsedRef
}

// parsedRef is a parsed image reference and its fully qualified name
// (what globs match first).
type parsedRef struct {
	ref       name.Reference
	qualified string
}

// maxParsedRefs bounds the memo; past it the memo starts over.
const maxParsedRefs = 4096

func (e *Engine) parse(image string) (parsedRef, error) {
	e.refMu.Lock()
	p, ok := e.refs[image]
	e.refMu.Unlock()
	if ok {
		return p, nil
	}
	parse := e.Parse
	if parse == nil {
		parse = func(s string) (name.Reference, error) { return name.ParseReference(s) }
	}
	ref, err := parse(image)
	if err != nil {
		return parsedRef{}, err // not remembered: errors are cheap and rare
	}
	p = parsedRef{ref: ref, qualified: ref.Name()}
	e.refMu.Lock()
	if e.refs == nil || len(e.refs) >= maxParsedRefs {
		e.refs = make(map[string]parsedRef)
	}
	e.refs[image] = p
	e.refMu.Unlock()
	return p, nil
}

// Decision is the verdict on a request's images.
type Decision struct {
	Allowed  bool
	Message  string
	Warnings []string
}

// anything matches every SAN and issuer: identities are checked after
// verification, so that one pass serves every identity of an authority
// and a mismatch can name what each certificate holds.
var anything = sync.OnceValue(func() verifier.Identity {
	return verifier.Identity{SAN: verifier.Matcher{Regexp: regexp.MustCompile("")}, Issuer: verifier.Matcher{Regexp: regexp.MustCompile("")}}
})

// Snapshot is the policies one request is judged by, read once: whether
// a review's object is kept (DecodeReview, Snapshot.NeedsObject) and the
// judgement must agree, though the policies may change in between.
type Snapshot struct{ policies []*Policy }

// Snapshot reads the current policies.
func (e *Engine) Snapshot() Snapshot { return Snapshot{policies: e.Policies()} }

// NeedsObject reports whether a policy's spec.policy includes the
// request's object (DecodeReview's keepObject).
func (s Snapshot) NeedsObject() bool {
	for _, p := range s.policies {
		if p.cip.includes() {
			return true
		}
	}
	return false
}

// Validate judges every image of a workload by the current policies.
func (e *Engine) Validate(ctx context.Context, namespace string, w Workload) Decision {
	return e.ValidateSnapshot(ctx, e.Snapshot(), namespace, w)
}

// ValidateSnapshot judges every image of a workload by the policies of
// snap; images are verified in parallel.
func (e *Engine) ValidateSnapshot(ctx context.Context, snap Snapshot, namespace string, w Workload) Decision {
	j := selectPolicies(e, snap.policies, namespace, w)
	if e.TrustVersion != nil {
		j.trust = e.TrustVersion()
	}
	images := w.Images
	type verdict struct {
		deny, warn []string
	}
	out := make([]verdict, len(images))
	var sem chan struct{}
	var wg sync.WaitGroup
	for i, img := range images {
		// Judged here when no registry is needed (cached, static, refused
		// before any lookup): a goroutine hop per image is what a cached
		// admission's tail latency is made of.
		var done bool
		if out[i].deny, out[i].warn, done = j.image(ctx, img, true); done {
			continue
		}
		if sem == nil {
			sem = make(chan struct{}, max(e.Workers, 1))
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			out[i].deny, out[i].warn, _ = j.image(ctx, img, false)
		}()
	}
	wg.Wait()
	var d Decision
	var denials []string
	for _, v := range out {
		denials = append(denials, v.deny...)
		d.Warnings = append(d.Warnings, v.warn...)
	}
	d.Allowed = len(denials) == 0
	d.Message = strings.Join(denials, "\n")
	return d
}

// judgement is what the images of one request are judged with: the
// policies whose spec.match selects the workload, those it does not
// (named in no-match messages), and the object (for spec.policy's
// include* fields).
type judgement struct {
	e                    *Engine
	ns                   string
	policies, unselected []*Policy
	object               *objectParts // read when a selected policy includes the object
	trust                string       // TrustVersion, read once per request
}

func selectPolicies(e *Engine, all []*Policy, ns string, w Workload) *judgement {
	j := &judgement{e: e, ns: ns}
	for i, p := range all {
		if len(p.match) == 0 || selects(p.match, w.Resource, w.Labels) {
			if j.unselected != nil {
				j.policies = append(j.policies, p)
			}
			continue
		}
		if j.unselected == nil {
			j.policies = append([]*Policy(nil), all[:i]...)
		}
		j.unselected = append(j.unselected, p)
	}
	if j.unselected == nil {
		j.policies = all // the common case: every policy applies, no copy
	}
	for _, p := range j.policies {
		if p.cip.includes() {
			j.object = readObjectParts(w.Object) // once per request, not per image and policy
			break
		}
	}
	return j
}

// image judges one image: deny and warn messages. With quick set it only
// answers (done) when no registry or trust source is needed.
func (j *judgement) image(ctx context.Context, img ContainerImage, quick bool) (deny, warn []string, done bool) {
	e, ns := j.e, j.ns
	parsed, err := e.parse(img.Image)
	if err != nil {
		return []string{fmt.Sprintf("%s: invalid value: %s: %v", img.Path, img.Image, err)}, nil, true
	}
	d, ok := parsed.ref.(name.Digest)
	if !ok {
		// policy-controller's message; the mutating webhook resolves tags.
		return []string{fmt.Sprintf("%s: invalid value: %s must be an image digest", img.Path, img.Image)}, nil, true
	}
	var buf [4]*Policy
	matched := buf[:0]
	for _, p := range j.policies {
		if p.matchesParsed(parsed.qualified, img.Image) {
			matched = append(matched, p)
		}
	}
	if len(matched) == 0 {
		msg := "no matching policies: " + img.Path + ": " + img.Image
		for _, p := range j.unselected {
			if p.matchesParsed(parsed.qualified, img.Image) {
				msg += fmt.Sprintf(" (policy %s matches the image, but its spec.match selects only %s)", p.Name, describeMatch(p.match))
			}
		}
		switch e.NoMatch {
		case NoMatchAllow:
			return nil, nil, true
		case NoMatchWarn:
			return nil, []string{msg}, true
		}
		return []string{msg}, nil, true
	}
	if quick {
		static := false
		for _, p := range matched {
			if p.Static() {
				static = true
			} else if !e.Cache.Passed(j.cacheKey(d, p)) {
				return nil, nil, false
			}
		}
		if !static {
			return nil, nil, true // every policy passed before
		}
	}
	srcs := &sources{e: e, ns: ns}
	for _, p := range matched {
		err := j.policy(ctx, srcs, d, p)
		if err == nil {
			continue
		}
		if ctx.Err() != nil {
			err = fmt.Errorf("verification did not finish before the webhook's deadline: the registry %s (or a trust source) is slow or unreachable: %w", d.RegistryStr(), ctx.Err())
		}
		msg := fmt.Sprintf("%s: image %s: policy %s: %v", img.Path, img.Image, p.Name, err)
		if p.Warn {
			warn = append(warn, msg)
		} else {
			deny = append(deny, msg)
		}
	}
	return deny, warn, true
}

func (j *judgement) cacheKey(d name.Digest, p *Policy) cacheKey {
	k := cacheKey{digest: d.String(), policy: p.Name, uid: p.UID, resourceVersion: p.ResourceVersion, version: p.version, trust: j.trust}
	if p.cip.includes() {
		k.object = p.cip.cacheKey(j.object) // the verdict depends on the object
	}
	for _, a := range p.Authorities {
		for _, s := range a.sources {
			if len(s.PullSecrets) > 0 {
				k.namespace = j.ns // credentials differ per namespace
				return k
			}
		}
	}
	return k
}

// policy passes when any authority passes (OR within a policy). With a
// spec.policy, every authority is checked (as in policy-controller) and
// the policy judges what those that passed found.
func (j *judgement) policy(ctx context.Context, srcs *sources, d name.Digest, p *Policy) error {
	e := j.e
	key := j.cacheKey(d, p)
	if e.Cache.Passed(key) {
		return nil
	}
	var fails []string
	var matches map[string]found
	for _, a := range p.Authorities {
		m, err := e.authority(ctx, srcs, d, a, p.cip != nil)
		if err == nil {
			if p.cip == nil {
				if !p.Static() {
					e.Cache.Pass(key)
				}
				return nil
			}
			if matches == nil {
				matches = map[string]found{}
			}
			matches[a.Name] = m
			continue
		}
		if ctx.Err() != nil {
			return err
		}
		fails = append(fails, fmt.Sprintf("authority %s: %v", a.Name, err))
	}
	if len(matches) == 0 {
		return errors.New(strings.Join(fails, "; "))
	}
	var configs map[string]json.RawMessage
	if p.cip.fetchConfig {
		if e.Configs == nil {
			return errors.New("spec.policy.fetchConfigFile: this server cannot read image config files")
		}
		var err error
		if configs, err = srcs.configs(ctx, d); err != nil {
			return fmt.Errorf("spec.policy.fetchConfigFile: %w", err)
		}
	}
	if err := p.cip.judge(ctx, matches, configs, j.object); err != nil {
		return fmt.Errorf("spec.policy failed over the authorities that passed (%s): %w", strings.Join(sortedKeys(matches), ", "), err)
	}
	if !p.Static() && p.cip.cacheable() {
		e.Cache.Pass(key)
	}
	return nil
}

// found is what one passing authority verified; spec.policy judges it
// (cippolicy.go), and only then is it collected.
type found struct {
	static       bool
	signatures   []imagesig.Verified
	attestations map[string][]imagesig.Verified // by attestation name
}

// authority checks one authority; with collect, it returns everything that
// passed (spec.policy), else it stops at the first attestation passing its
// policy.
func (e *Engine) authority(ctx context.Context, srcs *sources, d name.Digest, a *Authority, collect bool) (found, error) {
	if a.static != nil {
		if a.static.Action == "pass" {
			return found{static: true}, nil
		}
		msg := a.static.Message
		if msg == "" {
			msg = "disallowed by static policy"
		}
		return found{}, errors.New(msg)
	}
	var fails []string
	for _, s := range a.sources {
		src, err := srcs.get(ctx, s)
		if err != nil {
			fails = append(fails, err.Error())
			continue
		}
		m, err := e.verify(ctx, src, d, a, collect)
		if err != nil {
			if s.Repo != "" || s.TagPrefix != "" {
				err = fmt.Errorf("signatures in %s: %w", s.describe(), err)
			}
			fails = append(fails, err.Error())
			continue
		}
		return m, nil
	}
	return found{}, errors.New(strings.Join(fails, "; "))
}

// verify checks the image's signatures, or, when the authority lists
// attestations, those attestations instead (as policy-controller does),
// and returns what passed.
func (e *Engine) verify(ctx context.Context, src imagesig.Source, d name.Digest, a *Authority, collect bool) (m found, err error) {
	p := verifier.Policy{Key: a.key, IgnoreTlogUnsafe: !a.requireTL, IgnoreSCTUnsafe: a.ignoreSCT, UseSignedTimestamps: a.timestamps}
	if a.key == nil {
		p.Identity = anything()
	}
	req := imagesig.Request{Image: d, Kind: imagesig.KindSignature, Policy: p, CheckClaims: true, MaxWorkers: 4,
		TrustedMaterial: func() (root.TrustedMaterial, error) { return e.material(ctx, a) }}
	if len(a.atts) == 0 {
		vs, err := imagesig.Verify(ctx, src, req)
		if err != nil {
			return m, e.explain(err, a)
		}
		if vs, err = a.matchIdentity(vs); err != nil {
			return m, err
		}
		m.signatures = vs
		return m, nil
	}
	req.Kind = imagesig.KindAttestation
	for _, at := range a.atts {
		req.PredicateType = at.predicateType
		vs, err := imagesig.Verify(ctx, src, req)
		if err != nil {
			return m, fmt.Errorf("attestation %s (%s): %w", at.name, at.predicateType, e.explain(err, a))
		}
		if vs, err = a.matchIdentity(vs); err != nil {
			return m, fmt.Errorf("attestation %s (%s): %w", at.name, at.predicateType, err)
		}
		if m.attestations == nil && collect {
			m.attestations = map[string][]imagesig.Verified{}
		}
		if at.policy == nil {
			if collect {
				m.attestations[at.name] = vs
			}
			continue
		}
		// One attestation that passes suffices (policy-controller); for
		// spec.policy every one that passes is the authority's result.
		var perrs []string
		var passed []imagesig.Verified
		for _, v := range vs {
			if err := verdictError(at.policy.Verdict(ctx, v.Payload)); err != nil {
				perrs = append(perrs, fmt.Sprintf("%s: %v", v.Origin, err))
				continue
			}
			passed = append(passed, v)
			if !collect {
				break
			}
		}
		if len(passed) == 0 {
			return m, fmt.Errorf("attestation %s (%s): policy failed: %s", at.name, at.predicateType, strings.Join(perrs, "; "))
		}
		if collect {
			m.attestations[at.name] = passed
		}
	}
	return m, nil
}

func (e *Engine) explain(err error, a *Authority) error {
	switch {
	case errors.Is(err, imagesig.ErrNoSignatures):
		return fmt.Errorf("expected a signature by %s: %w", a.expected(), err)
	case errors.Is(err, imagesig.ErrNoMatchingSignatures):
		return fmt.Errorf("expected %s: %w", a.expected(), err)
	}
	return err
}

func (a *Authority) expected() string {
	if a.key != nil {
		return a.keyDesc
	}
	var ids []string
	for _, id := range a.identities {
		s := fmt.Sprintf("subject %s from issuer %s", id.SAN, id.Issuer)
		for _, x := range id.Extensions {
			s += fmt.Sprintf(", %s %s", x.Name, x.Matcher)
		}
		ids = append(ids, s)
	}
	return "a certificate for " + strings.Join(ids, " or ")
}

// matchIdentity keeps the verified signatures whose certificate one of
// the authority's identities accepts; none is an error naming what was
// expected and what each certificate holds.
func (a *Authority) matchIdentity(vs []imagesig.Verified) ([]imagesig.Verified, error) {
	if a.key != nil {
		return vs, nil
	}
	var ok []imagesig.Verified
	var found []string
	for _, v := range vs {
		if v.Certificate == nil {
			continue
		}
		if a.acceptsCertificate(v) {
			ok = append(ok, v)
		} else {
			found = append(found, fmt.Sprintf("%s (issuer %q)", strings.Join(v.Claims.SANs, ", "), v.Claims.Issuer))
		}
	}
	if len(ok) == 0 {
		if len(found) > maxFound {
			found = append(found[:maxFound], fmt.Sprintf("and %d more", len(found)-maxFound))
		}
		return nil, fmt.Errorf("%w: expected %s; found %s", verifier.ErrIdentityMismatch, a.expected(), strings.Join(found, "; "))
	}
	return ok, nil
}

const maxFound = 5

func (a *Authority) acceptsCertificate(v imagesig.Verified) bool {
	for _, id := range a.identities {
		if id.Check(v.Certificate) == nil {
			return true
		}
	}
	return false
}

func (e *Engine) material(ctx context.Context, a *Authority) (root.TrustedMaterial, error) {
	if e.Trust == nil {
		return nil, errors.New("no trust material configured")
	}
	tm, err := e.Trust(ctx, a.trustRef)
	if err != nil {
		return nil, err
	}
	if len(a.caRoots) > 0 {
		tm = trust.WithCertificateAuthority(tm, a.caRoots, a.caInter)
	}
	return tm, nil
}

// sources memoises, for one image, the sources of its authorities and
// what they return: several policies and authorities read the same
// signatures once.
type sources struct {
	e  *Engine
	ns string
	mu sync.Mutex
	m  map[string]imagesig.Source

	// The image's config files, read once for every policy with
	// fetchConfigFile that judges it (the policies are judged in turn,
	// under one context).
	cfgOnce sync.Once
	cfg     map[string]json.RawMessage
	cfgErr  error
}

func (s *sources) configs(ctx context.Context, d name.Digest) (map[string]json.RawMessage, error) {
	s.cfgOnce.Do(func() { s.cfg, s.cfgErr = s.e.Configs(ctx, d) })
	return s.cfg, s.cfgErr
}

func (s *sources) get(ctx context.Context, src SignatureSource) (imagesig.Source, error) {
	key := src.Repo + "|" + src.TagPrefix + "|" + strings.Join(src.PullSecrets, ",")
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]imagesig.Source{}
	}
	if got, ok := s.m[key]; ok {
		return got, nil
	}
	inner, err := s.e.Source(ctx, src, s.ns)
	if err != nil {
		return nil, err
	}
	m := &memo{src: inner, calls: map[string]*memoCall{}}
	s.m[key] = m
	return m, nil
}

type memo struct {
	src   imagesig.Source
	mu    sync.Mutex
	calls map[string]*memoCall
}

type memoCall struct {
	once   sync.Once
	layers []oci.Layer
	refs   []oci.Referrer
	err    error
}

func (m *memo) call(key string) *memoCall {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.calls[key]
	if !ok {
		c = &memoCall{}
		m.calls[key] = c
	}
	return c
}

func (m *memo) ReadLegacy(ctx context.Context, d name.Digest, suffix string) ([]oci.Layer, error) {
	c := m.call("legacy|" + d.String() + "|" + suffix)
	c.once.Do(func() { c.layers, c.err = m.src.ReadLegacy(ctx, d, suffix) })
	return c.layers, c.err
}

func (m *memo) Referrers(ctx context.Context, d name.Digest, artifactType string) ([]oci.Referrer, error) {
	c := m.call("referrers|" + d.String() + "|" + artifactType)
	c.once.Do(func() { c.refs, c.err = m.src.Referrers(ctx, d, artifactType) })
	return c.refs, c.err
}

// Mutate resolves each tag to its digest: a JSONPatch writing
// repo:tag@sha256:…, and a warning for each tag that could not be
// resolved (the validating webhook then denies it).
func (e *Engine) Mutate(ctx context.Context, images []ContainerImage) (patch []byte, warnings []string) {
	type op struct {
		Op    string `json:"op"`
		Path  string `json:"path"`
		Value string `json:"value"`
	}
	ops := make([]*op, len(images))
	warns := make([]string, len(images))
	sem := make(chan struct{}, max(e.Workers, 1))
	var wg sync.WaitGroup
	for i, img := range images {
		parsed, err := e.parse(img.Image)
		if err != nil {
			continue
		}
		if _, ok := parsed.ref.(name.Digest); ok {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			d, err := e.Resolve(ctx, img.Image)
			if err != nil {
				warns[i] = fmt.Sprintf("%s: could not resolve %s to a digest: %v", img.Path, img.Image, err)
				return
			}
			ops[i] = &op{Op: "replace", Path: img.Pointer, Value: img.Image + "@" + d.DigestStr()}
		}()
	}
	wg.Wait()
	var list []*op
	for i := range ops {
		if ops[i] != nil {
			list = append(list, ops[i])
		}
		if warns[i] != "" {
			warnings = append(warnings, warns[i])
		}
	}
	if len(list) == 0 {
		return nil, warnings
	}
	patch, _ = json.Marshal(list) // strings only: cannot fail
	return patch, warnings
}
