package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"

	"golang.org/x/crypto/nacl/secretbox"
	"golang.org/x/crypto/scrypt"
)

// PEM types of a cosign private key file. cosign writes the first since
// v1.x and still reads the second.
const (
	PEMTypeEncrypted       = "ENCRYPTED SIGSTORE PRIVATE KEY"
	PEMTypeEncryptedCosign = "ENCRYPTED COSIGN PRIVATE KEY"
)

// ErrWrongPassword is what decrypting a key with the wrong password gives.
// secretbox cannot tell a wrong password from a damaged ciphertext, so the
// message names both.
var ErrWrongPassword = errors.New("wrong password or corrupted key")

// ScryptParams are the cost parameters of the key derivation.
type ScryptParams struct {
	N int `json:"N"`
	R int `json:"r"`
	P int `json:"p"`
}

// The scrypt parameters cosign (go-securesystemslib) accepts when
// decrypting; DefaultScrypt is what it, and signet, write.
var (
	LegacyScrypt  = ScryptParams{N: 1 << 15, R: 8, P: 1}
	DefaultScrypt = ScryptParams{N: 1 << 16, R: 8, P: 1}
	StrongScrypt  = ScryptParams{N: 1 << 17, R: 8, P: 1}
)

func (p ScryptParams) accepted() bool {
	return p == LegacyScrypt || p == DefaultScrypt || p == StrongScrypt
}

const (
	kdfScrypt       = "scrypt"
	cipherSecretbox = "nacl/secretbox"
	saltSize        = 32
	nonceSize       = 24
	boxKeySize      = 32
)

// encryptedKey is the JSON inside the PEM block. Field order is the order
// cosign writes, so the files look alike byte for byte (apart from the
// random salt, nonce and key). []byte fields are standard base64.
type encryptedKey struct {
	KDF struct {
		Name   string       `json:"name"`
		Params ScryptParams `json:"params"`
		Salt   []byte       `json:"salt"`
	} `json:"kdf"`
	Cipher struct {
		Name  string `json:"name"`
		Nonce []byte `json:"nonce"`
	} `json:"cipher"`
	Ciphertext []byte `json:"ciphertext"`
}

// Encrypt seals plaintext with a key derived from password: scrypt with
// params and a random 32-byte salt, then NaCl secretbox with a random
// nonce. It returns the JSON document cosign stores in its PEM block.
func Encrypt(plaintext, password []byte, params ScryptParams) ([]byte, error) {
	if !params.accepted() {
		return nil, fmt.Errorf("scrypt parameters N=%d r=%d p=%d would not decrypt in cosign", params.N, params.R, params.P)
	}
	var doc encryptedKey
	doc.KDF.Name = kdfScrypt
	doc.KDF.Params = params
	doc.KDF.Salt = make([]byte, saltSize)
	doc.Cipher.Name = cipherSecretbox
	doc.Cipher.Nonce = make([]byte, nonceSize)
	if _, err := rand.Read(doc.KDF.Salt); err != nil {
		return nil, err
	}
	if _, err := rand.Read(doc.Cipher.Nonce); err != nil {
		return nil, err
	}
	key, err := deriveKey(password, doc.KDF.Salt, params)
	if err != nil {
		return nil, err
	}
	nonce := [nonceSize]byte(doc.Cipher.Nonce)
	doc.Ciphertext = secretbox.Seal(nil, plaintext, &nonce, key)
	clear(key[:])
	return json.Marshal(&doc)
}

// deriveKey is the secretbox key for password: scrypt(password, salt, N,
// r, p, 32).
func deriveKey(password, salt []byte, p ScryptParams) (*[boxKeySize]byte, error) {
	b, err := scrypt.Key(password, salt, p.N, p.R, p.P, boxKeySize)
	if err != nil {
		return nil, err
	}
	key := [boxKeySize]byte(b)
	clear(b)
	return &key, nil
}

// Decrypt opens the JSON document Encrypt (or cosign) wrote. It checks the
// algorithm names and the scrypt parameters before deriving any key, so a
// hostile file cannot ask for an expensive derivation.
func Decrypt(data, password []byte) ([]byte, error) {
	var doc encryptedKey
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("not an encrypted key document: %w", err)
	}
	if doc.KDF.Name != kdfScrypt {
		return nil, fmt.Errorf("unsupported key derivation %q (want %q)", doc.KDF.Name, kdfScrypt)
	}
	if p := doc.KDF.Params; !p.accepted() {
		return nil, fmt.Errorf("unsupported scrypt parameters N=%d r=%d p=%d (want N 32768, 65536 or 131072 with r=8, p=1)", p.N, p.R, p.P)
	}
	if doc.Cipher.Name != cipherSecretbox {
		return nil, fmt.Errorf("unsupported cipher %q (want %q)", doc.Cipher.Name, cipherSecretbox)
	}
	if len(doc.Cipher.Nonce) != nonceSize {
		return nil, fmt.Errorf("nonce is %d bytes, want %d", len(doc.Cipher.Nonce), nonceSize)
	}
	if len(doc.Ciphertext) < secretbox.Overhead {
		return nil, fmt.Errorf("ciphertext is %d bytes, shorter than its authenticator", len(doc.Ciphertext))
	}
	key, err := deriveKey(password, doc.KDF.Salt, doc.KDF.Params)
	if err != nil {
		return nil, err
	}
	nonce := [nonceSize]byte(doc.Cipher.Nonce)
	plain, ok := secretbox.Open(nil, doc.Ciphertext, &nonce, key)
	clear(key[:])
	if !ok {
		return nil, ErrWrongPassword
	}
	return plain, nil
}

// EncryptPrivateKey returns priv as a cosign key file: PKCS#8, encrypted
// with password, in an ENCRYPTED SIGSTORE PRIVATE KEY PEM block.
func EncryptPrivateKey(priv crypto.Signer, password []byte) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("encoding private key: %w", err)
	}
	defer clear(der)
	doc, err := Encrypt(der, password, DefaultScrypt)
	if err != nil {
		return nil, fmt.Errorf("encrypting private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: PEMTypeEncrypted, Bytes: doc}), nil
}

// IsEncryptedPrivateKey reports whether data starts with a cosign key PEM
// block (either type). It needs no password.
func IsEncryptedPrivateKey(data []byte) bool {
	block, _ := pem.Decode(data)
	return block != nil && (block.Type == PEMTypeEncrypted || block.Type == PEMTypeEncryptedCosign)
}

// DecryptPrivateKey parses a cosign key file and decrypts it with the
// password pass returns. The password is asked for only once the file is
// known to be a cosign key, so a typo in a path never prompts. Errors never
// contain the password or key material.
func DecryptPrivateKey(data []byte, pass PassFunc) (crypto.Signer, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("not a PEM file (want an " + PEMTypeEncrypted + ")")
	}
	switch block.Type {
	case PEMTypeEncrypted, PEMTypeEncryptedCosign:
	case "PUBLIC KEY", "RSA PUBLIC KEY":
		return nil, fmt.Errorf("PEM block %q is a public key; give the private key (cosign.key)", block.Type)
	case "PRIVATE KEY", "EC PRIVATE KEY", "RSA PRIVATE KEY":
		return nil, fmt.Errorf("PEM block %q is not an encrypted cosign key; make one with import-key-pair --key FILE", block.Type)
	default:
		return nil, fmt.Errorf("unsupported PEM block %q (want %q)", block.Type, PEMTypeEncrypted)
	}
	var password []byte
	if pass != nil {
		var err error
		if password, err = pass(false); err != nil {
			return nil, err
		}
	}
	der, err := Decrypt(block.Bytes, password)
	clear(password)
	if err != nil {
		return nil, fmt.Errorf("decrypting: %w", err)
	}
	defer clear(der)
	key, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		// The authenticator matched, so this is what the file holds; the
		// parser's own message names no key bytes.
		return nil, fmt.Errorf("decrypted key is not PKCS#8: %w", err)
	}
	return supportedSigner(key)
}

// supportedSigner accepts the key types cosign signs with.
func supportedSigner(key any) (crypto.Signer, error) {
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		return k, nil
	case *rsa.PrivateKey:
		return k, nil
	case ed25519.PrivateKey:
		return k, nil
	}
	return nil, fmt.Errorf("unsupported private key type %T", key)
}
