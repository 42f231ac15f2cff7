package flags

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/spf13/pflag"

	"github.com/signetdev/signet/internal/cli"
	"github.com/signetdev/signet/internal/fileutil"
	"github.com/signetdev/signet/internal/trust"
)

// Trust says where the trust material (Fulcio CAs, Rekor and CT log keys,
// TSAs) comes from.
type Trust struct {
	TrustedRoot string
	Offline     bool

	// cosign's deprecated ways to name CAs instead of a trusted root.
	CARoots, CAIntermediates  string
	CertificateChain          string
	TimestampCertificateChain string
}

// AddFlags registers the trust flags.
func (o *Trust) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.TrustedRoot, "trusted-root", "", "Path to a Sigstore TrustedRoot JSON file")
	fs.BoolVar(&o.Offline, "offline", false, "never use the network for trust material: use the TUF cache or, failing that, the trusted root embedded in signet")
	deprecated(fs, "offline", "signet verifies bundles offline by default; with --offline it also never refreshes TUF")
	fs.StringVar(&o.CARoots, "ca-roots", "", "path to a bundle file of CA certificates in PEM format which will be needed when building the certificate chains for the signing certificate. Conflicts with --certificate-chain.")
	deprecated(fs, "ca-roots", "please use --trusted-root to provide CA certificates")
	fs.StringVar(&o.CAIntermediates, "ca-intermediates", "", "path to a file of intermediate CA certificates in PEM format which will be needed when building the certificate chains for the signing certificate. The flag is optional and must be used together with --ca-roots, conflicts with --certificate-chain.")
	deprecated(fs, "ca-intermediates", "please use --trusted-root to provide CA certificates")
	fs.StringVar(&o.CertificateChain, "certificate-chain", "", "path to a list of CA certificates in PEM format which will be needed when building the certificate chain for the signing certificate. Must start with the parent intermediate CA certificate of the signing certificate and end with the root certificate. Conflicts with --ca-roots and --ca-intermediates.")
	deprecated(fs, "certificate-chain", "please use --trusted-root to provide the certificate chain")
	fs.StringVar(&o.TimestampCertificateChain, "timestamp-certificate-chain", "", "path to PEM-encoded certificate chain file for the RFC3161 timestamp authority. Must contain the root CA certificate. Optionally may contain intermediate CA certificates, and may contain the leaf TSA certificate if not present in the timestamp")
	deprecated(fs, "timestamp-certificate-chain", "please use --trusted-root to provide the timestamp authority certificate chain")
}

func (o *Trust) validate() error {
	if o.CertificateChain != "" && (o.CARoots != "" || o.CAIntermediates != "") {
		return errors.New("--certificate-chain conflicts with --ca-roots and --ca-intermediates")
	}
	if o.CAIntermediates != "" && o.CARoots == "" {
		return errors.New("--ca-intermediates must be used together with --ca-roots")
	}
	return nil
}

// Options returns the trust options for the factory's environment.
func (o *Trust) Options(f *cli.Factory) trust.Options {
	opts := f.TrustOptions()
	opts.TrustedRootPath = o.TrustedRoot
	opts.Offline = o.Offline
	return opts
}

// Material loads the trust material, applying the deprecated CA flags.
func (o *Trust) Material(ctx context.Context, f *cli.Factory) (root.TrustedMaterial, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	tm, err := trust.Material(ctx, o.Options(f))
	if err != nil {
		return nil, err
	}
	switch {
	case o.CertificateChain != "":
		chain, err := readCerts("--certificate-chain", o.CertificateChain)
		if err != nil {
			return nil, err
		}
		tm = trust.WithCertificateAuthority(tm, chain[len(chain)-1:], chain[:len(chain)-1])
	case o.CARoots != "":
		roots, err := readCerts("--ca-roots", o.CARoots)
		if err != nil {
			return nil, err
		}
		var inter []*x509.Certificate
		if o.CAIntermediates != "" {
			if inter, err = readCerts("--ca-intermediates", o.CAIntermediates); err != nil {
				return nil, err
			}
		}
		tm = trust.WithCertificateAuthority(tm, roots, inter)
	}
	if o.TimestampCertificateChain != "" {
		chain, err := readCerts("--timestamp-certificate-chain", o.TimestampCertificateChain)
		if err != nil {
			return nil, err
		}
		if err := trust.CheckTimestampChain(chain); err != nil {
			return nil, fmt.Errorf("--timestamp-certificate-chain %s: %w", o.TimestampCertificateChain, err)
		}
		tm = trust.WithTimestampAuthority(tm, chain)
	}
	return tm, nil
}

// maxPEMFile bounds certificate files; real chains are a few KiB.
const maxPEMFile = 4 << 20

// readCerts reads a non-empty PEM certificate list.
func readCerts(flag, path string) ([]*x509.Certificate, error) {
	data, err := fileutil.ReadLimit(path, maxPEMFile)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", flag, path, err)
	}
	certs, err := trust.ParseCertificatesPEM(data)
	if err != nil {
		// cosign writes --output-certificate as base64 of the PEM.
		if dec, derr := base64.StdEncoding.DecodeString(strings.TrimSpace(string(data))); derr == nil {
			certs, err = trust.ParseCertificatesPEM(dec)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", flag, path, err)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("%s %s: no PEM certificate found", flag, path)
	}
	return certs, nil
}

// deprecated hides a flag and makes using it print cosign's deprecation
// notice, as cosign does for the same flags. pflag's own MarkDeprecated
// is not used: cobra prints its notice to the command's output writer,
// which is standard output, where it would corrupt what scripts capture.
// The root command prints the notice to stderr instead (cli.DeprecatedFlag).
func deprecated(fs *pflag.FlagSet, name, msg string) {
	_ = fs.MarkHidden(name)
	_ = fs.SetAnnotation(name, cli.DeprecatedFlag, []string{msg})
}
