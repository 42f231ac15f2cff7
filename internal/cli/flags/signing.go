package flags

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/spf13/pflag"

	"github.com/signetdev/signet/internal/cli"
	"github.com/signetdev/signet/internal/fileutil"
	"github.com/signetdev/signet/internal/trust"
	"github.com/signetdev/signet/pkg/signer"
)

// Public-good service URLs: cosign's defaults for the deprecated URL flags.
const (
	DefaultFulcioURL = "https://fulcio.sigstore.dev"
	DefaultRekorURL  = "https://rekor.sigstore.dev"
)

// Signing says which services a signature's evidence comes from, and the
// trust material the result is checked against.
type Signing struct {
	SigningConfig    string
	UseSigningConfig bool
	FulcioURL        string
	RekorURL         string
	TSAURL           string
	TlogUpload       bool
	TrustedRoot      string
	SkipSCT          bool // --insecure-skip-verify
	Algorithm        string
	Yes              bool

	TSAClientCACert, TSAClientCert, TSAClientKey, TSAServerName string

	fs *pflag.FlagSet
}

// AddFlags registers cosign's service flags for signing verbs.
func (o *Signing) AddFlags(fs *pflag.FlagSet) {
	o.fs = fs
	fs.StringVar(&o.SigningConfig, "signing-config", "", "path to a signing config file. Must provide --bundle, which will output verification material in the new format")
	fs.BoolVar(&o.UseSigningConfig, "use-signing-config", true, "whether to use a TUF-provided signing config for the service URLs. Must provide --bundle, which will output verification material in the new format")
	fs.StringVar(&o.TrustedRoot, "trusted-root", "", "optional path to a TrustedRoot JSON file to verify a signature after signing")
	fs.StringVar(&o.FulcioURL, "fulcio-url", DefaultFulcioURL, "address of sigstore PKI server")
	deprecated(fs, "fulcio-url", "please use a signing config to specify a fulcio url; see `cosign signing-config --help`")
	fs.StringVar(&o.RekorURL, "rekor-url", DefaultRekorURL, "address of rekor STL server")
	deprecated(fs, "rekor-url", "please use a signing config to specify a rekor url; see `cosign signing-config --help`")
	fs.StringVar(&o.TSAURL, "timestamp-server-url", "", "url to the Timestamp RFC3161 server, default none. Must be the path to the API to request timestamp responses, e.g. https://freetsa.org/tsr")
	deprecated(fs, "timestamp-server-url", "please use a signing config to specify a timestamp server url; see `cosign signing-config --help`")
	fs.BoolVar(&o.TlogUpload, "tlog-upload", true, "whether or not to upload to the tlog")
	deprecated(fs, "tlog-upload", "prefer using a --signing-config file with no transparency log services")
	fs.BoolVar(&o.SkipSCT, "insecure-skip-verify", false, "skip verifying fulcio published to the SCT (this should only be used for testing).")
	deprecated(fs, "insecure-skip-verify", "signet checks the certificate's SCT before signing; this flag skips that check")
	fs.StringVar(&o.Algorithm, "signing-algorithm", signer.DefaultAlgorithm, "signing algorithm to use for signing/hashing (allowed ecdsa-sha2-256-nistp256, ecdsa-sha2-384-nistp384, ecdsa-sha2-512-nistp521, rsa-sign-pkcs1-2048-sha256, rsa-sign-pkcs1-3072-sha256, rsa-sign-pkcs1-4096-sha256)")
	fs.BoolVarP(&o.Yes, "yes", "y", false, "skip confirmation prompts for non-destructive operations")
	fs.StringVar(&o.TSAClientCACert, "timestamp-client-cacert", "", "path to the X.509 CA certificate file in PEM format to be used for the connection to the TSA Server")
	fs.StringVar(&o.TSAClientCert, "timestamp-client-cert", "", "path to the X.509 certificate file in PEM format to be used for the connection to the TSA Server")
	fs.StringVar(&o.TSAClientKey, "timestamp-client-key", "", "path to the X.509 private key file in PEM format to be used, together with the 'timestamp-client-cert' value, for the connection to the TSA Server")
	fs.StringVar(&o.TSAServerName, "timestamp-server-name", "", "SAN name to use as the 'ServerName' tls.Config field to verify the mTLS connection to the TSA Server")
}

func (o *Signing) changed(name string) bool { return o.fs != nil && o.fs.Changed(name) }

// explicitURLs reports whether a service URL was given on the command line
// (or through COSIGN_<FLAG>).
func (o *Signing) explicitURLs() bool {
	return o.changed("fulcio-url") || o.changed("rekor-url") || o.changed("timestamp-server-url")
}

// Resolved is where signing happens and what it is checked against.
type Resolved struct {
	Services signer.Services
	// TrustedMaterial is nil when the services were named by URL and no
	// --trusted-root was given: nothing to check a private instance with.
	TrustedMaterial root.TrustedMaterial
	// FromTUF says the services came from the TUF signing config.
	FromTUF bool
}

// Resolve picks the services as cosign does: --signing-config, else
// explicit URLs, else TUF's signing config (--use-signing-config, the
// default). Mixing a signing config with URLs is an error, as in cosign;
// unlike cosign v3, URLs alone (the v2-era way) need no
// --use-signing-config=false.
func (o *Signing) Resolve(ctx context.Context, f *cli.Factory) (Resolved, error) {
	var r Resolved
	switch {
	case o.SigningConfig != "" && o.explicitURLs():
		return r, errors.New("cannot specify service URLs and use signing config: give --signing-config, or --fulcio-url/--rekor-url/--timestamp-server-url")
	case o.explicitURLs() && o.changed("use-signing-config") && o.UseSigningConfig:
		return r, errors.New("cannot specify service URLs and use signing config: drop --use-signing-config, or the URL flags")
	case o.SigningConfig != "":
		sc, err := root.NewSigningConfigFromPath(o.SigningConfig)
		if err != nil {
			return r, fmt.Errorf("--signing-config %s: %w", o.SigningConfig, err)
		}
		if r.Services, err = signer.FromSigningConfig(sc, f.Now()); err != nil {
			return r, fmt.Errorf("--signing-config %s: %w", o.SigningConfig, err)
		}
	case o.explicitURLs() || !o.UseSigningConfig:
		r.Services = signer.Services{FulcioURL: o.FulcioURL, Rekor: []signer.Rekor{{URL: o.RekorURL, Version: 1}}}
	default:
		sc, err := trust.SigningConfig(ctx, o.trustOptions(f))
		if err != nil {
			return r, fmt.Errorf("no signing config (%v): pass --signing-config FILE, or service URLs (--fulcio-url, --rekor-url)", err)
		}
		if r.Services, err = signer.FromSigningConfig(sc, f.Now()); err != nil {
			return r, fmt.Errorf("TUF signing config: %w", err)
		}
		r.FromTUF = true
	}
	if o.TSAURL != "" && o.SigningConfig == "" {
		r.Services.TSAs = append(r.Services.TSAs, o.TSAURL)
	}
	if !o.TlogUpload {
		r.Services.Rekor = nil
	}

	switch {
	case o.TrustedRoot != "" || o.SigningConfig != "" || r.FromTUF || !o.privateURLs() || customTrustEnv(f):
		tm, err := trust.Material(ctx, o.trustOptions(f))
		if err != nil {
			return r, err
		}
		r.TrustedMaterial = tm
	default:
		f.Warnf("no --trusted-root for the services given by URL: the certificate and the new bundle are not checked")
	}
	return r, nil
}

// privateURLs reports whether explicit URLs point away from public good,
// whose trust material TUF (or signet's embedded copy) provides.
func (o *Signing) privateURLs() bool {
	return o.explicitURLs() && (o.FulcioURL != DefaultFulcioURL || o.RekorURL != DefaultRekorURL || o.TSAURL != "")
}

// customTrustEnv reports whether cosign's SIGSTORE_* variables describe a
// custom instance's trust material.
func customTrustEnv(f *cli.Factory) bool {
	for _, k := range []string{trust.EnvRootFile, trust.EnvRekorPublicKey, trust.EnvCTLogPublicKeyFile, trust.EnvTSACertificateFile} {
		if f.Getenv(k) != "" {
			return true
		}
	}
	return false
}

func (o *Signing) trustOptions(f *cli.Factory) trust.Options {
	opts := f.TrustOptions()
	opts.TrustedRootPath = o.TrustedRoot
	return opts
}

// TSATransport is the transport for timestamp requests when cosign's
// --timestamp-client-* flags ask for a custom CA or mTLS; nil otherwise.
func (o *Signing) TSATransport() (http.RoundTripper, error) {
	if o.TSAClientCACert == "" && o.TSAClientCert == "" && o.TSAClientKey == "" && o.TSAServerName == "" {
		return nil, nil
	}
	cfg := &tls.Config{ServerName: o.TSAServerName, MinVersion: tls.VersionTLS12}
	if o.TSAClientCACert != "" {
		pemBytes, err := fileutil.ReadLimit(o.TSAClientCACert, maxPEMFile)
		if err != nil {
			return nil, fmt.Errorf("--timestamp-client-cacert %s: %w", o.TSAClientCACert, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pemBytes) {
			return nil, fmt.Errorf("--timestamp-client-cacert %s: no PEM certificate found", o.TSAClientCACert)
		}
		cfg.RootCAs = pool
	}
	if (o.TSAClientCert == "") != (o.TSAClientKey == "") {
		return nil, errors.New("--timestamp-client-cert and --timestamp-client-key go together")
	}
	if o.TSAClientCert != "" {
		pair, err := tls.LoadX509KeyPair(o.TSAClientCert, o.TSAClientKey)
		if err != nil {
			return nil, fmt.Errorf("--timestamp-client-cert/--timestamp-client-key: %w", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = cfg
	return t, nil
}
