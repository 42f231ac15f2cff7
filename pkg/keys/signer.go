package keys

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/sigstore/sigstore/pkg/signature/options"

	"github.com/signetdev/signet/internal/redact"
)

// LoadSigner resolves --key for signing: an encrypted cosign.key file (or
// ENCRYPTED COSIGN PRIVATE KEY), env://VAR holding such a PEM, or a KMS URI.
// The password is asked for (pass(false)) only for a cosign key file, after
// it was read. Ed25519 keys sign with Ed25519ph, as cosign's do (the only
// Ed25519 variant a hashedrekord entry can hold). Errors are one line that
// starts with "--key <ref>: " and never hold the password or key bytes.
func LoadSigner(ctx context.Context, ref string, pass PassFunc, getenv func(string) string) (signature.SignerVerifier, error) {
	sv, err := loadSigner(ctx, ref, pass, getenv)
	if err != nil {
		return nil, fmt.Errorf("--key %s: %w", redact.Ref(ref), redact.Error(err, ref))
	}
	return sv, nil
}

func loadSigner(ctx context.Context, ref string, pass PassFunc, getenv func(string) string) (signature.SignerVerifier, error) {
	if ref == "" {
		return nil, errors.New("no key reference given")
	}
	if strings.HasPrefix(ref, "pkcs11:") {
		return loadPKCS11(ctx, ref, getenv)
	}
	if err := checkSupportedRef(ref); err != nil {
		return nil, err
	}
	if IsKMSRef(ref) {
		return getKMS(ctx, ref)
	}
	data, err := ReadRef(ref, getenv)
	if err != nil {
		return nil, err
	}
	priv, err := DecryptPrivateKey(data, pass)
	if err != nil {
		return nil, err
	}
	return signature.LoadDefaultSignerVerifier(priv, options.WithED25519ph())
}

// LoadVerifierContext is LoadVerifier with a context for KMS calls. A KMS
// key's public key is fetched once and verified locally, with the hash
// cosign uses for its type (see Verifier).
func LoadVerifierContext(ctx context.Context, ref string, getenv func(string) string) (signature.Verifier, error) {
	v, err := loadVerifier(ctx, ref, getenv)
	if err != nil {
		return nil, fmt.Errorf("--key %s: %w", redact.Ref(ref), redact.Error(err, ref))
	}
	return v, nil
}

func loadVerifier(ctx context.Context, ref string, getenv func(string) string) (signature.Verifier, error) {
	if strings.HasPrefix(ref, "pkcs11:") {
		sv, err := loadPKCS11(ctx, ref, getenv)
		if err != nil {
			return nil, err
		}
		pub, err := sv.PublicKey()
		if err != nil {
			return nil, err
		}
		return Verifier(pub)
	}
	if err := checkSupportedRef(ref); err != nil {
		return nil, err
	}
	if IsKMSRef(ref) {
		sv, err := getKMS(ctx, ref)
		if err != nil {
			return nil, err
		}
		pub, err := sv.PublicKey(options.WithContext(ctx))
		if err != nil {
			return nil, fmt.Errorf("fetching public key: %w", err)
		}
		return Verifier(pub)
	}
	data, err := ReadRef(ref, getenv)
	if err != nil {
		return nil, err
	}
	pub, err := ParsePublicKey(data)
	if err != nil {
		return nil, err
	}
	return Verifier(pub)
}
