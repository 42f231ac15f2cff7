package localstack

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"
)

// PKI is the key material up generates for one run. Private keys stay in
// files under RunDir/pki (mode 0600); only paths and public parts are kept.
type PKI struct {
	Dir string

	FulcioCert     *x509.Certificate
	FulcioCertPath string
	FulcioKeyPath  string // encrypted (legacy PEM, DEK-Info)
	FulcioKeyPass  string

	CTLogPub      crypto.PublicKey
	CTLogPubPath  string
	CTLogKeyPath  string // encrypted legacy PEM: ct_server rejects PKCS#8
	CTLogKeyPass  string
	RekorV1Pub    crypto.PublicKey
	RekorV1Key    string // PKCS#8
	RekorV2Pub    ed25519.PublicKey
	RekorV2Key    string              // PKCS#8 ed25519
	TSACerts      []*x509.Certificate // leaf, root
	TSAKeyPath    string
	TSAChainPath  string
	OIDCKeyPath   string // created by the issuer itself
	NotBefore     time.Time
	passwordsPath string
}

// EKU timeStamping, which the TSA wants marked critical on its leaf.
var (
	oidExtKeyUsage        = asn1.ObjectIdentifier{2, 5, 29, 37}
	oidExtKeyUsageTimeStp = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 8}
)

// generatePKI writes every key and certificate into dir.
func generatePKI(dir string) (*PKI, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	now := time.Now().Add(-5 * time.Minute).UTC().Truncate(time.Second)
	p := &PKI{Dir: dir, NotBefore: now, OIDCKeyPath: filepath.Join(dir, "oidc.key")}
	p.FulcioKeyPass, p.CTLogKeyPass = randHex(16), randHex(16)
	p.passwordsPath = filepath.Join(dir, "passwords")
	if err := os.WriteFile(p.passwordsPath, []byte("fulcio "+p.FulcioKeyPass+"\nctlog "+p.CTLogKeyPass+"\n"), 0o600); err != nil {
		return nil, err
	}

	// Fulcio: a self-signed root that signs leaf certificates directly.
	caKey, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		return nil, err
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "signet-local-fulcio", Organization: []string{"signet-local"}},
		NotBefore:             now,
		NotAfter:              now.AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            1,
	}
	if p.FulcioCert, err = selfSign(caTmpl, caKey); err != nil {
		return nil, err
	}
	p.FulcioCertPath = filepath.Join(dir, "fulcio-ca.pem")
	p.FulcioKeyPath = filepath.Join(dir, "fulcio-ca.key")
	if err := writeCerts(p.FulcioCertPath, p.FulcioCert); err != nil {
		return nil, err
	}
	if err := writeEncryptedECKey(p.FulcioKeyPath, caKey, p.FulcioKeyPass); err != nil {
		return nil, err
	}

	// CT log.
	ctKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	p.CTLogPub = ctKey.Public()
	p.CTLogKeyPath, p.CTLogPubPath = filepath.Join(dir, "ctlog.key"), filepath.Join(dir, "ctlog.pub")
	if err := writeEncryptedECKey(p.CTLogKeyPath, ctKey, p.CTLogKeyPass); err != nil {
		return nil, err
	}
	if err := writePublicKey(p.CTLogPubPath, p.CTLogPub); err != nil {
		return nil, err
	}

	// Rekor v1 (ECDSA P-256) and Rekor v2 (ed25519).
	r1, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	p.RekorV1Pub, p.RekorV1Key = r1.Public(), filepath.Join(dir, "rekor1.key")
	if err := writePKCS8(p.RekorV1Key, r1); err != nil {
		return nil, err
	}
	r2pub, r2, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	p.RekorV2Pub, p.RekorV2Key = r2pub, filepath.Join(dir, "rekor2.key")
	if err := writePKCS8(p.RekorV2Key, r2); err != nil {
		return nil, err
	}

	// TSA: root CA and a leaf with a critical timeStamping EKU.
	tsaRootKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tsaRoot, err := selfSign(&x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "signet-local-tsa-root", Organization: []string{"signet-local"}},
		NotBefore:             now,
		NotAfter:              now.AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}, tsaRootKey)
	if err != nil {
		return nil, err
	}
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	ekuDER, err := asn1.Marshal([]asn1.ObjectIdentifier{oidExtKeyUsageTimeStp})
	if err != nil {
		return nil, err
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{
		SerialNumber:    serial(),
		Subject:         pkix.Name{CommonName: "signet-local-tsa", Organization: []string{"signet-local"}},
		NotBefore:       now,
		NotAfter:        now.AddDate(9, 0, 0),
		KeyUsage:        x509.KeyUsageDigitalSignature,
		ExtraExtensions: []pkix.Extension{{Id: oidExtKeyUsage, Critical: true, Value: ekuDER}},
	}, tsaRoot, leafKey.Public(), tsaRootKey)
	if err != nil {
		return nil, err
	}
	leaf, err := x509.ParseCertificate(leafDER)
	if err != nil {
		return nil, err
	}
	p.TSACerts = []*x509.Certificate{leaf, tsaRoot}
	p.TSAKeyPath, p.TSAChainPath = filepath.Join(dir, "tsa.key"), filepath.Join(dir, "tsa-chain.pem")
	if err := writePKCS8(p.TSAKeyPath, leafKey); err != nil {
		return nil, err
	}
	if err := writeCerts(p.TSAChainPath, p.TSACerts...); err != nil {
		return nil, err
	}
	return p, nil
}

// secrets lists the strings that must never be printed.
func (p *PKI) secrets() []string { return []string{p.FulcioKeyPass, p.CTLogKeyPass} }

func selfSign(tmpl *x509.Certificate, key crypto.Signer) (*x509.Certificate, error) {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	return n.Add(n, big.NewInt(1))
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func writeCerts(path string, certs ...*x509.Certificate) error {
	var out []byte
	for _, c := range certs {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return os.WriteFile(path, out, 0o644)
}

func writePublicKey(path string, pub crypto.PublicKey) error {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return err
	}
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o644)
}

func writePKCS8(path string, key crypto.PrivateKey) error {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
}

// writeEncryptedECKey writes an "EC PRIVATE KEY" PEM encrypted the legacy
// OpenSSL way (Proc-Type/DEK-Info, AES-256-CBC), the form both Fulcio's
// file CA and ct_server's PEMKeyFile read. The legacy format is weak, which
// does not matter for a throw-away test key.
func writeEncryptedECKey(path string, key *ecdsa.PrivateKey, pass string) error {
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	block, err := x509.EncryptPEMBlock(rand.Reader, "EC PRIVATE KEY", der, []byte(pass), x509.PEMCipherAES256) //nolint:staticcheck
	if err != nil {
		return fmt.Errorf("encrypting %s: %w", path, err)
	}
	return os.WriteFile(path, pem.EncodeToMemory(block), 0o600)
}

// LogID returns the key ID sigstore clients use for a PKIX public key:
// sha256 of its DER SubjectPublicKeyInfo (Rekor v1, CT logs).
func LogID(pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(der)
	return sum[:], nil
}

// NoteLogID returns the log ID of a Rekor v2 ed25519 checkpoint key with
// origin name: sha256(name || "\n" || 0x01 || key), as in a signed note's
// key hash before truncation.
func NoteLogID(name string, pub ed25519.PublicKey) []byte {
	h := sha256.New()
	h.Write([]byte(name + "\n"))
	h.Write([]byte{0x01})
	h.Write(pub)
	return h.Sum(nil)
}
