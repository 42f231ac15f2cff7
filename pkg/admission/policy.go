package admission

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/sigstore/sigstore/pkg/signature"

	"github.com/signetdev/signet/internal/redact"
	"github.com/signetdev/signet/internal/trust"
	"github.com/signetdev/signet/pkg/attestation"
	"github.com/signetdev/signet/pkg/keys"
	"github.com/signetdev/signet/pkg/verifier"
)

// StatementPolicy judges one verified in-toto statement (the whole
// statement JSON, as policy-controller hands it to CUE and Rego). Its
// warnings (Rego isCompliant results' warning texts) become admission
// warnings; its error denies.
type StatementPolicy interface {
	Verdict(ctx context.Context, statement []byte) (warnings []string, err error)
}

// PolicyCompiler compiles an attestation policy of a ClusterImagePolicy
// with policy-controller's conventions (CUE unified with the statement;
// Rego package sigstore, rule isCompliant). lang is "cue" or "rego".
type PolicyCompiler func(ctx context.Context, name, lang string, data []byte) (StatementPolicy, error)

// LoadOptions are what compiling a policy may need from outside.
type LoadOptions struct {
	// TrustRoots are the names a trustRootRef may use.
	TrustRoots map[string]bool
	// LateTrustRoots: TrustRoots are watched from the API server and may
	// arrive after the policies naming them, so an unknown trustRootRef
	// is not refused here; verification denies until it exists.
	LateTrustRoots bool
	// Secret reads a Secret's data (key.secretRef); nil refuses secretRef.
	Secret func(ctx context.Context, namespace, name string) (map[string][]byte, error)
	// SystemNamespace is where a secretRef without namespace is looked up.
	SystemNamespace string
	// PullSecrets says whether signaturePullSecrets can be read.
	PullSecrets bool
	// Compile compiles attestation policies; nil refuses them.
	Compile PolicyCompiler
	// Fetch reads a remote policy (policy.remote.url), bounded by
	// MaxPolicySize; nil refuses remote policies.
	Fetch func(ctx context.Context, url string) ([]byte, error)
	// KMS loads a key.kms public key (a network call); nil refuses KMS.
	KMS func(ctx context.Context, uri string) (signature.Verifier, error)
	// ConfigMap reads a ConfigMap's data (policy.configMapRef) from the
	// API server; nil refuses configMapRef. ConfigMaps are looked up in
	// SystemNamespace only, as policy-controller does.
	ConfigMap func(ctx context.Context, namespace, name string) (map[string]string, error)

	// resolved is told each policy text read from outside the
	// ClusterImagePolicy (a ConfigMap), which is then part of the
	// policy's version: a changed ConfigMap must not reuse verdicts
	// cached under the old text.
	resolved func(data []byte)
}

// Policy is a compiled ClusterImagePolicy.
type Policy struct {
	Name, UID, ResourceVersion string
	// version is a hash of what the policy says (spec and annotations):
	// policies from files have no resourceVersion, and the cache key
	// must still change with them.
	version string
	// Warn: mode warn, failures become warnings.
	Warn    bool
	globs   []imageGlob
	match   []MatchResource
	refused bool // Refused
	// cip is spec.policy, judged over every passing authority's results.
	cip         *cipPolicy
	Authorities []*Authority

	// matched memoises matchesParsed: a glob is a regular expression run
	// on every image of every admission, and a cluster runs the same few
	// hundred images. A Policy is never changed once compiled (a new
	// version is a new Policy), so the memo is never stale.
	matched atomic.Pointer[globMemo]
}

type globMemo struct {
	mu sync.Mutex
	m  map[[2]string]bool // {qualified, written} → matches
}

// Authority is one compiled authority.
type Authority struct {
	Name   string
	static *StaticSpec
	// key, when set, is the public key (key authorities).
	key       signature.Verifier
	keyDesc   string
	requireTL bool
	// identities: keyless; any one must match.
	identities []verifier.Identity
	ignoreSCT  bool
	timestamps bool
	trustRef   string
	caRoots    []*x509.Certificate
	caInter    []*x509.Certificate
	sources    []SignatureSource
	atts       []attestationCheck
}

// SignatureSource is where an authority reads signatures (its source).
type SignatureSource struct {
	// Repo is source.oci; "" is the image's own repository.
	Repo string
	// TagPrefix goes before the .sig/.att tags' names (source.tagPrefix).
	TagPrefix string
	// PullSecrets are docker-registry secrets of the request's namespace.
	PullSecrets []string
}

func (s SignatureSource) describe() string {
	switch {
	case s.TagPrefix == "":
		return s.Repo
	case s.Repo == "":
		return "tags prefixed " + s.TagPrefix
	}
	return s.Repo + " (tags prefixed " + s.TagPrefix + ")"
}

type attestationCheck struct {
	name, predicateType string
	policy              StatementPolicy
}

// IdentityExtensionsAnnotation carries, per authority, the Fulcio
// certificate extensions every identity of a keyless authority must also
// match: a JSON object {"<authority name or *>": {"<claim>": "value",
// "<claim>-regexp": "re"}}, claims named as signet verify's
// --certificate-<claim> flags. policy-controller's schema prunes unknown
// spec fields but keeps annotations, so the same object applies there.
const IdentityExtensionsAnnotation = "signet.sigstore.dev/identity-extensions"

// Matches reports whether one of the policy's globs matches the image.
func (p *Policy) Matches(image string) bool {
	for _, g := range p.globs {
		if g.match(image) {
			return true
		}
	}
	return false
}

// matchesParsed is Matches for a reference already parsed: qualified is
// its fully qualified name.
func (p *Policy) matchesParsed(qualified, written string) bool {
	memo := p.matched.Load()
	if memo == nil {
		p.matched.CompareAndSwap(nil, &globMemo{m: map[[2]string]bool{}})
		memo = p.matched.Load()
	}
	key := [2]string{qualified, written}
	memo.mu.Lock()
	ok, found := memo.m[key]
	memo.mu.Unlock()
	if found {
		return ok
	}
	ok = p.matchGlobs(qualified, written)
	memo.mu.Lock()
	if len(memo.m) >= maxParsedRefs {
		clear(memo.m)
	}
	memo.m[key] = ok
	memo.mu.Unlock()
	return ok
}

func (p *Policy) matchGlobs(qualified, written string) bool {
	for _, g := range p.globs {
		if g.matchParsed(qualified, written) {
			return true
		}
	}
	return false
}

// Static reports whether every authority is static: no registry call.
func (p *Policy) Static() bool {
	if p.cip != nil && p.cip.fetchConfig {
		return false // reads the image's config files
	}
	for _, a := range p.Authorities {
		if a.static == nil {
			return false
		}
	}
	return true
}

// Refused stands in for a policy that could not be compiled, so that
// the images it names are denied (fail closed) with the reason rather
// than admitted as if it did not exist: it matches the policy's globs
// that compile, or every image when none does.
func Refused(cip *ClusterImagePolicy, reason error) *Policy {
	p := &Policy{Name: cip.Metadata.Name, UID: cip.Metadata.UID, ResourceVersion: cip.Metadata.ResourceVersion}
	for _, im := range cip.Spec.Images {
		if g, err := compileGlob(im.Glob); err == nil {
			p.globs = append(p.globs, g)
		}
	}
	if len(p.globs) == 0 {
		g, _ := compileGlob("**")
		p.globs = []imageGlob{g}
	}
	p.Authorities = []*Authority{{Name: "refused", static: &StaticSpec{Action: "fail", Message: "signet refused this policy: " + reason.Error()}}}
	p.refused = true
	return p
}

// IsRefused reports whether p stands in for a policy that could not be
// compiled (Refused): a relist compiles it again, since the reason may
// have been a remote policy, KMS key or Secret that could not be read.
func (p *Policy) IsRefused() bool { return p.refused }

// Compile validates a ClusterImagePolicy and compiles it. Anything signet
// cannot enforce as written is refused here, naming the field.
func Compile(ctx context.Context, cip *ClusterImagePolicy, o LoadOptions) (*Policy, error) {
	p, err := compile(ctx, cip, o)
	if err != nil {
		return nil, fmt.Errorf("ClusterImagePolicy %s: %w", cip.Metadata.Name, err)
	}
	return p, nil
}

func compile(ctx context.Context, cip *ClusterImagePolicy, o LoadOptions) (*Policy, error) {
	s := cip.Spec
	p := &Policy{Name: cip.Metadata.Name, UID: cip.Metadata.UID, ResourceVersion: cip.Metadata.ResourceVersion}
	h := sha256.New()
	h.Write(cip.RawSpec)
	h.Write([]byte(cip.Metadata.Annotations[IdentityExtensionsAnnotation]))
	o.resolved = func(data []byte) {
		h.Write([]byte{0})
		h.Write(data)
	}
	switch s.Mode {
	case "", "enforce":
	case "warn":
		p.Warn = true
	default:
		return nil, fmt.Errorf("spec.mode %q: want enforce or warn", s.Mode)
	}
	if s.Policy != nil {
		var err error
		if p.cip, err = compileCIPPolicy(ctx, cip.Metadata.Name, s.Policy, o); err != nil {
			return nil, fmt.Errorf("spec.policy%w", err)
		}
	}
	if err := compileMatch(s.Match); err != nil {
		return nil, err
	}
	p.match = s.Match
	if len(s.Images) == 0 {
		return nil, errors.New("spec.images: at least one glob is required")
	}
	for i, im := range s.Images {
		g, err := compileGlob(im.Glob)
		if err != nil {
			return nil, fmt.Errorf("spec.images[%d].glob: %w", i, err)
		}
		p.globs = append(p.globs, g)
	}
	if len(s.Authorities) == 0 {
		return nil, errors.New("spec.authorities: at least one authority is required")
	}
	ext, err := parseExtensions(cip.Metadata.Annotations[IdentityExtensionsAnnotation])
	if err != nil {
		return nil, fmt.Errorf("annotation %s: %w", IdentityExtensionsAnnotation, err)
	}
	seen := map[string]bool{}
	for i, as := range s.Authorities {
		a, err := compileAuthority(ctx, i, as, o, ext)
		if err != nil {
			return nil, fmt.Errorf("spec.authorities[%d]: %w", i, err)
		}
		if seen[a.Name] {
			return nil, fmt.Errorf("spec.authorities[%d]: duplicate name %q", i, a.Name)
		}
		seen[a.Name] = true
		p.Authorities = append(p.Authorities, a)
	}
	for n := range ext {
		if n != "*" && !seen[n] {
			return nil, fmt.Errorf("annotation %s names authority %q, which the policy does not have", IdentityExtensionsAnnotation, n)
		}
	}
	p.version = hex.EncodeToString(h.Sum(nil))
	return p, nil
}

func compileAuthority(ctx context.Context, i int, as AuthoritySpec, o LoadOptions, ext map[string][]verifier.ExtensionMatcher) (*Authority, error) {
	a := &Authority{Name: as.Name}
	if a.Name == "" {
		a.Name = fmt.Sprintf("authority-%d", i)
	}
	n := 0
	for _, set := range []bool{as.Key != nil, as.Keyless != nil, as.Static != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		return nil, errors.New("exactly one of key, keyless or static is required")
	}
	switch as.SignatureFormat {
	case "", "legacy", "bundle":
		// Both formats are read whatever it says, as signet verify does.
	default:
		return nil, fmt.Errorf("signatureFormat %q: want legacy or bundle", as.SignatureFormat)
	}
	if as.Static != nil {
		if as.Static.Action != "pass" && as.Static.Action != "fail" {
			return nil, fmt.Errorf("static.action %q: want pass or fail", as.Static.Action)
		}
		if len(as.Sources) > 0 || as.CTLog != nil || as.RFC3161Timestamp != nil || len(as.Attestations) > 0 {
			return nil, errors.New("static cannot be combined with source, ctlog, rfc3161timestamp or attestations")
		}
		a.static = as.Static
		return a, nil
	}
	refs := map[string]bool{}
	if as.Key != nil {
		v, desc, err := loadKey(ctx, "key", as.Key, o)
		if err != nil {
			return nil, err
		}
		a.key, a.keyDesc = v, desc
		if len(ext[a.Name]) > 0 {
			return nil, fmt.Errorf("annotation %s: certificate extensions need a keyless authority", IdentityExtensionsAnnotation)
		}
	}
	if k := as.Keyless; k != nil {
		if err := a.compileKeyless(k, o, append(ext["*"], ext[a.Name]...)); err != nil {
			return nil, err
		}
		if k.TrustRootRef != "" {
			refs[k.TrustRootRef] = true
		}
	}
	// A keyless certificate is short-lived: only a log entry or a
	// timestamp proves it signed in time, so the log is required unless
	// the authority asks for timestamps. A key signature needs the log
	// only when ctlog is given (signed with --tlog-upload=false).
	a.requireTL = as.Keyless != nil || as.CTLog != nil
	if as.CTLog != nil && as.CTLog.TrustRootRef != "" {
		refs[as.CTLog.TrustRootRef] = true
	}
	if as.RFC3161Timestamp != nil {
		a.timestamps = true
		if as.RFC3161Timestamp.TrustRootRef != "" {
			refs[as.RFC3161Timestamp.TrustRootRef] = true
		}
	}
	if len(refs) > 1 {
		return nil, fmt.Errorf("trustRootRef: keyless, ctlog and rfc3161timestamp name different trust roots %v; signet uses one trusted root per authority", sortedKeys(refs))
	}
	for r := range refs {
		if !o.TrustRoots[r] && !o.LateTrustRoots {
			return nil, fmt.Errorf("trustRootRef %q: no such trust root (a TrustRoot object, or --trust-root %s=trusted_root.json)", r, r)
		}
		a.trustRef = r
	}
	for j, src := range as.Sources {
		s, err := compileSource(src, o)
		if err != nil {
			return nil, fmt.Errorf("source[%d]: %w", j, err)
		}
		a.sources = append(a.sources, s)
	}
	if len(a.sources) == 0 {
		a.sources = []SignatureSource{{}}
	}
	for j, at := range as.Attestations {
		c, err := compileAttestation(ctx, at, o)
		if err != nil {
			return nil, fmt.Errorf("attestations[%d]: %w", j, err)
		}
		a.atts = append(a.atts, c)
	}
	return a, nil
}

func (a *Authority) compileKeyless(k *KeylessSpec, o LoadOptions, ext []verifier.ExtensionMatcher) error {
	if len(k.Identities) == 0 {
		return errors.New("keyless.identities: at least one identity is required")
	}
	for j, id := range k.Identities {
		san, err := verifier.NewMatcher("subject", id.Subject, id.SubjectRegExp)
		if err != nil {
			return fmt.Errorf("keyless.identities[%d]: %w", j, err)
		}
		iss, err := verifier.NewMatcher("issuer", id.Issuer, id.IssuerRegExp)
		if err != nil {
			return fmt.Errorf("keyless.identities[%d]: %w", j, err)
		}
		if san.IsZero() || iss.IsZero() {
			return fmt.Errorf("keyless.identities[%d]: both an issuer (issuer or issuerRegExp) and a subject (subject or subjectRegExp) are required", j)
		}
		a.identities = append(a.identities, verifier.Identity{SAN: san, Issuer: iss, Extensions: ext})
	}
	a.ignoreSCT = k.InsecureIgnoreSCT
	if k.CACert != nil {
		if k.CACert.KMS != "" || k.CACert.HashAlgorithm != "" {
			return errors.New("keyless.ca-cert: only data or secretRef (PEM certificates) is supported")
		}
		data := []byte(k.CACert.Data)
		if k.CACert.SecretRef != nil {
			return errors.New("keyless.ca-cert.secretRef is not supported; inline the PEM in ca-cert.data")
		}
		certs, err := trust.ParseCertificatesPEM(data)
		if err != nil || len(certs) == 0 {
			return fmt.Errorf("keyless.ca-cert.data: no PEM certificate (%v)", err)
		}
		for _, c := range certs {
			if string(c.RawSubject) == string(c.RawIssuer) {
				a.caRoots = append(a.caRoots, c)
			} else {
				a.caInter = append(a.caInter, c)
			}
		}
		if len(a.caRoots) == 0 {
			return errors.New("keyless.ca-cert.data: no self-signed root certificate")
		}
	}
	return nil
}

func loadKey(ctx context.Context, field string, k *KeySpec, o LoadOptions) (signature.Verifier, string, error) {
	if k.HashAlgorithm != "" && !strings.EqualFold(k.HashAlgorithm, "sha256") {
		return nil, "", fmt.Errorf("%s.hashAlgorithm %q: only sha256 is supported", field, k.HashAlgorithm)
	}
	n := 0
	for _, s := range []bool{k.Data != "", k.KMS != "", k.SecretRef != nil} {
		if s {
			n++
		}
	}
	if n != 1 {
		return nil, "", fmt.Errorf("%s: exactly one of data, kms or secretRef is required", field)
	}
	data := []byte(k.Data)
	desc := "the key in " + field + ".data"
	switch {
	case k.KMS != "":
		if o.KMS == nil {
			return nil, "", fmt.Errorf("%s.kms: KMS keys are not available here", field)
		}
		v, err := o.KMS(ctx, k.KMS)
		if err != nil {
			return nil, "", fmt.Errorf("%s.kms: %w", field, err)
		}
		return v, "the KMS key " + k.KMS, nil
	case k.SecretRef != nil:
		if o.Secret == nil {
			return nil, "", fmt.Errorf("%s.secretRef: secrets are read from the API server, and none is configured (--kubeconfig or in-cluster)", field)
		}
		ns := k.SecretRef.Namespace
		if ns == "" {
			ns = o.SystemNamespace
		}
		sec, err := o.Secret(ctx, ns, k.SecretRef.Name)
		if err != nil {
			return nil, "", fmt.Errorf("%s.secretRef %s/%s: %w", field, ns, k.SecretRef.Name, err)
		}
		if len(sec) != 1 {
			return nil, "", fmt.Errorf("%s.secretRef %s/%s: the secret must hold exactly one key, it holds %d", field, ns, k.SecretRef.Name, len(sec))
		}
		for _, v := range sec {
			data = v
		}
		desc = fmt.Sprintf("the key in secret %s/%s", ns, k.SecretRef.Name)
	}
	pub, err := keys.ParsePublicKey(data)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", field, err)
	}
	v, err := keys.Verifier(pub)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", field, err)
	}
	return v, desc, nil
}

func compileSource(s SourceSpec, o LoadOptions) (SignatureSource, error) {
	var out SignatureSource
	if s.OCI != "" {
		if _, err := name.NewRepository(s.OCI); err != nil {
			return out, fmt.Errorf("oci %q: %w", s.OCI, err)
		}
		out.Repo = s.OCI
	}
	if s.TagPrefix != "" {
		tag := s.TagPrefix + "sha256-" + strings.Repeat("0", 64) + ".sig"
		if _, err := name.NewTag("example.com/r:"+tag, name.StrictValidation); err != nil || strings.IndexAny(tag[:1], ".-") == 0 {
			return out, fmt.Errorf("tagPrefix %q: %s is not a tag (letters, digits, '_', '.' and '-', not starting with '.' or '-', at most 128 characters)", s.TagPrefix, tag)
		}
		out.TagPrefix = s.TagPrefix
	}
	for _, ps := range s.SignaturePullSecrets {
		if !o.PullSecrets {
			return out, errors.New("signaturePullSecrets: secrets are read from the API server, and none is configured (--kubeconfig or in-cluster)")
		}
		if ps.Name == "" {
			return out, errors.New("signaturePullSecrets: a name is required")
		}
		out.PullSecrets = append(out.PullSecrets, ps.Name)
	}
	return out, nil
}

func compileAttestation(ctx context.Context, at AttestationSpec, o LoadOptions) (attestationCheck, error) {
	if at.Name == "" {
		return attestationCheck{}, errors.New("name is required")
	}
	pt, err := attestation.PredicateTypeURI(at.PredicateType)
	if err != nil {
		return attestationCheck{}, fmt.Errorf("predicateType: %w", err)
	}
	c := attestationCheck{name: at.Name, predicateType: pt}
	pol := at.Policy
	if pol == nil {
		return c, nil
	}
	if pol.FetchConfigFile != nil || pol.IncludeSpec != nil || pol.IncludeObjectMeta != nil || pol.IncludeTypeMeta != nil {
		return c, errors.New("policy.fetchConfigFile/includeSpec/includeObjectMeta/includeTypeMeta are not supported: an attestation policy sees the statement")
	}
	sp, err := compilePolicyDoc(ctx, at.Name, pol, o)
	if err != nil {
		return c, fmt.Errorf("policy%w", err)
	}
	c.policy = sp
	return c, nil
}

// compilePolicyDoc compiles an inline CUE or Rego policy. Its errors
// start with the field after "policy" (".type …", ": …").
func compilePolicyDoc(ctx context.Context, name string, pol *PolicyDocSpec, o LoadOptions) (StatementPolicy, error) {
	data := []byte(pol.Data)
	sources := 0
	for _, set := range []bool{pol.Data != "", pol.Remote != nil, pol.ConfigMapRef != nil} {
		if set {
			sources++
		}
	}
	switch {
	case pol.Type != "cue" && pol.Type != "rego":
		return nil, fmt.Errorf(".type %q: want cue or rego", pol.Type)
	case sources > 1:
		return nil, errors.New(": data, remote and configMapRef are exclusive")
	case pol.Remote != nil:
		var err error
		if data, err = fetchRemote(ctx, pol.Remote, o); err != nil {
			return nil, fmt.Errorf(".remote: %w", err)
		}
	case pol.ConfigMapRef != nil:
		var err error
		if data, err = configMapPolicy(ctx, pol.ConfigMapRef, o); err != nil {
			return nil, fmt.Errorf(".configMapRef: %w", err)
		}
		if o.resolved != nil {
			o.resolved(data)
		}
	case pol.Data == "":
		return nil, errors.New(".data is empty")
	}
	if o.Compile == nil {
		return nil, errors.New(": CUE/Rego policies are not available in this build of signet")
	}
	sp, err := o.Compile(ctx, name, pol.Type, data)
	if err != nil {
		return nil, fmt.Errorf(": %w", err)
	}
	return sp, nil
}

// configMapPolicy reads policy.configMapRef as policy-controller does:
// the value of key in the ConfigMap name of signet's own namespace (a
// missing or empty key refuses the policy). Another namespace is refused
// rather than ignored: policy-controller would read its own namespace
// whatever the field says, and signet's RBAC grants only its own.
func configMapPolicy(ctx context.Context, ref *ConfigMapRef, o LoadOptions) ([]byte, error) {
	ns := o.SystemNamespace
	switch {
	case ref.Name == "":
		return nil, errors.New("name is required")
	case ref.Key == "":
		return nil, fmt.Errorf("key is required: the key of ConfigMap %s/%s that holds the policy", ns, ref.Name)
	case ref.Namespace != "" && ref.Namespace != ns:
		return nil, fmt.Errorf("namespace %q: the ConfigMap must be in signet's namespace %q (--system-namespace), the only one policy-controller reads and signet may read", ref.Namespace, ns)
	case o.ConfigMap == nil:
		return nil, fmt.Errorf("ConfigMap %s/%s: ConfigMaps are read from the API server, and none is configured (--kubeconfig or in-cluster); inline the policy in data", ns, ref.Name)
	}
	cm, err := o.ConfigMap(ctx, ns, ref.Name)
	if err != nil {
		return nil, fmt.Errorf("ConfigMap %s/%s: %w", ns, ref.Name, err)
	}
	v, ok := cm[ref.Key]
	switch {
	case !ok:
		return nil, fmt.Errorf("ConfigMap %s/%s has no key %q (it has %s)", ns, ref.Name, ref.Key, keyList(cm))
	case strings.TrimSpace(v) == "":
		return nil, fmt.Errorf("key %q of ConfigMap %s/%s is empty", ref.Key, ns, ref.Name)
	case len(v) > MaxPolicySize:
		return nil, fmt.Errorf("key %q of ConfigMap %s/%s: more than %d bytes", ref.Key, ns, ref.Name, MaxPolicySize)
	}
	return []byte(v), nil
}

func keyList(m map[string]string) string {
	if len(m) == 0 {
		return "no data keys"
	}
	ks := sortedKeys(m)
	for i, k := range ks {
		ks[i] = strconv.Quote(k)
	}
	if len(ks) > 10 {
		ks = append(ks[:10], "…")
	}
	return "keys " + strings.Join(ks, ", ")
}

// fetchRemote reads a remote policy and checks it against its pinned
// SHA-256. signet requires the pin: an unpinned policy would let
// whoever serves the URL change what is enforced.
func fetchRemote(ctx context.Context, r *RemotePolicy, o LoadOptions) ([]byte, error) {
	want, err := hex.DecodeString(r.Sha256sum)
	switch {
	case r.URL == "":
		return nil, errors.New("url is required")
	case r.Sha256sum == "":
		return nil, errors.New("sha256sum is required: pin the policy's content (sha256sum of the file)")
	case err != nil || len(want) != sha256.Size:
		return nil, fmt.Errorf("sha256sum %q: want 64 hex digits", r.Sha256sum)
	case o.Fetch == nil:
		return nil, errors.New("this server cannot fetch remote policies")
	}
	// The URL may carry a token (a signed URL): these errors reach logs,
	// the policy's status and denials.
	data, err := o.Fetch(ctx, r.URL)
	if err != nil {
		return nil, fmt.Errorf("fetching %s: %w", redact.Ref(r.URL), redact.Error(err, r.URL))
	}
	if got := sha256.Sum256(data); !bytes.Equal(got[:], want) {
		return nil, fmt.Errorf("%s has sha256 %x, the policy pins %s", redact.Ref(r.URL), got, r.Sha256sum)
	}
	return data, nil
}

// parseExtensions reads IdentityExtensionsAnnotation.
func parseExtensions(v string) (map[string][]verifier.ExtensionMatcher, error) {
	if v == "" {
		return nil, nil
	}
	var raw map[string]map[string]string
	if err := json.Unmarshal([]byte(v), &raw); err != nil {
		return nil, fmt.Errorf("want a JSON object of authority name to {claim: value}: %w", err)
	}
	byName := map[string]verifier.Claim{}
	for _, c := range verifier.Claims {
		byName[c.Name] = c
	}
	out := map[string][]verifier.ExtensionMatcher{}
	for auth, claims := range raw {
		for _, k := range sortedKeys(claims) {
			base, isRe := strings.CutSuffix(k, "-regexp")
			c, ok := byName[base]
			if !ok {
				return nil, fmt.Errorf("authority %q: unknown claim %q (known: %s)", auth, k, claimNames())
			}
			exact, pattern := claims[k], ""
			if isRe {
				exact, pattern = "", claims[k]
			}
			m, err := verifier.NewMatcher("certificate-"+base, exact, pattern)
			if err != nil {
				return nil, fmt.Errorf("authority %q: %w", auth, err)
			}
			out[auth] = append(out[auth], verifier.ExtensionMatcher{OID: c.OID.String(), Name: k, Matcher: m})
		}
	}
	return out, nil
}

func claimNames() string {
	var n []string
	for _, c := range verifier.Claims {
		n = append(n, c.Name)
	}
	return strings.Join(n, ", ")
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
