package signer

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"time"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/sign"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/cryptoutils"

	"github.com/signetdev/signet/internal/httpx"
	"github.com/signetdev/signet/pkg/artifact"
	"github.com/signetdev/signet/pkg/verifier"
)

// Options configure a Signer.
type Options struct {
	Key *Key
	// IDToken is the OIDC identity token exchanged for a Fulcio
	// certificate; empty signs with the key alone.
	IDToken string
	// Certificate, instead of a Fulcio certificate, is a certificate the
	// user has for Key (cosign's --certificate with --key). It must chain
	// to a CA of the trusted material; it is not expected to carry an SCT.
	Certificate *x509.Certificate
	Services    Services
	// TrustedMaterial checks the certificate before it is used and every
	// bundle before it is returned. Nil skips both checks (a private
	// instance whose trust material was not given).
	TrustedMaterial root.TrustedMaterial
	// SkipSCTUnsafe accepts a certificate without a verified SCT.
	SkipSCTUnsafe bool
	// Transport carries every request; retries are added on top.
	Transport http.RoundTripper
	// TSATransport, when set, carries the timestamp requests instead
	// (cosign's --timestamp-client-* mTLS settings).
	TSATransport http.RoundTripper
	Now          func() time.Time
}

// Signer signs many contents with one key and, when keyless, one
// certificate: one Fulcio request however many artifacts.
type Signer struct {
	key     *Key
	cert    *x509.Certificate
	chain   []*x509.Certificate // the certificate's issuers, leaf-most first
	pemKey  []byte              // the certificate or public key, as Rekor wants it
	tm      root.TrustedMaterial
	skipSCT bool
	tsas    []*sign.TimestampAuthority
	tsaURLs []string
	tlogs   []sign.Transparency
	rekors  []Rekor
	now     func() time.Time
}

// New prepares a signer. Keyless, it gets the certificate from Fulcio now
// and checks it: it must be for this key, chain to a Fulcio CA of the
// trusted material, and carry a valid SCT.
func New(ctx context.Context, o Options) (*Signer, error) {
	if o.Key == nil {
		return nil, errors.New("signer: no key")
	}
	keyless := o.IDToken != ""
	if err := o.Services.validate(keyless); err != nil {
		return nil, err
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	base := o.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	// sigstore-go's clients build requests without a context: bind ours
	// so --timeout reaches them, and retry transient failures.
	rt := httpx.BindContext(ctx, httpx.NewRetry(base))
	hc := &http.Client{Transport: rt}

	s := &Signer{key: o.Key, tm: o.TrustedMaterial, skipSCT: o.SkipSCTUnsafe, now: o.Now, rekors: o.Services.Rekor}
	switch {
	case keyless && o.Certificate != nil:
		return nil, errors.New("signer: a certificate was given and one was to be requested from Fulcio")
	case keyless:
		if err := s.certify(ctx, o, rt); err != nil {
			return nil, err
		}
	case o.Certificate != nil:
		if err := s.useCertificate(o.Certificate); err != nil {
			return nil, err
		}
	default:
		p, err := o.Key.GetPublicKeyPem()
		if err != nil {
			return nil, err
		}
		s.pemKey = []byte(p)
	}
	tsaRT := rt
	if o.TSATransport != nil {
		tsaRT = httpx.BindContext(ctx, httpx.NewRetry(o.TSATransport))
	}
	for _, u := range o.Services.TSAs {
		s.tsas = append(s.tsas, sign.NewTimestampAuthority(&sign.TimestampAuthorityOptions{URL: u, Transport: tsaRT, Timeout: -1}))
		s.tsaURLs = append(s.tsaURLs, u)
	}
	for _, r := range o.Services.Rekor {
		ro := &sign.RekorOptions{BaseURL: r.URL, Version: r.Version, Timeout: -1}
		if r.Version == 1 {
			c, err := newRekorV1Client(r.URL, hc)
			if err != nil {
				return nil, err
			}
			ro.Client = c.Entries
		} else {
			ro.ClientV2 = &rekorV2Client{url: r.URL, hc: hc}
		}
		s.tlogs = append(s.tlogs, sign.NewRekor(ro))
	}
	return s, nil
}

// certify exchanges the token for a certificate and checks it.
func (s *Signer) certify(ctx context.Context, o Options, rt http.RoundTripper) error {
	fulcio := sign.NewFulcio(&sign.FulcioOptions{BaseURL: o.Services.FulcioURL, Transport: rt, Timeout: -1})
	der, err := fulcio.GetCertificate(ctx, o.Key, &sign.CertificateProviderOptions{IDToken: o.IDToken})
	if err != nil {
		return fmt.Errorf("getting a signing certificate from Fulcio at %s: %s", o.Services.FulcioURL, oneLine(err.Error()))
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return fmt.Errorf("Fulcio at %s returned an unreadable certificate: %w", o.Services.FulcioURL, err)
	}
	if err := cryptoutils.EqualKeys(cert.PublicKey, o.Key.PublicKey()); err != nil {
		return fmt.Errorf("Fulcio at %s returned a certificate for another key", o.Services.FulcioURL)
	}
	if s.tm != nil {
		chains, err := verify.VerifyLeafCertificate(s.now(), cert, s.tm)
		if err != nil {
			return fmt.Errorf("the certificate from Fulcio at %s does not chain to a Fulcio CA of the trusted root: %v", o.Services.FulcioURL, err)
		}
		if !s.skipSCT {
			if err := verify.VerifySignedCertificateTimestamp(chains, 1, s.tm); err != nil {
				return fmt.Errorf("the certificate from Fulcio at %s has no SCT from a CT log of the trusted root (%v); --insecure-skip-verify accepts it", o.Services.FulcioURL, err)
			}
		}
		if len(chains) > 0 && len(chains[0]) > 1 {
			s.chain = chains[0][1:]
		}
	}
	s.cert = cert
	s.pemKey = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
	return nil
}

// useCertificate adopts a certificate the user gave for the key.
func (s *Signer) useCertificate(cert *x509.Certificate) error {
	if err := cryptoutils.EqualKeys(cert.PublicKey, s.key.PublicKey()); err != nil {
		return errors.New("--certificate is not for --key: their public keys differ")
	}
	if s.tm != nil {
		if _, err := verify.VerifyLeafCertificate(s.now(), cert, s.tm); err != nil {
			return fmt.Errorf("--certificate does not chain to a CA of the trusted root: %v", err)
		}
	}
	// Not from Fulcio: no SCT is expected, and none is checked later.
	s.skipSCT = true
	s.cert = cert
	s.pemKey = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
	return nil
}

// Hash is the digest algorithm a blob must be hashed with for Digest.
func (s *Signer) Hash() crypto.Hash { return s.key.Hash() }

// Certificate is the signing certificate (nil when signing with a key).
func (s *Signer) Certificate() *x509.Certificate { return s.cert }

// Chain is the Fulcio CA chain the certificate was verified with, leaf-most
// first (nil without trusted material): cosign's legacy image storage
// carries it beside the certificate.
func (s *Signer) Chain() []*x509.Certificate { return s.chain }

// Content is what gets signed.
type Content interface {
	// sign signs the content with key and returns the signature and the
	// digest recorded in a message signature (nil for DSSE).
	sign(ctx context.Context, key *Key) (sig, digest []byte, err error)
	// fill sets the bundle's content.
	fill(b *protobundle.Bundle, sig, digest []byte, alg protocommon.HashAlgorithm)
	// artifact is what the bundle's self-check compares it with.
	artifact() artifact.Artifact
}

// Digest is a blob given by its digest, computed (streamed) with the
// signer's Key.Hash(): the blob itself is never held in memory.
func Digest(d artifact.Digest) Content { return digestContent{d} }

type digestContent struct{ d artifact.Digest }

func (c digestContent) sign(ctx context.Context, key *Key) ([]byte, []byte, error) {
	if key.Hash() == 0 {
		return nil, nil, errors.New("this key (ed25519) signs the content itself and cannot sign a blob from its digest; use an ECDSA or RSA key")
	}
	if c.d.Algorithm != key.Hash() {
		return nil, nil, fmt.Errorf("blob digested with %s, the key signs %s digests", artifact.HashName(c.d.Algorithm), artifact.HashName(key.Hash()))
	}
	sig, err := key.SignDigest(ctx, c.d.Value)
	return sig, c.d.Value, err
}

func (c digestContent) fill(b *protobundle.Bundle, sig, digest []byte, alg protocommon.HashAlgorithm) {
	(&sign.PlainData{}).Bundle(b, sig, digest, alg)
}

func (c digestContent) artifact() artifact.Artifact {
	d := c.d
	return artifact.Artifact{Name: d.String(), Digest: &d}
}

// DSSE is a payload (an in-toto statement) to sign in a DSSE envelope.
func DSSE(payloadType string, payload []byte) Content {
	return dsseContent{&sign.DSSEData{PayloadType: payloadType, Data: payload}}
}

type dsseContent struct{ d *sign.DSSEData }

func (c dsseContent) sign(ctx context.Context, key *Key) ([]byte, []byte, error) {
	sig, _, err := key.SignData(ctx, c.d.PreAuthEncoding())
	return sig, nil, err
}

func (c dsseContent) fill(b *protobundle.Bundle, sig, digest []byte, alg protocommon.HashAlgorithm) {
	c.d.Bundle(b, sig, digest, alg)
}

func (c dsseContent) artifact() artifact.Artifact { return artifact.Artifact{Name: "DSSE payload"} }

const bundleMediaType = "application/vnd.dev.sigstore.bundle.v0.3+json"

// Sign signs one content: signature, timestamps, log entries, then the
// bundle is verified against the trusted material before it is returned.
func (s *Signer) Sign(ctx context.Context, c Content) (*bundle.Bundle, error) {
	sig, digest, err := c.sign(ctx, s.key)
	if err != nil {
		return nil, fmt.Errorf("signing: %w", err)
	}
	pb := &protobundle.Bundle{MediaType: bundleMediaType, VerificationMaterial: &protobundle.VerificationMaterial{}}
	c.fill(pb, sig, digest, s.key.GetHashAlgorithm())
	if s.cert != nil {
		pb.VerificationMaterial.Content = &protobundle.VerificationMaterial_Certificate{Certificate: &protocommon.X509Certificate{RawBytes: s.cert.Raw}}
	} else {
		pb.VerificationMaterial.Content = &protobundle.VerificationMaterial_PublicKey{PublicKey: &protocommon.PublicKeyIdentifier{}}
	}
	for i, tsa := range s.tsas {
		ts, err := tsa.GetTimestamp(ctx, sig)
		if err != nil {
			return nil, fmt.Errorf("getting a timestamp from %s: %s", s.tsaURLs[i], oneLine(err.Error()))
		}
		if pb.VerificationMaterial.TimestampVerificationData == nil {
			pb.VerificationMaterial.TimestampVerificationData = &protobundle.TimestampVerificationData{}
		}
		pb.VerificationMaterial.TimestampVerificationData.Rfc3161Timestamps = append(pb.VerificationMaterial.TimestampVerificationData.Rfc3161Timestamps, &protocommon.RFC3161SignedTimestamp{SignedTimestamp: ts})
	}
	for i, tl := range s.tlogs {
		if err := tl.GetTransparencyLogEntry(ctx, s.pemKey, pb); err != nil {
			return nil, fmt.Errorf("recording the signature in Rekor at %s: %s", s.rekors[i].URL, oneLine(err.Error()))
		}
	}
	b, err := bundle.NewBundle(pb)
	if err != nil {
		return nil, fmt.Errorf("assembling the bundle: %w", err)
	}
	if err := s.check(ctx, b, c); err != nil {
		return nil, err
	}
	return b, nil
}

// check verifies a new bundle as a verifier will, so a broken service or
// trust mismatch fails the signing run, not a later verification.
func (s *Signer) check(ctx context.Context, b *bundle.Bundle, c Content) error {
	if s.tm == nil {
		return nil
	}
	p := verifier.Policy{
		IgnoreTlogUnsafe: len(s.tlogs) == 0,
		IgnoreSCTUnsafe:  s.skipSCT,
	}
	if _, ok := c.(dsseContent); ok {
		p.SkipArtifactUnsafe = true // the statement names its subjects; the caller made it
	}
	if s.cert != nil {
		claims, err := verifier.ParseClaims(s.cert)
		if err != nil {
			return err
		}
		if len(claims.SANs) == 0 {
			return errors.New("the Fulcio certificate has no subject alternative name")
		}
		p.Identity = verifier.Identity{SAN: verifier.Matcher{Exact: claims.SANs[0]}, Issuer: verifier.Matcher{Exact: claims.Issuer}}
	} else {
		v, err := verifierFor(s.key)
		if err != nil {
			return err
		}
		p.Key = v
	}
	if _, err := verifier.Verify(ctx, b, c.artifact(), p, s.tm); err != nil {
		return fmt.Errorf("the new bundle does not verify against the trusted root: %w", err)
	}
	return nil
}
