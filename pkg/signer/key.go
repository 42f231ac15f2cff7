// Package signer is signet's one signing path: sign-blob, attest-blob and
// (later) sign and attest differ only in the content they hand it. A Signer
// holds a key and, when keyless, its Fulcio certificate; each Sign call
// signs one content, timestamps it, logs it in Rekor and returns a bundle.
package signer

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"

	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/sigstore/sigstore/pkg/signature/options"
)

// DefaultAlgorithm is cosign's --signing-algorithm default.
const DefaultAlgorithm = "ecdsa-sha2-256-nistp256"

// Key is a signing key: an ephemeral one made for this run, or one loaded
// with --key (a file or a KMS key, as a signature.SignerVerifier).
type Key struct {
	sv      signature.SignerVerifier
	pub     crypto.PublicKey
	details signature.AlgorithmDetails
}

// GenerateKey makes an ephemeral key for an algorithm named as cosign's
// --signing-algorithm does (ecdsa-sha2-256-nistp256, …, rsa-sign-pkcs1-4096-sha256).
func GenerateKey(algorithm string) (*Key, error) {
	pkd, err := signature.ParseSignatureAlgorithmFlag(algorithm)
	if err != nil {
		return nil, fmt.Errorf("--signing-algorithm %q: %w", algorithm, err)
	}
	details, err := signature.GetAlgorithmDetails(pkd)
	if err != nil {
		return nil, fmt.Errorf("--signing-algorithm %q: %w", algorithm, err)
	}
	var priv crypto.Signer
	switch details.GetKeyType() {
	case signature.ECDSA:
		curve, err := details.GetECDSACurve()
		if err != nil {
			return nil, err
		}
		priv, err = ecdsa.GenerateKey(*curve, rand.Reader)
		if err != nil {
			return nil, err
		}
	case signature.RSA:
		size, err := details.GetRSAKeySize()
		if err != nil {
			return nil, err
		}
		priv, err = rsa.GenerateKey(rand.Reader, int(size))
		if err != nil {
			return nil, err
		}
	default:
		// Fulcio does not take ed25519ph, and plain ed25519 cannot sign
		// a streamed digest.
		return nil, fmt.Errorf("--signing-algorithm %q: not supported for signing here", algorithm)
	}
	sv, err := signature.LoadSignerVerifierFromAlgorithmDetails(priv, details)
	if err != nil {
		return nil, err
	}
	return &Key{sv: sv, pub: priv.Public(), details: details}, nil
}

// NewKey wraps a loaded key (--key), with the algorithm sigstore uses by
// default for its type (ECDSA P-256 with SHA-256, and so on).
func NewKey(sv signature.SignerVerifier) (*Key, error) {
	pub, err := sv.PublicKey()
	if err != nil {
		return nil, fmt.Errorf("reading the key's public half: %w", err)
	}
	var opts []signature.LoadOption
	if _, ok := sv.(*signature.ED25519phSignerVerifier); ok {
		// ed25519 keys sign pre-hashed (SHA-512): streamable, and what a
		// Rekor hashedrekord entry can hold.
		opts = append(opts, options.WithED25519ph())
	}
	details, err := signature.GetDefaultAlgorithmDetails(pub, opts...)
	if err != nil {
		return nil, fmt.Errorf("key type %T: %w", pub, err)
	}
	return &Key{sv: sv, pub: pub, details: details}, nil
}

// Hash is the digest algorithm of message signatures made with the key
// (0 for ed25519, which signs the message itself).
func (k *Key) Hash() crypto.Hash { return k.details.GetHashType() }

// PublicKey returns the public half.
func (k *Key) PublicKey() crypto.PublicKey { return k.pub }

// SignDigest signs a digest computed with k.Hash(), so content of any size
// is signed without holding it in memory.
func (k *Key) SignDigest(ctx context.Context, digest []byte) ([]byte, error) {
	if k.Hash() == 0 {
		return nil, errors.New("this key signs messages, not digests")
	}
	return k.sv.SignMessage(bytes.NewReader(nil), options.WithDigest(digest), options.WithCryptoSignerOpts(k.Hash()), options.WithContext(ctx))
}

// The methods below make Key a sigstore-go sign.Keypair, for its Fulcio
// client (proof of possession) and its Rekor entry types.

// GetHashAlgorithm implements sign.Keypair.
func (k *Key) GetHashAlgorithm() protocommon.HashAlgorithm { return k.details.GetProtoHashType() }

// GetSigningAlgorithm implements sign.Keypair.
func (k *Key) GetSigningAlgorithm() protocommon.PublicKeyDetails {
	return k.details.GetSignatureAlgorithm()
}

// GetHint implements sign.Keypair: no hint, as cosign writes key-signed
// bundles.
func (k *Key) GetHint() []byte { return nil }

// GetKeyAlgorithm implements sign.Keypair (Fulcio's names).
func (k *Key) GetKeyAlgorithm() string {
	switch k.pub.(type) {
	case *ecdsa.PublicKey:
		return "ECDSA"
	case *rsa.PublicKey:
		return "RSA"
	case ed25519.PublicKey:
		return "ED25519"
	}
	return ""
}

// GetPublicKey implements sign.Keypair.
func (k *Key) GetPublicKey() crypto.PublicKey { return k.pub }

// GetPublicKeyPem implements sign.Keypair.
func (k *Key) GetPublicKeyPem() (string, error) {
	der, err := x509.MarshalPKIXPublicKey(k.pub)
	if err != nil {
		return "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), nil
}

// SignData implements sign.Keypair: it hashes data (unless the key signs
// messages) and signs, returning the signature and what was signed.
func (k *Key) SignData(ctx context.Context, data []byte) ([]byte, []byte, error) {
	if k.Hash() == 0 {
		sig, err := k.sv.SignMessage(bytes.NewReader(data), options.WithContext(ctx))
		return sig, data, err
	}
	h := k.Hash().New()
	h.Write(data)
	digest := h.Sum(nil)
	sig, err := k.SignDigest(ctx, digest)
	return sig, digest, err
}
