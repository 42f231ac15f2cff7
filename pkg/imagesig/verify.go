package imagesig

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	in_toto "github.com/in-toto/attestation/go/v1"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/signetdev/signet/pkg/artifact"
	"github.com/signetdev/signet/pkg/attestation"
	"github.com/signetdev/signet/pkg/oci"
	"github.com/signetdev/signet/pkg/verifier"
)

// Errors the CLI maps to cosign's exit codes.
var (
	// ErrNoSignatures: nothing of the kind is stored for the image (10).
	ErrNoSignatures = errors.New("no signatures found")
	// ErrNoMatchingSignatures: some were found, none verified (12).
	ErrNoMatchingSignatures = errors.New("no matching signatures")
	// ErrNoCertificate: a keyless policy met only signatures without a
	// certificate (13).
	ErrNoCertificate = errors.New("no certificate found on signature")
)

// Request is one image verification.
type Request struct {
	// Image is the image's digest.
	Image name.Digest
	Kind  Kind
	// PredicateType, for attestations, is the only predicate type
	// accepted ("" accepts any).
	PredicateType string
	// Annotations must each equal a value of the payload's optional
	// section (legacy) or the subject's annotations (bundle): -a.
	Annotations map[string]string
	// CheckClaims requires the payload to name Image (simple-signing
	// docker-manifest-digest, in-toto subject). Off, a signature that
	// names another digest is still accepted when its signature verifies,
	// with a warning each time (cosign accepts it silently).
	CheckClaims bool
	Policy      verifier.Policy
	// TrustedMaterial loads the trust material, once, when a candidate
	// needs it (a key and no log or timestamp needs none).
	TrustedMaterial func() (root.TrustedMaterial, error)
	// MaxWorkers bounds concurrent verifications (--max-workers).
	MaxWorkers int
	Warnf      func(format string, args ...any)
}

// Verified is one signature or attestation that passed.
type Verified struct {
	Origin string
	// LayerDigest is the digest of the layer holding the signature or
	// bundle (policy-controller's signature id).
	LayerDigest string
	Format      Format
	// Payload is the signed payload: simple-signing JSON, or the in-toto
	// statement of a DSSE envelope.
	Payload []byte
	// Envelope is the DSSE envelope as cosign prints it (attestations).
	Envelope []byte
	// Signature is the simple-signing payload parsed (legacy signatures).
	Signature *SimpleSigning
	// Statement is the verified in-toto statement (DSSE).
	Statement *in_toto.Statement
	// Annotations are the subject annotations of a bundle statement.
	Annotations map[string]string
	Certificate *x509.Certificate
	Claims      verifier.CertificateClaims
	// RekorBundle and Timestamp are the legacy annotations, verified.
	RekorBundle, Timestamp string
	// TlogVerified: a transparency log entry was verified.
	TlogVerified bool
	// ClaimsChecked is false when --check-claims=false let through a
	// payload that names another digest.
	ClaimsChecked bool
}

// failure is why one candidate did not verify.
type failure struct {
	origin string
	err    error
	noCert bool
}

// Verify finds and verifies the image's signatures (or attestations). It
// returns every candidate that verified, in storage order, or an error
// wrapping ErrNoSignatures, ErrNoMatchingSignatures or ErrNoCertificate.
func Verify(ctx context.Context, src Source, r Request) ([]Verified, error) {
	if r.Warnf == nil {
		r.Warnf = func(string, ...any) {}
	}
	if err := r.Policy.Validate(); err != nil {
		return nil, err
	}
	found, err := collect(ctx, src, r.Image, r.Kind, r.Warnf)
	if err != nil {
		return nil, err
	}
	if len(found.candidates) == 0 {
		msg := fmt.Sprintf("for %s (looked at its referrers and at tag %s)", r.Image, found.tag)
		if found.referrersErr != nil {
			msg += fmt.Sprintf("; listing the referrers failed: %v", found.referrersErr)
		}
		return nil, noneFoundError{kind: r.Kind, msg: msg}
	}
	tm := sync.OnceValues(func() (root.TrustedMaterial, error) {
		if r.TrustedMaterial == nil {
			return &root.BaseTrustedMaterial{}, nil
		}
		return r.TrustedMaterial()
	})

	workers := r.MaxWorkers
	if workers < 1 {
		workers = 1
	}
	results := make([]*Verified, len(found.candidates))
	failures := make([]*failure, len(found.candidates))
	sem := make(chan struct{}, workers)
	var wg sync.WaitGroup
	for i, c := range found.candidates {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			v, f := verifyCandidate(ctx, c, r, tm)
			results[i], failures[i] = v, f
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []Verified
	var fails []failure
	for i := range results {
		if results[i] != nil {
			out = append(out, *results[i])
		} else if failures[i] != nil {
			fails = append(fails, *failures[i])
		}
	}
	if len(out) == 0 {
		return nil, &NoMatchError{Kind: r.Kind, failures: fails}
	}
	for _, v := range out {
		if !v.ClaimsChecked {
			r.Warnf("--check-claims=false: accepted %s although its payload does not name %s", v.Origin, r.Image.DigestStr())
		}
	}
	return out, nil
}

type noneFoundError struct {
	kind Kind
	msg  string
}

func (e noneFoundError) Error() string {
	if e.kind == KindAttestation {
		return "no attestations found " + e.msg
	}
	return "no signatures found " + e.msg
}
func (e noneFoundError) Is(target error) bool { return target == ErrNoSignatures }

// NoMatchError says, per candidate, why none verified.
type NoMatchError struct {
	Kind     Kind
	failures []failure
}

// maxListed bounds the failures named in one error line.
const maxListed = 5

func (e *NoMatchError) Error() string {
	var b bytes.Buffer
	if e.Kind == KindAttestation {
		b.WriteString("no matching attestations: ")
	} else {
		b.WriteString("no matching signatures: ")
	}
	fmt.Fprintf(&b, "%d found, none verified: ", len(e.failures))
	for i, f := range e.failures {
		if i == maxListed {
			fmt.Fprintf(&b, "; and %d more", len(e.failures)-maxListed)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s: %v", f.origin, f.err)
	}
	return b.String()
}

// Is makes the error ErrNoMatchingSignatures, and ErrNoCertificate when
// every candidate failed for want of a certificate.
func (e *NoMatchError) Is(target error) bool {
	switch target {
	case ErrNoMatchingSignatures:
		return true
	case ErrNoCertificate:
		for _, f := range e.failures {
			if !f.noCert {
				return false
			}
		}
		return len(e.failures) > 0
	}
	return false
}

func verifyCandidate(ctx context.Context, c Candidate, r Request, tm func() (root.TrustedMaterial, error)) (*Verified, *failure) {
	fail := func(err error) (*Verified, *failure) { return nil, &failure{origin: c.Origin, err: err} }
	if err := ctx.Err(); err != nil {
		return fail(err)
	}
	if c.Format == FormatBundle && r.Kind == KindSignature {
		// Untrusted, but it can only reject: an attestation is never a
		// signature.
		if pt := c.ManifestAnnotations["dev.sigstore.bundle.predicateType"]; pt != "" && pt != SignPredicateType {
			return fail(fmt.Errorf("an attestation (predicate type %q), not a signature: verify-attestation verifies it", pt))
		}
	}
	var b *bundle.Bundle
	var err error
	if c.Format == FormatBundle {
		b, err = ReferrerBundle(c.Layer, r.Policy.AllowCertificateChain)
	} else {
		b, err = LegacyBundle(c.Layer)
	}
	if err != nil {
		return fail(fmt.Errorf("unreadable: %w", err))
	}
	vc, err := b.VerificationContent()
	if err != nil {
		return fail(fmt.Errorf("certificate check failed: %w", err))
	}
	if r.Policy.Key == nil && vc.Certificate() == nil {
		return nil, &failure{origin: c.Origin, noCert: true, err: fmt.Errorf("%w: it is signed with a key; verify it with --key", ErrNoCertificate)}
	}

	env := b.GetDsseEnvelope()
	p := r.Policy
	var art artifact.Artifact
	switch {
	case env != nil:
		if err := checkEnvelopeKind(env.GetPayloadType(), env.GetPayload(), r); err != nil {
			return fail(err)
		}
		if r.Kind == KindAttestation {
			p.PredicateType = r.PredicateType
		}
		if r.CheckClaims {
			d := imageDigest(r.Image)
			art = artifact.Artifact{Name: "image " + r.Image.DigestStr(), Digest: &d}
		} else {
			p.SkipArtifactUnsafe = true
		}
	case r.Kind == KindAttestation:
		return fail(errors.New("a plain signature, not an attestation"))
	default:
		payload := c.Layer.Data
		art = artifact.Artifact{Name: "payload", Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(payload)), nil }}
		if c.Format == FormatBundle {
			return fail(errors.New("a bundle with a message signature: cosign image signatures are DSSE in-toto statements"))
		}
	}

	needTrust := p.Key == nil || !p.IgnoreTlogUnsafe || p.UseSignedTimestamps ||
		len(b.GetVerificationMaterial().GetTimestampVerificationData().GetRfc3161Timestamps()) > 0
	material := root.TrustedMaterial(&root.BaseTrustedMaterial{})
	if needTrust {
		if material, err = tm(); err != nil {
			return fail(fmt.Errorf("loading trust material: %w", err))
		}
	}
	if c.Format == FormatLegacy && env != nil && needTrust {
		var checked bool
		if b, checked, err = envelopeTimestamp(b, c.Layer, vc.Certificate(), material); err != nil {
			return fail(err)
		}
		if checked {
			// The timestamp requirement is met; the log entry's time
			// dates the certificate for sigstore-go.
			p.UseSignedTimestamps = false
		}
	}
	res, err := verifier.Verify(ctx, b, art, p, material)
	if err != nil {
		return fail(err)
	}
	v := &Verified{
		Origin: c.Origin, Format: c.Format, LayerDigest: layerDigest(c.Layer),
		Certificate: res.Certificate, Claims: res.Claims,
		TlogVerified:  !p.IgnoreTlogUnsafe && len(b.GetVerificationMaterial().GetTlogEntries()) > 0,
		ClaimsChecked: true,
	}
	if c.Format == FormatLegacy {
		v.RekorBundle = c.Layer.Annotations["dev.sigstore.cosign/bundle"]
		v.Timestamp = c.Layer.Annotations["dev.sigstore.cosign/rfc3161timestamp"]
	}
	if env != nil {
		v.Payload = env.GetPayload()
		v.Statement = res.Statement
		if v.Envelope, err = envelopeJSON(c, env.GetPayloadType(), env.GetPayload(), env.GetSignatures()); err != nil {
			return fail(err)
		}
		if err := statementClaims(v, r); err != nil {
			return fail(err)
		}
		return v, nil
	}
	v.Payload = c.Layer.Data
	if err := simpleSigningClaims(v, r); err != nil {
		return fail(err)
	}
	return v, nil
}

func imageDigest(d name.Digest) artifact.Digest {
	out, err := artifact.ParseDigest(d.DigestStr())
	if err != nil {
		// name.Digest only holds sha256 digests; an unknown algorithm
		// matches nothing.
		return artifact.Digest{}
	}
	return out
}

// checkEnvelopeKind rejects, before any verification, an envelope the
// verb cannot accept: not in-toto, an attestation offered to verify, a
// signature offered to verify-attestation, or another predicate type
// (GHSA-vjxv-45g9-9296, GHSA-w6c6-c85g-mmv6). The payload is untrusted
// here; this can only reject, and the verified statement is checked again.
func checkEnvelopeKind(payloadType string, payload []byte, r Request) error {
	if payloadType != attestation.PayloadType {
		return fmt.Errorf("DSSE payload type is %q, want %q", payloadType, attestation.PayloadType)
	}
	var st struct {
		PredicateType string `json:"predicateType"`
	}
	if err := json.Unmarshal(payload, &st); err != nil {
		return fmt.Errorf("DSSE payload is not an in-toto statement: %w", err)
	}
	return checkPredicateKind(st.PredicateType, r)
}

func checkPredicateKind(pt string, r Request) error {
	switch {
	case r.Kind == KindSignature && pt != SignPredicateType:
		return fmt.Errorf("an attestation (predicate type %q), not a signature (%q): verify-attestation verifies it", pt, SignPredicateType)
	case r.Kind == KindAttestation && pt == SignPredicateType:
		return fmt.Errorf("an image signature (predicate type %q), not an attestation: verify verifies it", pt)
	case r.Kind == KindAttestation && r.PredicateType != "" && pt != r.PredicateType:
		return typeMismatch{want: r.PredicateType, found: pt}
	}
	return nil
}

// typeMismatch: an attestation of another predicate type than asked.
type typeMismatch struct{ want, found string }

func (e typeMismatch) Error() string {
	return fmt.Sprintf("attestation type mismatch: expected predicate type %q, found %q", e.want, e.found)
}

// OtherTypes reports the predicate types found when every candidate
// failed only for being of another predicate type (their payloads are
// unverified: the type is checked first), so verify-attestation can say
// what cosign says then, "none of the attestations matched the predicate
// type".
func (e *NoMatchError) OtherTypes() ([]string, bool) {
	var types []string
	for _, f := range e.failures {
		var tm typeMismatch
		if !errors.As(f.err, &tm) {
			return nil, false
		}
		types = append(types, tm.found)
	}
	return types, len(types) > 0
}

// statementClaims checks the verified statement: its kind again, that a
// subject names the image, and the -a annotations on that subject.
func statementClaims(v *Verified, r Request) error {
	st := v.Statement
	if st == nil {
		return errors.New("no verified in-toto statement")
	}
	if err := checkPredicateKind(st.GetPredicateType(), r); err != nil {
		return err
	}
	want := imageDigest(r.Image)
	var subject *in_toto.ResourceDescriptor
	var found []string
	for _, s := range st.GetSubject() {
		for alg, h := range s.GetDigest() {
			found = append(found, alg+":"+h)
			if v, err := hex.DecodeString(h); err == nil && alg == "sha256" && bytes.Equal(v, want.Value) && subject == nil {
				subject = s
			}
		}
	}
	if subject == nil {
		if r.CheckClaims {
			return fmt.Errorf("claims check failed: expected subject digest %s, statement names %v", r.Image.DigestStr(), found)
		}
		v.ClaimsChecked = false
	}
	v.Annotations = map[string]string{}
	if subject != nil {
		for k, val := range subject.GetAnnotations().AsMap() {
			if s, ok := val.(string); ok {
				v.Annotations[k] = s
			}
		}
	}
	return matchAnnotations(r.Annotations, func(k string) (string, bool) {
		s, ok := v.Annotations[k]
		return s, ok
	})
}

func simpleSigningClaims(v *Verified, r Request) error {
	ss, err := ParseSimpleSigning(v.Payload)
	if err != nil {
		return fmt.Errorf("claims check failed: %w", err)
	}
	v.Signature = ss
	if ss.Critical.Image.DockerManifestDigest != r.Image.DigestStr() {
		if r.CheckClaims {
			return fmt.Errorf("claims check failed: expected docker-manifest-digest %s, payload names %s", r.Image.DigestStr(), ss.Critical.Image.DockerManifestDigest)
		}
		v.ClaimsChecked = false
	}
	return matchAnnotations(r.Annotations, func(k string) (string, bool) {
		s, ok := ss.Optional[k].(string)
		return s, ok
	})
}

func matchAnnotations(want map[string]string, get func(string) (string, bool)) error {
	for k, w := range want {
		got, ok := get(k)
		switch {
		case !ok:
			return fmt.Errorf("missing or incorrect annotation: expected %s=%q, the payload has no %s", k, w, k)
		case got != w:
			return fmt.Errorf("missing or incorrect annotation: expected %s=%q, found %q", k, w, got)
		}
	}
	return nil
}

func layerDigest(l oci.Layer) string {
	if l.Digest.Hex == "" {
		return ""
	}
	return l.Digest.String()
}
