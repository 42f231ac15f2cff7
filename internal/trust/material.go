package trust

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/signetdev/signet/pkg/keys"
	"github.com/signetdev/signet/pkg/trustspec"
)

// maxPEMFileSize bounds what is read of a SIGSTORE_* file.
const maxPEMFileSize = 1 << 20

// Material is Load plus cosign's custom-instance overrides: each of
// SIGSTORE_ROOT_FILE (Fulcio root and intermediate certificates, PEM),
// SIGSTORE_REKOR_PUBLIC_KEY (Rekor v1 public key, PEM or DER),
// SIGSTORE_CT_LOG_PUBLIC_KEY_FILE (CT log public key, PEM or DER) and
// SIGSTORE_TSA_CERTIFICATE_FILE (TSA chain: leaf, intermediates, root; PEM)
// that is set replaces that part of the trusted root; the rest still comes
// from it. When all four are set no trusted root is loaded at all. As in
// cosign, a --trusted-root file wins: the variables are then ignored.
func Material(ctx context.Context, opts Options) (root.TrustedMaterial, error) {
	if opts.TrustedRootPath != "" {
		for _, e := range []string{EnvRootFile, EnvRekorPublicKey, EnvCTLogPublicKeyFile, EnvTSACertificateFile} {
			if opts.getenv(e) != "" {
				opts.debugf("%s ignored: --trusted-root %s is used as given", e, opts.TrustedRootPath)
			}
		}
		return LoadFile(opts.TrustedRootPath)
	}
	ov, err := envOverrides(&opts)
	if err != nil {
		return nil, err
	}
	if ov.complete() {
		return ov.over(&root.BaseTrustedMaterial{}), nil
	}
	tr, err := Load(ctx, opts)
	if err != nil {
		return nil, err
	}
	if ov.empty() {
		return tr, nil
	}
	return ov.over(tr), nil
}

// overlay replaces parts of a base TrustedMaterial.
type overlay struct {
	base  root.TrustedMaterial
	cas   []root.CertificateAuthority
	tsas  []root.TimestampingAuthority
	rekor map[string]*root.TransparencyLog
	ct    map[string]*root.TransparencyLog
	// which parts are replaced (a replacement may be empty)
	hasCAs, hasTSAs, hasRekor, hasCT bool
}

var _ root.TrustedMaterial = (*overlay)(nil)

func (o *overlay) empty() bool    { return !o.hasCAs && !o.hasTSAs && !o.hasRekor && !o.hasCT }
func (o *overlay) complete() bool { return o.hasCAs && o.hasTSAs && o.hasRekor && o.hasCT }

// over returns a copy of o laid over base. An overlay laid over another
// merges into one, so helpers can be chained without nesting.
func (o *overlay) over(base root.TrustedMaterial) *overlay {
	if base == nil {
		base = &root.BaseTrustedMaterial{}
	}
	n := *o
	if b, ok := base.(*overlay); ok {
		m := *b
		if n.hasCAs {
			m.cas, m.hasCAs = n.cas, true
		}
		if n.hasTSAs {
			m.tsas, m.hasTSAs = n.tsas, true
		}
		if n.hasRekor {
			m.rekor, m.hasRekor = n.rekor, true
		}
		if n.hasCT {
			m.ct, m.hasCT = n.ct, true
		}
		return &m
	}
	n.base = base
	return &n
}

func (o *overlay) FulcioCertificateAuthorities() []root.CertificateAuthority {
	if o.hasCAs {
		return o.cas
	}
	return o.base.FulcioCertificateAuthorities()
}

func (o *overlay) TimestampingAuthorities() []root.TimestampingAuthority {
	if o.hasTSAs {
		return o.tsas
	}
	return o.base.TimestampingAuthorities()
}

func (o *overlay) RekorLogs() map[string]*root.TransparencyLog {
	if o.hasRekor {
		return o.rekor
	}
	return o.base.RekorLogs()
}

func (o *overlay) CTLogs() map[string]*root.TransparencyLog {
	if o.hasCT {
		return o.ct
	}
	return o.base.CTLogs()
}

func (o *overlay) PublicKeyVerifier(keyID string) (root.TimeConstrainedVerifier, error) {
	return o.base.PublicKeyVerifier(keyID)
}

// WithCertificateAuthority returns base with its Fulcio CAs replaced by one
// CA per root certificate, each with all the intermediates (cosign's
// --certificate-chain, --ca-roots and --ca-intermediates: any root, any
// intermediates, no validity window). No roots means no Fulcio CA at all.
func WithCertificateAuthority(base root.TrustedMaterial, roots, intermediates []*x509.Certificate) root.TrustedMaterial {
	return (&overlay{cas: fulcioCAs(roots, intermediates), hasCAs: true}).over(base)
}

func fulcioCAs(roots, intermediates []*x509.Certificate) []root.CertificateAuthority {
	cas := make([]root.CertificateAuthority, 0, len(roots))
	for _, r := range roots {
		cas = append(cas, &root.FulcioCertificateAuthority{
			Root:          r,
			Intermediates: append([]*x509.Certificate(nil), intermediates...),
		})
	}
	return cas
}

// WithTimestampAuthority returns base with its TSAs replaced by the chain
// (cosign's --timestamp-certificate-chain): its first non-CA certificate is
// the TSA's signing certificate, self-signed CA certificates are roots (one
// TSA each) and the other CA certificates intermediates. Check the chain
// with CheckTimestampChain first for cosign's error messages.
func WithTimestampAuthority(base root.TrustedMaterial, chain []*x509.Certificate) root.TrustedMaterial {
	return (&overlay{tsas: timestampAuthorities(chain), hasTSAs: true}).over(base)
}

func timestampAuthorities(chain []*x509.Certificate) []root.TimestampingAuthority {
	leaves, intermediates, roots := splitChain(chain)
	var leaf *x509.Certificate
	if len(leaves) > 0 {
		leaf = leaves[0]
	}
	tsas := make([]root.TimestampingAuthority, 0, len(roots))
	for _, r := range roots {
		tsas = append(tsas, &root.SigstoreTimestampingAuthority{
			Root:          r,
			Intermediates: intermediates,
			Leaf:          leaf,
		})
	}
	return tsas
}

// CheckTimestampChain applies cosign's rules to a TSA certificate chain:
// exactly one leaf (non-CA) certificate and at least one root.
func CheckTimestampChain(chain []*x509.Certificate) error {
	leaves, _, roots := splitChain(chain)
	if len(leaves) != 1 {
		return fmt.Errorf("TSA certificate chain must contain exactly one leaf certificate, found %d", len(leaves))
	}
	if len(roots) == 0 {
		return errors.New("TSA certificate chain must contain at least one root certificate")
	}
	return nil
}

// splitChain sorts certificates as cosign does: non-CA certificates are
// leaves, self-signed CA certificates roots, other CA certificates
// intermediates.
func splitChain(chain []*x509.Certificate) (leaves, intermediates, roots []*x509.Certificate) {
	for _, c := range chain {
		switch {
		case !c.IsCA:
			leaves = append(leaves, c)
		case selfSigned(c):
			roots = append(roots, c)
		default:
			intermediates = append(intermediates, c)
		}
	}
	return leaves, intermediates, roots
}

// selfSigned is cosign's test for a root: subject equals issuer.
func selfSigned(c *x509.Certificate) bool { return bytes.Equal(c.RawSubject, c.RawIssuer) }

// envOverrides reads the SIGSTORE_* files that are set.
func envOverrides(opts *Options) (*overlay, error) {
	ov := &overlay{}
	if p := opts.getenv(EnvRootFile); p != "" {
		certs, err := readCertificatesFile(EnvRootFile, p)
		if err != nil {
			return nil, err
		}
		var roots, intermediates []*x509.Certificate
		for _, c := range certs {
			if selfSigned(c) {
				roots = append(roots, c)
			} else {
				intermediates = append(intermediates, c)
			}
		}
		if len(roots) == 0 {
			return nil, fmt.Errorf("%s %q: no root (self-signed) certificate", EnvRootFile, p)
		}
		ov.cas, ov.hasCAs = fulcioCAs(roots, intermediates), true
		opts.debugf("Fulcio CA certificates from %s=%s (%d roots, %d intermediates)", EnvRootFile, p, len(roots), len(intermediates))
	}
	if p := opts.getenv(EnvTSACertificateFile); p != "" {
		chain, err := readCertificatesFile(EnvTSACertificateFile, p)
		if err != nil {
			return nil, err
		}
		if err := CheckTimestampChain(chain); err != nil {
			return nil, fmt.Errorf("%s %q: %w", EnvTSACertificateFile, p, err)
		}
		ov.tsas, ov.hasTSAs = timestampAuthorities(chain), true
		opts.debugf("TSA certificate chain from %s=%s", EnvTSACertificateFile, p)
	}
	for _, e := range []struct {
		env  string
		set  func(map[string]*root.TransparencyLog)
		what string
	}{
		{EnvRekorPublicKey, func(m map[string]*root.TransparencyLog) { ov.rekor, ov.hasRekor = m, true }, "Rekor public key"},
		{EnvCTLogPublicKeyFile, func(m map[string]*root.TransparencyLog) { ov.ct, ov.hasCT = m, true }, "CT log public key"},
	} {
		p := opts.getenv(e.env)
		if p == "" {
			continue
		}
		data, err := readBounded(p, maxPEMFileSize)
		if err != nil {
			return nil, fmt.Errorf("%s %q: %w", e.env, p, pathErr(err))
		}
		pub, err := keys.ParsePublicKey(data)
		if err != nil {
			return nil, fmt.Errorf("%s %q: %w", e.env, p, err)
		}
		tl, err := transparencyLog(pub)
		if err != nil {
			return nil, fmt.Errorf("%s %q: %w", e.env, p, err)
		}
		e.set(map[string]*root.TransparencyLog{hex.EncodeToString(tl.ID): tl})
		opts.debugf("%s from %s=%s (log ID %x)", e.what, e.env, p, tl.ID)
	}
	return ov, nil
}

func readCertificatesFile(env, path string) ([]*x509.Certificate, error) {
	data, err := readBounded(path, maxPEMFileSize)
	if err != nil {
		return nil, fmt.Errorf("%s %q: %w", env, path, pathErr(err))
	}
	certs, err := ParseCertificatesPEM(data)
	if err != nil {
		return nil, fmt.Errorf("%s %q: %w", env, path, err)
	}
	return certs, nil
}

// ParseCertificatesPEM parses every CERTIFICATE block of data, in order;
// other blocks and text around them are skipped. No certificate is an error.
func ParseCertificatesPEM(data []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d: %w", len(certs)+1, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, errors.New("no PEM CERTIFICATE block")
	}
	return certs, nil
}

// logValidSince is the start of the validity window given to a log key from
// the environment; sigstore-go requires one for Rekor keys, and cosign
// applies none.
func logValidSince() time.Time { return time.Unix(0, 0).UTC() }

// transparencyLog describes a Rekor v1 or CT log by its key, with the log
// ID sigstore uses: SHA-256 of the DER SubjectPublicKeyInfo (RFC 6962 §3.2).
func transparencyLog(pub crypto.PublicKey) (*root.TransparencyLog, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	id := sha256.Sum256(der)
	return &root.TransparencyLog{
		ID:                  id[:],
		ValidityPeriodStart: logValidSince(),
		HashFunc:            crypto.SHA256,
		PublicKey:           pub,
		SignatureHashFunc:   trustspec.SignatureHash(pub),
	}, nil
}

// LogFromKey describes a transparency log (Rekor v1 or CT) by its public
// key, as a trusted root would: the log ID is the SHA-256 of the DER
// SubjectPublicKeyInfo, valid since the epoch.
func LogFromKey(pub crypto.PublicKey) (*root.TransparencyLog, error) { return transparencyLog(pub) }

// TimestampAuthorities describes TSAs by a certificate chain, sorted as
// cosign does (see WithTimestampAuthority).
func TimestampAuthorities(chain []*x509.Certificate) []root.TimestampingAuthority {
	return timestampAuthorities(chain)
}
