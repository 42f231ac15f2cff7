// Package keys reads and writes cosign's key formats and resolves --key:
// the encrypted cosign.key (scrypt + NaCl secretbox), PEM public keys,
// imported PEM private keys, env://VAR references, and KMS URIs through
// sigstore/sigstore's providers (build tags) or plugins (PATH).
package keys

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	"github.com/sigstore/sigstore/pkg/signature"

	"github.com/signetdev/signet/internal/fileutil"
)

// EnvPrefix marks a key held in an environment variable: env://VAR.
const EnvPrefix = "env://"

// maxKeyFile bounds a key file read; real ones are a few KiB.
const maxKeyFile = 1 << 20

// ReadRef returns the bytes a key reference points at: a file path or
// env://VAR. KMS and other schemes are reported as unsupported here.
func ReadRef(ref string, getenv func(string) string) ([]byte, error) {
	if name, ok := strings.CutPrefix(ref, EnvPrefix); ok {
		v := getenv(name)
		if v == "" {
			return nil, fmt.Errorf("environment variable %s (from %s) is empty or unset", name, ref)
		}
		return []byte(v), nil
	}
	if scheme, _, ok := strings.Cut(ref, "://"); ok && !strings.ContainsAny(scheme, `/\`) {
		return nil, fmt.Errorf("key reference %q: %s:// keys are not supported by this build", ref, scheme)
	}
	data, err := fileutil.ReadLimit(ref, maxKeyFile)
	if err != nil {
		return nil, err
	}
	return data, nil
}

// ParsePublicKey reads a PEM public key (PKIX "PUBLIC KEY", or PKCS#1
// "RSA PUBLIC KEY") or a DER PKIX key. A certificate is not a key here, as
// in cosign: --key cert.pem is a mistake worth reporting.
func ParsePublicKey(data []byte) (crypto.PublicKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		if pub, err := x509.ParsePKIXPublicKey(data); err == nil {
			return pub, nil
		}
		return nil, errors.New("neither a PEM public key nor a DER (PKIX) one")
	}
	switch block.Type {
	case "PUBLIC KEY":
		pub, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parsing PUBLIC KEY: %w", err)
		}
		return pub, nil
	case "RSA PUBLIC KEY":
		pub, err := x509.ParsePKCS1PublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parsing RSA PUBLIC KEY: %w", err)
		}
		return pub, nil
	}
	return nil, fmt.Errorf("PEM block %q is not a public key", block.Type)
}

// Verifier returns a signature verifier for pub with the hash cosign uses
// for its key type (SHA-256 for P-256 and RSA, SHA-384 for P-384, SHA-512
// for P-521; ed25519 signs the message itself).
func Verifier(pub crypto.PublicKey) (signature.Verifier, error) {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		h := crypto.SHA256
		switch k.Curve {
		case elliptic.P384():
			h = crypto.SHA384
		case elliptic.P521():
			h = crypto.SHA512
		}
		return signature.LoadECDSAVerifier(k, h)
	case *rsa.PublicKey:
		return signature.LoadRSAPKCS1v15Verifier(k, crypto.SHA256)
	case ed25519.PublicKey:
		return signature.LoadED25519Verifier(k)
	}
	return nil, fmt.Errorf("unsupported public key type %T", pub)
}

// LoadVerifier resolves --key for verification: a PEM file or env://VAR
// holding a public key, or a KMS URI (see LoadVerifierContext).
func LoadVerifier(ref string, getenv func(string) string) (signature.Verifier, error) {
	return LoadVerifierContext(context.Background(), ref, getenv)
}
