package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"

	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/cryptoutils/goodkey"

	"github.com/signetdev/signet/internal/atomicfile"
)

// PassFunc returns the key password; confirm asks twice (generation).
type PassFunc func(confirm bool) ([]byte, error)

// KeyPair is a cosign key pair as files hold it.
type KeyPair struct {
	// PrivateKeyPEM is the encrypted key (cosign.key).
	PrivateKeyPEM []byte
	// PublicKeyPEM is the PKIX public key (cosign.pub).
	PublicKeyPEM []byte
}

// GenerateKeyPair makes a new ECDSA P-256 key (cosign's default) and
// encrypts it with the password pass returns (asked with confirmation).
func GenerateKeyPair(pass PassFunc) (*KeyPair, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating key: %w", err)
	}
	return NewKeyPair(priv, pass)
}

// NewKeyPair encrypts priv with the password pass returns (asked with
// confirmation) and encodes its public key.
func NewKeyPair(priv crypto.Signer, pass PassFunc) (*KeyPair, error) {
	pub, err := MarshalPublicKeyPEM(priv.Public())
	if err != nil {
		return nil, err
	}
	var password []byte
	if pass != nil {
		if password, err = pass(true); err != nil {
			return nil, err
		}
	}
	enc, err := EncryptPrivateKey(priv, password)
	clear(password)
	if err != nil {
		return nil, err
	}
	return &KeyPair{PrivateKeyPEM: enc, PublicKeyPEM: pub}, nil
}

// MarshalPublicKeyPEM encodes pub as cosign.pub does: a PKIX "PUBLIC KEY"
// PEM block.
func MarshalPublicKeyPEM(pub crypto.PublicKey) ([]byte, error) {
	b, err := cryptoutils.MarshalPublicKeyToPEM(pub)
	if err != nil {
		return nil, fmt.Errorf("encoding public key: %w", err)
	}
	return b, nil
}

// ParsePrivateKeyPEM reads an unencrypted private key to import: PKCS#1
// "RSA PRIVATE KEY", SEC 1 "EC PRIVATE KEY" or PKCS#8 "PRIVATE KEY" (RSA,
// ECDSA or Ed25519). As in cosign, only keys sigstore's key policy accepts
// pass: RSA 2048, 3072 or 4096 bits with e=65537 and no known weakness,
// ECDSA P-256, P-384 or P-521, and Ed25519. Errors never quote the key.
func ParsePrivateKeyPEM(data []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("not a PEM file (want an RSA PRIVATE KEY, EC PRIVATE KEY or PRIVATE KEY block)")
	}
	if block.Headers["Proc-Type"] != "" {
		return nil, fmt.Errorf("PEM block %q is encrypted with a legacy PEM password (Proc-Type); decrypt it first, e.g. with openssl pkey", block.Type)
	}
	var key any
	var err error
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case PEMTypeEncrypted, PEMTypeEncryptedCosign:
		return nil, fmt.Errorf("PEM block %q is already a cosign key", block.Type)
	case "ENCRYPTED PRIVATE KEY":
		return nil, errors.New(`PEM block "ENCRYPTED PRIVATE KEY" (encrypted PKCS#8) is not supported; decrypt it first, e.g. with openssl pkey`)
	default:
		return nil, fmt.Errorf("unsupported PEM block %q (want RSA PRIVATE KEY, EC PRIVATE KEY or PRIVATE KEY)", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("parsing %s: %w", block.Type, err)
	}
	signer, err := supportedSigner(key)
	if err != nil {
		return nil, err
	}
	if err := goodkey.ValidatePubKey(signer.Public()); err != nil {
		return nil, fmt.Errorf("%s key rejected: %w", KeyKind(signer.Public()), err)
	}
	return signer, nil
}

// ImportKeyPair turns an unencrypted PEM private key into a cosign key
// pair, encrypted with the password pass returns (asked with confirmation).
func ImportKeyPair(data []byte, pass PassFunc) (*KeyPair, error) {
	priv, err := ParsePrivateKeyPEM(data)
	if err != nil {
		return nil, err
	}
	return NewKeyPair(priv, pass)
}

// WriteKeyPair writes prefix.key (mode 0600 from creation) and prefix.pub
// (0644). Both are written to temporary files first and renamed into place
// only when both are complete, so a failure leaves no partial file, and no
// new file at all unless the second rename fails (then the error says the
// key was written).
func WriteKeyPair(prefix string, kp *KeyPair) (keyPath, pubPath string, err error) {
	keyPath, pubPath = prefix+".key", prefix+".pub"
	for _, p := range []string{keyPath, pubPath} {
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			return "", "", fmt.Errorf("writing %s: is a directory", p)
		}
	}
	kf, err := atomicfile.CreateMode(keyPath, 0o600)
	if err != nil {
		return "", "", fmt.Errorf("writing %s: %w", keyPath, err)
	}
	defer kf.Abort()
	pf, err := atomicfile.CreateMode(pubPath, 0o644)
	if err != nil {
		return "", "", fmt.Errorf("writing %s: %w", pubPath, err)
	}
	defer pf.Abort()
	if _, err := kf.Write(kp.PrivateKeyPEM); err != nil {
		return "", "", fmt.Errorf("writing %s: %w", keyPath, err)
	}
	if _, err := pf.Write(kp.PublicKeyPEM); err != nil {
		return "", "", fmt.Errorf("writing %s: %w", pubPath, err)
	}
	if err := kf.Commit(); err != nil {
		return "", "", fmt.Errorf("writing %s: %w", keyPath, err)
	}
	if err := pf.Commit(); err != nil {
		return "", "", fmt.Errorf("writing %s (%s was written): %w", pubPath, keyPath, err)
	}
	return keyPath, pubPath, nil
}

// KeyKind names a public key's type for messages: "ECDSA P-256",
// "RSA 2048", "Ed25519".
func KeyKind(pub crypto.PublicKey) string {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		return "ECDSA " + k.Curve.Params().Name
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA %d", k.N.BitLen())
	case ed25519.PublicKey:
		return "Ed25519"
	}
	return fmt.Sprintf("%T", pub)
}
