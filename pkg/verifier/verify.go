package verifier

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"time"

	in_toto "github.com/in-toto/attestation/go/v1"
	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/signature"
	"google.golang.org/protobuf/proto"

	"github.com/signetdev/signet/pkg/attestation"

	"github.com/signetdev/signet/pkg/artifact"
)

// Result is what a successful verification established.
type Result struct {
	// Certificate is the signing certificate; nil when a key signed.
	Certificate *x509.Certificate
	// Claims are the certificate's identity claims (zero when a key signed).
	Claims CertificateClaims
	// Statement is the verified in-toto statement of a DSSE bundle.
	Statement *in_toto.Statement
	// Timestamps are the verified times the signature is known to exist.
	Timestamps []verify.TimestampVerificationResult
}

// Verify checks a bundle against the policy, the trusted material and the
// artifact. It reads the artifact at most once, as a stream.
func Verify(ctx context.Context, b *bundle.Bundle, art artifact.Artifact, p Policy, tm root.TrustedMaterial) (*Result, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if p.Key != nil {
		p.Key = ed25519Variant(p.Key, b)
		tm = root.TrustedMaterialCollection{tm, trustedKey(p.Key)}
	}
	if b.GetDsseEnvelope() != nil {
		var err error
		if b, err = singleSignatureEnvelope(b, p.Key, p.AllowCertificateChain); err != nil {
			return nil, err
		}
	}

	// Parse the verification material first, so that a damaged
	// certificate is reported as such, not as a log or chain failure, and
	// a bundle verified in the wrong mode says so.
	vc, err := b.VerificationContent()
	if err != nil {
		return nil, fmt.Errorf("%w: certificate check failed: the bundle's certificate cannot be parsed: %v", ErrVerification, err)
	}
	switch {
	case vc.Certificate() != nil && p.Key != nil:
		return nil, errors.New("the bundle is signed with a certificate, not a key: verify it with --certificate-identity and --certificate-oidc-issuer instead of --key")
	case vc.Certificate() == nil && p.Key == nil:
		return nil, errors.New("the bundle is signed with a key, not a certificate: verify it with --key")
	}
	if b, err = dropUnlistedTimestamps(b, p, tm); err != nil {
		return nil, err
	}
	if !p.IgnoreTlogUnsafe {
		if err := checkRekorV2Entries(b, tm); err != nil {
			return nil, fmt.Errorf("%w: transparency log check failed: %s", ErrVerification, oneLine(err.Error()))
		}
	}

	sev, err := verify.NewVerifier(tm, verifierOptions(b, p)...)
	if err != nil {
		return nil, fmt.Errorf("building verifier: %w", err)
	}
	artifactOpt, closeArtifact, err := artifactPolicy(b, art, p)
	if err != nil {
		return nil, err
	}
	defer closeArtifact()
	policyOpts := []verify.PolicyOption{verify.WithoutIdentitiesUnsafe()}
	if p.Key != nil {
		policyOpts = []verify.PolicyOption{verify.WithKey()}
	}
	// Identities are checked below, by Identity.Check, for its messages.
	res, err := sev.Verify(b, verify.NewPolicy(artifactOpt, policyOpts...))
	if err != nil {
		return nil, explain(err, b, tm)
	}

	out := &Result{Statement: res.Statement, Timestamps: res.VerifiedTimestamps}
	if vc.Certificate() != nil {
		out.Certificate = vc.Certificate()
		if out.Claims, err = ParseClaims(out.Certificate); err != nil {
			return nil, err
		}
		if p.Key == nil {
			if err := p.Identity.check(out.Claims); err != nil {
				return nil, err
			}
		}
	}
	if p.PredicateType != "" {
		if err := checkPredicateType(b, res.Statement, p.PredicateType); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// verifierOptions turns the policy into sigstore-go's thresholds.
func verifierOptions(b *bundle.Bundle, p Policy) []verify.VerifierOption {
	var opts []verify.VerifierOption
	if !p.IgnoreTlogUnsafe {
		opts = append(opts, verify.WithTransparencyLog(1))
	}
	if p.Key == nil && !p.IgnoreSCTUnsafe {
		opts = append(opts, verify.WithSignedCertificateTimestamps(1))
	}
	hasTimestamps := len(b.GetVerificationMaterial().GetTimestampVerificationData().GetRfc3161Timestamps()) > 0
	switch {
	case hasTimestamps || p.UseSignedTimestamps:
		// A bundle's RFC 3161 timestamps are always verified and used as
		// the signing time: cosign ignores them unless told, and so accepts
		// a timestamp outside the certificate's validity. Integrated times,
		// when present, are checked against the certificate too.
		opts = append(opts, verify.WithSignedTimestamps(1))
	case !p.IgnoreTlogUnsafe:
		opts = append(opts, verify.WithIntegratedTimestamps(1))
	case p.Key != nil:
		opts = append(opts, verify.WithNoObserverTimestamps())
	default:
		// No log, no timestamp: only "now" can date the certificate, as in
		// cosign.
		opts = append(opts, verify.WithCurrentTime())
	}
	return opts
}

// trustedKey makes --key a trust anchor valid at any time.
func trustedKey(v signature.Verifier) root.TrustedMaterial {
	k := root.NewExpiringKey(v, time.Time{}, time.Time{})
	return root.NewTrustedPublicKeyMaterial(func(string) (root.TimeConstrainedVerifier, error) { return k, nil })
}

// artifactPolicy hashes the artifact once, with the algorithm the bundle
// needs, and hands sigstore-go the digest, so no artifact is ever held in
// memory. Only ed25519 (not pre-hashed) needs the content itself; the
// returned func closes it once verification is done.
func artifactPolicy(b *bundle.Bundle, art artifact.Artifact, p Policy) (verify.ArtifactPolicyOption, func(), error) {
	opt, rc, err := artifactPolicyAndReader(b, art, p)
	if rc == nil {
		return opt, func() {}, err
	}
	return opt, func() { rc.Close() }, err
}

func artifactPolicyAndReader(b *bundle.Bundle, art artifact.Artifact, p Policy) (verify.ArtifactPolicyOption, io.ReadCloser, error) {
	if env := b.GetDsseEnvelope(); env != nil {
		if p.SkipArtifactUnsafe {
			return verify.WithoutArtifactUnsafe(), nil, nil
		}
		opt, err := envelopeArtifact(env, art)
		return opt, nil, err
	}
	ms := b.GetMessageSignature()
	if ms == nil {
		return nil, nil, errors.New("bundle has neither a message signature nor a DSSE envelope")
	}
	if art.Open == nil && art.Digest == nil {
		return nil, nil, errors.New("an artifact (a file or its sha256:<hex> digest) is required to verify a message signature")
	}
	if isEd25519(b, p) {
		if art.Open == nil {
			return nil, nil, fmt.Errorf("the bundle is signed with ed25519, which signs the content itself: give the artifact file, not its digest %s", art.Digest)
		}
		if len(ms.GetMessageDigest().GetDigest()) == 0 {
			// sigstore-go checks the content against the bundle's digest,
			// which a detached signature lacks: hash it first.
			alg := crypto.SHA256
			if h, err := artifact.HashByName(ms.GetMessageDigest().GetAlgorithm().String()); err == nil {
				alg = h
			}
			d, err := artifactDigest(art, alg)
			if err != nil {
				return nil, nil, err
			}
			ms.MessageDigest = &protocommon.HashOutput{Algorithm: hashAlgorithm(d.Algorithm), Digest: d.Value}
		}
		rc, err := art.Open()
		if err != nil {
			return nil, nil, fmt.Errorf("opening artifact: %w", err)
		}
		return verify.WithArtifact(rc), rc, nil
	}

	alg := crypto.SHA256
	if md := ms.GetMessageDigest(); md != nil && md.GetAlgorithm() != protocommon.HashAlgorithm_HASH_ALGORITHM_UNSPECIFIED {
		h, err := artifact.HashByName(md.GetAlgorithm().String())
		if err != nil {
			return nil, nil, fmt.Errorf("bundle message digest: %w", err)
		}
		alg = h
	}
	d, err := artifactDigest(art, alg)
	if err != nil {
		return nil, nil, err
	}
	if len(ms.GetMessageDigest().GetDigest()) == 0 {
		// A detached signature carries no digest: the artifact's is the
		// only candidate, and the signature check decides.
		ms.MessageDigest = &protocommon.HashOutput{Algorithm: hashAlgorithm(alg), Digest: d.Value}
	}
	if !bytes.Equal(ms.GetMessageDigest().GetDigest(), d.Value) {
		return nil, nil, fmt.Errorf("artifact digest mismatch: the bundle signs %s, artifact %s is %s", artifact.Digest{Algorithm: alg, Value: ms.GetMessageDigest().GetDigest()}, art.Name, d)
	}
	return verify.WithArtifactDigest(artifact.HashName(alg), d.Value), nil, nil
}

// artifactDigest returns the artifact's digest under alg, hashing the
// content only when the user did not give the digest.
func artifactDigest(art artifact.Artifact, alg crypto.Hash) (artifact.Digest, error) {
	if art.Digest != nil {
		if art.Digest.Algorithm != alg {
			return artifact.Digest{}, fmt.Errorf("the bundle needs a %s digest of the artifact, got %s", artifact.HashName(alg), art.Digest)
		}
		return *art.Digest, nil
	}
	sums, err := artifact.Sum(art, alg)
	if err != nil {
		return artifact.Digest{}, err
	}
	return artifact.Digest{Algorithm: alg, Value: sums[alg]}, nil
}

// ed25519Variant picks how an ed25519 key verifies this bundle: signet
// (and Rekor's hashedrekord) sign ed25519 pre-hashed with SHA-512, which
// the bundle's message digest shows; cosign without a log signs the content
// itself and records no digest.
func ed25519Variant(v signature.Verifier, b *bundle.Bundle) signature.Verifier {
	pub, err := v.PublicKey()
	if err != nil {
		return v
	}
	edPub, ok := pub.(ed25519.PublicKey)
	md := b.GetMessageSignature().GetMessageDigest()
	if !ok || md.GetAlgorithm() != protocommon.HashAlgorithm_SHA2_512 || len(md.GetDigest()) == 0 {
		return v
	}
	ph, err := signature.LoadED25519phVerifier(edPub)
	if err != nil {
		return v
	}
	return ph
}

func isEd25519(b *bundle.Bundle, p Policy) bool {
	if p.Key != nil {
		_, ok := p.Key.(*signature.ED25519Verifier)
		return ok
	}
	vc, err := b.VerificationContent()
	if err != nil || vc.Certificate() == nil {
		return false
	}
	_, ok := vc.Certificate().PublicKey.(ed25519.PublicKey)
	return ok
}

// singleSignatureEnvelope accepts a DSSE envelope with several signatures
// only if every one of them verifies with the bundle's key: then the extra
// ones are copies and nothing unverified rides along. sigstore-go (and the
// bundle spec) want exactly one, so the copies are dropped.
func singleSignatureEnvelope(b *bundle.Bundle, key signature.Verifier, allowChain bool) (*bundle.Bundle, error) {
	env := b.GetDsseEnvelope()
	if len(env.GetSignatures()) <= 1 {
		return b, nil
	}
	v := key
	if v == nil {
		vc, err := b.VerificationContent()
		if err != nil || vc.Certificate() == nil {
			return nil, fmt.Errorf("DSSE envelope carries %d signatures and the bundle has no certificate to check them with", len(env.GetSignatures()))
		}
		if v, err = signature.LoadDefaultVerifier(vc.Certificate().PublicKey); err != nil {
			return nil, fmt.Errorf("loading the certificate's key: %w", err)
		}
	}
	pae := dsse.PAE(env.GetPayloadType(), env.GetPayload())
	for i, s := range env.GetSignatures() {
		if err := v.VerifySignature(bytes.NewReader(s.GetSig()), bytes.NewReader(pae)); err != nil {
			return nil, fmt.Errorf("DSSE envelope carries %d signatures and signature %d does not verify with the signing key: %w", len(env.GetSignatures()), i+1, err)
		}
	}
	pb := proto.Clone(b.Bundle).(*protobundle.Bundle)
	e := pb.GetDsseEnvelope()
	e.Signatures = []*protodsse.Signature{e.Signatures[0]}
	var opts []bundle.Option
	if allowChain {
		opts = append(opts, bundle.AllowCertificateChain())
	}
	return bundle.NewBundle(pb, opts...)
}

// envelopeArtifact ties an in-toto statement to the artifact: the
// artifact's digest must be one of the statement's subjects.
func envelopeArtifact(env *protodsse.Envelope, art artifact.Artifact) (verify.ArtifactPolicyOption, error) {
	if art.Open == nil && art.Digest == nil {
		return nil, errors.New("an artifact (a file, or --digest/--digestAlg) is required to check the attestation's subject; --check-claims=false skips the check")
	}
	st, err := parseSubjects(env)
	if err != nil {
		return nil, err
	}
	subjects := subjectDigests(st)
	var ds []artifact.Digest
	if art.Digest != nil {
		ds = []artifact.Digest{*art.Digest}
	} else {
		if ds, err = digestForSubjects(art, subjects); err != nil {
			return nil, err
		}
	}
	d, err := matchSubject(subjects, ds, art.Name)
	if err != nil {
		return nil, err
	}
	return verify.WithArtifactDigest(artifact.HashName(d.Algorithm), d.Value), nil
}

// digestForSubjects hashes the artifact, in one pass, with every algorithm
// the statement's subjects use.
func digestForSubjects(art artifact.Artifact, subjects map[crypto.Hash][][]byte) ([]artifact.Digest, error) {
	var algs []crypto.Hash
	for _, alg := range []crypto.Hash{crypto.SHA256, crypto.SHA384, crypto.SHA512} {
		if _, ok := subjects[alg]; ok {
			algs = append(algs, alg)
		}
	}
	if len(algs) == 0 {
		return nil, errors.New("the attestation's subjects have no sha256, sha384 or sha512 digest to compare the artifact with")
	}
	sums, err := artifact.Sum(art, algs...)
	if err != nil {
		return nil, err
	}
	ds := make([]artifact.Digest, 0, len(algs))
	for _, alg := range algs {
		ds = append(ds, artifact.Digest{Algorithm: alg, Value: sums[alg]})
	}
	return ds, nil
}

func checkPredicateType(b *bundle.Bundle, st *in_toto.Statement, want string) error {
	if b.GetDsseEnvelope() == nil || st == nil {
		return errors.New("the bundle holds a plain signature, not an attestation (an in-toto statement in a DSSE envelope)")
	}
	if pt := b.GetDsseEnvelope().GetPayloadType(); pt != attestation.PayloadType {
		return fmt.Errorf("DSSE payload type is %q, want %q", pt, attestation.PayloadType)
	}
	if st.GetPredicateType() != want {
		return fmt.Errorf("attestation type mismatch: expected predicate type %q, the attestation has %q", want, st.GetPredicateType())
	}
	return nil
}
