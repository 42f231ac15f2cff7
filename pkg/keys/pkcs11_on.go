//go:build pkcs11key && cgo

package keys

import (
	"context"
	"crypto"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/ThalesIgnite/crypto11"
	"github.com/miekg/pkcs11"
	"github.com/sigstore/sigstore/pkg/signature"
)

// PKCS11Supported reports whether this build can use PKCS#11 tokens.
const PKCS11Supported = true

// loadPKCS11 opens the key a pkcs11: URI names with crypto11 (cosign's
// library), logged in with the URI's or COSIGN_PKCS11_PIN's PIN. A PIN
// prompt is not offered: signing runs unattended in CI.
func loadPKCS11(_ context.Context, ref string, getenv func(string) string) (signature.SignerVerifier, error) {
	u, err := ParsePKCS11URI(ref, getenv)
	if err != nil {
		return nil, err
	}
	if u.PIN == "" {
		return nil, errors.New("pkcs11: no PIN: add pin-value= to the URI or set COSIGN_PKCS11_PIN")
	}
	cfg := &crypto11.Config{Path: u.ModulePath, TokenLabel: u.Token, SlotNumber: u.SlotID, Pin: u.PIN}
	if u.SlotID != nil {
		cfg.TokenLabel = ""
	}
	c, err := crypto11.Configure(cfg)
	if err != nil {
		return nil, fmt.Errorf("pkcs11: opening the token: %s", pkcs11Reason(err))
	}
	var id, label []byte
	if len(u.ID) > 0 {
		id = u.ID
	}
	if u.Object != "" {
		label = []byte(u.Object)
	}
	s, err := c.FindKeyPair(id, label)
	if err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("pkcs11: finding the key: %s", pkcs11Reason(err))
	}
	if s == nil {
		_ = c.Close()
		return nil, errors.New("pkcs11: no such key in the token (check id= and object=)")
	}
	return newCryptoSignerSV(s)
}

// pkcs11Reason is crypto11's error as one line (it can name the PIN's
// failure, never the PIN).
func pkcs11Reason(err error) string { return strings.Join(strings.Fields(err.Error()), " ") }

// cryptoSignerSV signs with a crypto.Signer whose private key never leaves
// the token: it hashes here and has the token sign the digest.
type cryptoSignerSV struct {
	s    crypto.Signer
	hash crypto.Hash
	v    signature.Verifier
}

func newCryptoSignerSV(s crypto.Signer) (*cryptoSignerSV, error) {
	pub := s.Public()
	details, err := signature.GetDefaultAlgorithmDetails(pub)
	if err != nil {
		return nil, fmt.Errorf("pkcs11: key type %T: %w", pub, err)
	}
	v, err := signature.LoadVerifier(pub, details.GetHashType())
	if err != nil {
		return nil, err
	}
	return &cryptoSignerSV{s: s, hash: details.GetHashType(), v: v}, nil
}

func (c *cryptoSignerSV) PublicKey(...signature.PublicKeyOption) (crypto.PublicKey, error) {
	return c.s.Public(), nil
}

func (c *cryptoSignerSV) SignMessage(message io.Reader, opts ...signature.SignOption) ([]byte, error) {
	var digest []byte
	hash := c.hash
	for _, o := range opts {
		o.ApplyDigest(&digest)
		var so crypto.SignerOpts = hash
		o.ApplyCryptoSignerOpts(&so)
		hash = so.HashFunc()
	}
	if digest == nil {
		h := hash.New()
		if _, err := io.Copy(h, message); err != nil {
			return nil, err
		}
		digest = h.Sum(nil)
	}
	// A bare crypto.Hash: ECDSA, and RSA PKCS #1 v1.5 as cosign's RSA keys sign.
	sig, err := c.s.Sign(rand.Reader, digest, hash)
	if err != nil {
		return nil, fmt.Errorf("pkcs11: signing: %s", pkcs11Reason(err))
	}
	return sig, nil
}

func (c *cryptoSignerSV) VerifySignature(sig, message io.Reader, opts ...signature.VerifyOption) error {
	return c.v.VerifySignature(sig, message, opts...)
}

// ListPKCS11Tokens lists the tokens of a module, one per slot with a token.
func ListPKCS11Tokens(module string) ([]PKCS11Token, error) {
	p, err := openModule(module)
	if err != nil {
		return nil, err
	}
	defer closeModule(p)
	slots, err := p.GetSlotList(true)
	if err != nil {
		return nil, fmt.Errorf("pkcs11: listing slots: %w", err)
	}
	var out []PKCS11Token
	for _, s := range slots {
		ti, err := p.GetTokenInfo(s)
		if err != nil {
			return nil, fmt.Errorf("pkcs11: slot %d: %w", s, err)
		}
		out = append(out, PKCS11Token{Slot: int(s), Label: ti.Label, Manufacturer: ti.ManufacturerID, Model: ti.Model, SerialNumber: ti.SerialNumber})
	}
	return out, nil
}

// ListPKCS11Keys logs in to the token in slot and lists its private keys;
// it returns the token's label too.
func ListPKCS11Keys(module string, slot int, pin string) (string, []PKCS11Key, error) {
	p, err := openModule(module)
	if err != nil {
		return "", nil, err
	}
	defer closeModule(p)
	ti, err := p.GetTokenInfo(uint(slot))
	if err != nil {
		return "", nil, fmt.Errorf("pkcs11: slot %d: %w", slot, err)
	}
	sess, err := p.OpenSession(uint(slot), pkcs11.CKF_SERIAL_SESSION)
	if err != nil {
		return "", nil, fmt.Errorf("pkcs11: opening a session on slot %d: %w", slot, err)
	}
	defer func() { _ = p.CloseSession(sess) }()
	if err := p.Login(sess, pkcs11.CKU_USER, pin); err != nil {
		return "", nil, fmt.Errorf("pkcs11: logging in to slot %d: %w", slot, err)
	}
	defer func() { _ = p.Logout(sess) }()
	if err := p.FindObjectsInit(sess, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PRIVATE_KEY)}); err != nil {
		return "", nil, fmt.Errorf("pkcs11: finding keys: %w", err)
	}
	var handles []pkcs11.ObjectHandle
	for {
		hs, _, err := p.FindObjects(sess, 64)
		if err != nil {
			_ = p.FindObjectsFinal(sess)
			return "", nil, fmt.Errorf("pkcs11: finding keys: %w", err)
		}
		if len(hs) == 0 {
			break
		}
		handles = append(handles, hs...)
	}
	_ = p.FindObjectsFinal(sess)
	var keys []PKCS11Key
	for _, h := range handles {
		attrs, err := p.GetAttributeValue(sess, h, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_ID, nil), pkcs11.NewAttribute(pkcs11.CKA_LABEL, nil)})
		if err != nil {
			return "", nil, fmt.Errorf("pkcs11: reading a key's attributes: %w", err)
		}
		keys = append(keys, PKCS11Key{ID: attrs[0].Value, Label: string(attrs[1].Value)})
	}
	return ti.Label, keys, nil
}

func openModule(module string) (*pkcs11.Ctx, error) {
	if !strings.HasPrefix(module, "/") {
		return nil, fmt.Errorf("pkcs11: --module-path %q must be absolute", module)
	}
	p := pkcs11.New(module)
	if p == nil {
		return nil, fmt.Errorf("pkcs11: cannot load module %s", module)
	}
	if err := p.Initialize(); err != nil {
		p.Destroy()
		return nil, fmt.Errorf("pkcs11: initialising module %s: %w", module, err)
	}
	return p, nil
}

func closeModule(p *pkcs11.Ctx) {
	_ = p.Finalize()
	p.Destroy()
}
