package verifier

import (
	"bytes"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"

	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/digitorus/pkcs7"
	"github.com/digitorus/timestamp"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"google.golang.org/protobuf/proto"
)

// dropUnlistedTimestamps handles RFC 3161 timestamps whose TSA the trusted
// root does not list (an older root, a private deployment, GitHub's own
// TSA): cosign ignores a bundle's timestamps unless told to use them, so
// such a bundle verifies there on its Rekor integrated time. signet keeps
// verifying every timestamp of a listed TSA (it must verify, and date the
// certificate), but leaves an unlisted TSA's out, with one warning, as
// long as another verified time remains. It returns b unchanged when
// nothing is dropped.
func dropUnlistedTimestamps(b *bundle.Bundle, p Policy, tm root.TrustedMaterial) (*bundle.Bundle, error) {
	stamps := b.GetVerificationMaterial().GetTimestampVerificationData().GetRfc3161Timestamps()
	if len(stamps) == 0 {
		return b, nil
	}
	var kept []*protocommon.RFC3161SignedTimestamp
	var dropped []string
	for _, ts := range stamps {
		if who, unlisted := unlistedTSA(ts.GetSignedTimestamp(), tm.TimestampingAuthorities()); unlisted {
			dropped = append(dropped, who)
			continue
		}
		kept = append(kept, ts)
	}
	if len(dropped) == 0 {
		return b, nil
	}
	names := strings.Join(dropped, "; ")
	if len(kept) == 0 {
		if p.UseSignedTimestamps {
			return nil, fmt.Errorf("%w: signing time check failed: --use-signed-timestamps: the bundle's RFC 3161 timestamps come from a TSA the trusted root does not list (%s)", ErrVerification, names)
		}
		if p.Key == nil && (p.IgnoreTlogUnsafe || !hasIntegratedTime(b)) {
			return nil, fmt.Errorf("%w: signing time check failed: no verified signing time: the bundle's RFC 3161 timestamps come from a TSA the trusted root does not list (%s), and no Rekor entry gives an integrated time", ErrVerification, names)
		}
	}
	pb := proto.Clone(b.Bundle).(*protobundle.Bundle)
	pb.VerificationMaterial.TimestampVerificationData.Rfc3161Timestamps = kept
	var opts []bundle.Option
	if p.AllowCertificateChain {
		opts = append(opts, bundle.AllowCertificateChain())
	}
	nb, err := bundle.NewBundle(pb, opts...)
	if err != nil {
		return nil, err
	}
	if p.Warnf != nil {
		other := "the Rekor integrated time"
		if len(kept) > 0 {
			other = "the other timestamps"
		}
		p.Warnf("ignoring %d RFC 3161 timestamp(s) from a TSA not in the trusted root (%s); the signing time comes from %s", len(dropped), names, other)
	}
	return nb, nil
}

func hasIntegratedTime(b *bundle.Bundle) bool {
	for _, e := range b.GetVerificationMaterial().GetTlogEntries() {
		if e.GetIntegratedTime() > 0 {
			return true
		}
	}
	return false
}

// unlistedTSA says whether a timestamp token was signed by a TSA none of
// tsas is. The signer is named in the token (issuer and serial number):
// it is listed when that names a listed TSA's leaf, or when the token's
// embedded signing certificate chains to a listed TSA's root. Calling a
// token unlisted only ever drops evidence (cosign ignores every
// timestamp unless told), so a token that cannot be parsed, or a TSA kind
// other than sigstore-go's, counts as listed and goes on to verification.
func unlistedTSA(token []byte, tsas []root.TimestampingAuthority) (string, bool) {
	ts, err := ParseTimestamp(token)
	if err != nil {
		return "", false
	}
	p7, err := pkcs7.Parse(ts.RawToken)
	if err != nil || len(p7.Signers) != 1 {
		return "", false
	}
	ias := p7.Signers[0].IssuerAndSerialNumber
	if ias.SerialNumber == nil {
		return "", false
	}
	var signer *x509.Certificate
	for _, c := range p7.Certificates {
		if c.SerialNumber.Cmp(ias.SerialNumber) == 0 && bytes.Equal(c.RawIssuer, ias.IssuerName.FullBytes) {
			signer = c
		}
	}
	for _, t := range tsas {
		sta, ok := t.(*root.SigstoreTimestampingAuthority)
		if !ok {
			return "", false
		}
		if l := sta.Leaf; l != nil && l.SerialNumber.Cmp(ias.SerialNumber) == 0 && bytes.Equal(l.RawIssuer, ias.IssuerName.FullBytes) {
			return "", false
		}
		if signer != nil && chainsTo(signer, p7.Certificates, sta) {
			return "", false
		}
	}
	if signer != nil && signer.Subject.String() != "" {
		return signer.Subject.String(), true
	}
	var issuer pkix.RDNSequence
	if _, err := asn1.Unmarshal(ias.IssuerName.FullBytes, &issuer); err == nil {
		return "issued by " + issuer.String() + ", serial " + ias.SerialNumber.String(), true
	}
	return "serial " + ias.SerialNumber.String(), true
}

// chainsTo says whether signer chains to t's root. Only the chain is asked
// about: validity times and key usage are verification's business.
func chainsTo(signer *x509.Certificate, embedded []*x509.Certificate, t *root.SigstoreTimestampingAuthority) bool {
	if t.Root == nil {
		return false
	}
	roots, inter := x509.NewCertPool(), x509.NewCertPool()
	roots.AddCert(t.Root)
	for _, c := range append(slices.Clone(t.Intermediates), embedded...) {
		inter.AddCert(c)
	}
	_, err := signer.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: signer.NotBefore.Add(time.Second), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	return err == nil
}

// ParseTimestamp reads a bundle's RFC 3161 timestamp: a TimeStampResp, as
// TSAs answer and bundles usually carry, or a bare TimeStampToken.
func ParseTimestamp(der []byte) (*timestamp.Timestamp, error) {
	ts, err := timestamp.ParseResponse(der)
	if err == nil {
		return ts, nil
	}
	if ts, terr := timestamp.Parse(der); terr == nil {
		return ts, nil
	}
	return nil, err
}
