package flags

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/spf13/pflag"

	"github.com/signetdev/signet/internal/cli"
	"github.com/signetdev/signet/internal/fileutil"
	"github.com/signetdev/signet/pkg/verifier"

	"github.com/signetdev/signet/pkg/artifact"
)

// BlobSignature is where a blob's signature comes from: a bundle, or
// cosign's deprecated detached pieces.
type BlobSignature struct {
	Bundle string

	Signature                string
	Certificate              string
	RFC3161Timestamp         string
	SCT                      string
	SignatureDigestAlgorithm string
	RekorURL                 string
}

// AddFlags registers the flags. signatureHelp differs between
// verify-blob and verify-blob-attestation, as in cosign.
func (o *BlobSignature) AddFlags(fs *pflag.FlagSet, signatureHelp string) {
	fs.StringVar(&o.Bundle, "bundle", "", "path to bundle FILE")
	fs.StringVar(&o.Signature, "signature", "", signatureHelp)
	deprecated(fs, "signature", "please use --bundle to provide a signature")
	fs.StringVar(&o.Certificate, "certificate", "", "path to the public certificate. The certificate will be verified against the Fulcio roots if the --certificate-chain option is not passed.")
	deprecated(fs, "certificate", "please use --bundle with --trusted-root to provide the public certificate")
	fs.StringVar(&o.RFC3161Timestamp, "rfc3161-timestamp", "", "path to RFC3161 timestamp FILE")
	deprecated(fs, "rfc3161-timestamp", "please use --bundle to provide the output bundle location, which will include the signed timestamp")
	fs.StringVar(&o.SCT, "sct", "", "path to a detached Signed Certificate Timestamp, formatted as a RFC6962 AddChainResponse struct. If a certificate contains an SCT, verification will check both the detached and embedded SCTs.")
	deprecated(fs, "sct", "a Signed Certificate Timestamp is now provided via a Sigstore bundle")
	fs.StringVar(&o.SignatureDigestAlgorithm, "signature-digest-algorithm", "sha256", "digest algorithm to use when processing a signature (sha224|sha256|sha384|sha512)")
	deprecated(fs, "signature-digest-algorithm", "please use --bundle, which already includes the digest algorithm")
	fs.StringVar(&o.RekorURL, "rekor-url", "https://rekor.sigstore.dev", "address of rekor STL server")
	deprecated(fs, "rekor-url", "please use --bundle, which includes the Rekor inclusion proof")
}

// Limits on the detached inputs (real ones are a few KiB).
const (
	maxSignature = 16 << 20 // a DSSE envelope given as --signature can be large
	maxSmallFile = 4 << 20
)

// Load returns the bundle to verify: the --bundle file, or one assembled
// from --signature, --certificate, --certificate-chain and
// --rfc3161-timestamp (a bundle with no log entry: checking the log then
// needs --bundle).
func (o *BlobSignature) Load(ctx context.Context, f *cli.Factory, chainPath string, allowChain bool) (*bundle.Bundle, error) {
	if o.SCT != "" {
		return nil, errors.New("--sct: detached SCTs are not supported; verify a bundle whose certificate embeds its SCT, or pass --insecure-ignore-sct")
	}
	if o.Bundle != "" {
		if o.Signature != "" {
			// cosign reads the signature from the bundle and ignores
			// --signature; a silent choice would hide a mistake.
			return nil, errors.New("--bundle and --signature are mutually exclusive: the bundle carries the signature")
		}
		data, err := fileutil.ReadLimit(o.Bundle, verifier.MaxBundleSize)
		if err != nil {
			return nil, fmt.Errorf("reading --bundle %s: %w", o.Bundle, err)
		}
		b, format, err := verifier.ParseBundle(data, allowChain)
		if err != nil {
			return nil, fmt.Errorf("--bundle %s: %w", o.Bundle, err)
		}
		if o.Certificate != "" {
			return nil, errors.New("--certificate cannot be combined with --bundle: the bundle carries the certificate")
		}
		if o.RFC3161Timestamp != "" {
			// A legacy cosign bundle cannot hold its timestamp, which
			// cosign wrote to a file of its own; a Sigstore bundle can.
			if format != verifier.FormatCosignLegacy {
				return nil, errors.New("--rfc3161-timestamp cannot be combined with a Sigstore bundle: the bundle carries its timestamps")
			}
			ts, err := ReadTimestampFile(o.RFC3161Timestamp)
			if err != nil {
				return nil, err
			}
			if b, err = verifier.WithTimestamps(b, [][]byte{ts}, allowChain); err != nil {
				return nil, err
			}
		}
		return b, nil
	}
	if o.Signature == "" {
		return nil, errors.New("either --bundle or --signature must be given")
	}

	sig, err := o.readSignature(ctx, f)
	if err != nil {
		return nil, err
	}
	parts := verifier.Parts{Signature: sig}
	if o.Certificate != "" {
		certs, err := readCerts("--certificate", o.Certificate)
		if err != nil {
			return nil, err
		}
		parts.Certificate = certs[0]
		if chainPath != "" {
			chain, err := readCerts("--certificate-chain", chainPath)
			if err != nil {
				return nil, err
			}
			parts.Chain = chain
		}
	}
	if o.RFC3161Timestamp != "" {
		ts, err := ReadTimestampFile(o.RFC3161Timestamp)
		if err != nil {
			return nil, err
		}
		parts.Timestamps = [][]byte{ts}
	}
	if parts.DigestAlgorithm, err = artifact.HashByName(o.SignatureDigestAlgorithm); err != nil {
		return nil, fmt.Errorf("--signature-digest-algorithm: %w", err)
	}
	pb, err := parts.Bundle()
	if err != nil {
		return nil, err
	}
	var opts []bundle.Option
	if allowChain {
		opts = append(opts, bundle.AllowCertificateChain())
	}
	return bundle.NewBundle(pb, opts...)
}

// readSignature resolves --signature: a file, an http(s) URL, or the
// base64 signature itself, as cosign accepts.
func (o *BlobSignature) readSignature(ctx context.Context, f *cli.Factory) ([]byte, error) {
	return ReadSignature(ctx, f, o.Signature)
}

// ReadSignature reads a --signature reference: a file, an http(s) URL, or
// the base64 signature itself, as cosign accepts.
func ReadSignature(ctx context.Context, f *cli.Factory, ref string) ([]byte, error) {
	raw, err := ReadRef(ctx, f, "--signature", ref, maxSignature)
	switch {
	case errors.Is(err, os.ErrNotExist):
		raw = []byte(ref) // the signature itself
	case err != nil:
		return nil, err
	}
	return decodeSignature(raw)
}

// ReadRef reads what a flag names: an http(s) URL (through the factory's
// transport) or a file, at most limit bytes. A missing file is
// os.ErrNotExist, for flags that also take the content itself.
func ReadRef(ctx context.Context, f *cli.Factory, flag, ref string, limit int64) ([]byte, error) {
	if !strings.HasPrefix(ref, "https://") && !strings.HasPrefix(ref, "http://") {
		data, err := fileutil.ReadLimit(ref, limit)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s %s: %w", flag, ref, err)
		}
		return data, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ref, nil)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", flag, ref, err)
	}
	resp, err := f.HTTPClient().Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s: fetching %s: %w", flag, ref, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: fetching %s: HTTP %s", flag, ref, resp.Status)
	}
	data, err := fileutil.ReadAllLimit(resp.Body, limit)
	if err != nil {
		return nil, fmt.Errorf("%s: fetching %s: %w", flag, ref, err)
	}
	return data, nil
}

// ReadCertificates reads a PEM (or base64 of PEM, as cosign v2 wrote)
// certificate list named by flag.
func ReadCertificates(flag, path string) ([]*x509.Certificate, error) { return readCerts(flag, path) }

// decodeSignature accepts what cosign wrote as a signature: base64 (the
// .sig file of sign-blob), or a raw DSSE envelope (attest-blob).
func decodeSignature(raw []byte) ([]byte, error) {
	s := strings.TrimSpace(string(raw))
	if strings.HasPrefix(s, "{") {
		return []byte(s), nil
	}
	sig, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("--signature: neither a file nor base64: %w", err)
	}
	if len(sig) == 0 {
		return nil, errors.New("--signature: empty signature")
	}
	return sig, nil
}

// ReadTimestampFile reads cosign's RFC 3161 timestamp file:
// {"SignedRFC3161Timestamp": "<base64 DER TimeStampResp>"}.
func ReadTimestampFile(path string) ([]byte, error) {
	data, err := fileutil.ReadLimit(path, maxSmallFile)
	if err != nil {
		return nil, fmt.Errorf("--rfc3161-timestamp %s: %w", path, err)
	}
	var ts struct {
		SignedRFC3161Timestamp []byte `json:"SignedRFC3161Timestamp"`
	}
	if err := json.Unmarshal(data, &ts); err != nil {
		return nil, fmt.Errorf("--rfc3161-timestamp %s: %w", path, err)
	}
	if len(ts.SignedRFC3161Timestamp) == 0 {
		return nil, fmt.Errorf("--rfc3161-timestamp %s: no SignedRFC3161Timestamp", path)
	}
	return ts.SignedRFC3161Timestamp, nil
}
