// Package verifier decides whether a signature is good: it turns a Policy
// (who must have signed, with what evidence) into a sigstore-go verifier,
// runs it over a bundle and an artifact, and explains a failure by naming
// the check, what was expected and what was found.
package verifier

import (
	"errors"

	"github.com/sigstore/sigstore/pkg/signature"
)

// Policy is what a signature must satisfy. The zero value is not valid:
// a policy names either an Identity (keyless) or a Key.
type Policy struct {
	// Identity is who must appear in the signing certificate.
	Identity Identity
	// Key is the public key of a key-signed bundle (--key).
	Key signature.Verifier

	// PredicateType, when set, is the in-toto predicate type an attestation
	// must carry (verify-blob-attestation --type). It also requires the
	// bundle to hold an in-toto statement.
	PredicateType string

	// UseSignedTimestamps requires an RFC 3161 timestamp. Whether or not it
	// is set, a bundle that carries timestamps is verified with them.
	UseSignedTimestamps bool
	// AllowCertificateChain accepts a full chain in a v0.3 bundle.
	AllowCertificateChain bool

	// IgnoreTlogUnsafe skips the transparency log: the signature could
	// have been made in secret.
	IgnoreTlogUnsafe bool
	// IgnoreSCTUnsafe skips the certificate transparency check: the
	// certificate could have been issued in secret.
	IgnoreSCTUnsafe bool
	// Warnf, if set, gets the one warning verification may give: RFC 3161
	// timestamps from a TSA the trusted root does not list were left out.
	Warnf func(format string, args ...any)

	// SkipArtifactUnsafe verifies the DSSE envelope without tying it to an
	// artifact (verify-blob-attestation --check-claims=false).
	SkipArtifactUnsafe bool
}

// ErrKeyWithIdentity: a key-signed bundle has no certificate to hold an
// identity, so asking for both is a mistake (cosign #4636).
var ErrKeyWithIdentity = errors.New("--key cannot be combined with certificate identity flags (--certificate-identity, --certificate-oidc-issuer, --certificate-github-workflow-*, …): a key-signed bundle has no certificate to check them against")

// Validate rejects contradictory or incomplete policies before any
// verification starts.
func (p Policy) Validate() error {
	if p.Key != nil {
		if !p.Identity.IsZero() {
			return ErrKeyWithIdentity
		}
		return nil
	}
	return p.Identity.validate()
}
