package flags

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"github.com/signetdev/signet/internal/cli"
	"github.com/signetdev/signet/internal/redact"
	"github.com/signetdev/signet/pkg/keys"
	"github.com/signetdev/signet/pkg/oidc"
	"github.com/signetdev/signet/pkg/signer"
)

// Signer is every flag that decides how a signature is made: services,
// identity token, key, certificate. It is the CLI half of signet's one
// signing path; sign-blob, attest-blob (and sign, attest) share it.
type Signer struct {
	Signing Signing
	OIDC    OIDC

	Key              string
	Sk               bool
	Slot             string
	Certificate      string
	CertificateChain string
	IssueCertificate bool
}

// AddFlags registers the flags. certificateHelp is the verb's wording of
// --certificate, as cosign's differs between verbs.
func (o *Signer) AddFlags(fs *pflag.FlagSet, certificateHelp string) {
	o.Signing.AddFlags(fs)
	o.OIDC.AddFlags(fs)
	fs.StringVar(&o.Key, "key", "", "path to the private key file, KMS URI or Kubernetes Secret")
	fs.BoolVar(&o.Sk, "sk", false, "whether to use a hardware security key")
	fs.StringVar(&o.Slot, "slot", "", "security key slot to use for generated key (default: signature) (authentication|signature|card-authentication|key-management)")
	fs.StringVar(&o.Certificate, "certificate", "", certificateHelp)
	fs.StringVar(&o.CertificateChain, "certificate-chain", "", "path to a list of CA X.509 certificates in PEM format which will be needed when building the certificate chain for the signed attestation. Must start with the parent intermediate CA certificate of the signing certificate and end with the root certificate.")
	fs.BoolVar(&o.IssueCertificate, "issue-certificate", false, "issue a code signing certificate from Fulcio, even if a key is provided")
	deprecated(fs, "issue-certificate", "support for this flag will be removed in the future")
}

// Keyless reports whether the signature will carry a Fulcio certificate.
func (o *Signer) Keyless() bool { return o.Key == "" || o.IssueCertificate }

// New resolves the services, loads or makes the key, gets the identity
// token and the certificate when keyless, and returns a ready signer.
// stdinTaken says the blob is read from standard input, which then cannot
// also hold the key's password.
func (o *Signer) New(ctx context.Context, f *cli.Factory, stdinTaken bool) (*signer.Signer, signer.Services, error) {
	if o.Sk || o.Slot != "" {
		return nil, signer.Services{}, errors.New("--sk/--slot: this signet build has no hardware security key support")
	}
	if o.Certificate != "" && o.Key == "" {
		return nil, signer.Services{}, errors.New("--certificate needs --key: it is the certificate of that key")
	}
	if o.Certificate != "" && o.IssueCertificate {
		return nil, signer.Services{}, errors.New("--certificate and --issue-certificate are mutually exclusive")
	}
	if iss := o.OIDC.ExplicitIssuer(); iss != "" && o.Signing.SigningConfig != "" {
		return nil, signer.Services{}, errors.New("cannot specify service URLs and use signing config: --oidc-issuer with --signing-config")
	}
	// The key first: a bad --key or --signing-algorithm fails before any
	// request.
	var key *signer.Key
	var err error
	if o.Key != "" {
		pf := f
		if stdinTaken {
			// The password may still come from COSIGN_PASSWORD; a prompt
			// would read the blob.
			cp := *f
			ios := *f.IOStreams
			ios.In = strings.NewReader("")
			ios.SetTTY(false, ios.IsStdoutTTY(), ios.IsStderrTTY())
			cp.IOStreams = &ios
			pf = &cp
		}
		sv, err := keys.LoadSigner(ctx, o.Key, cli.PasswordFunc(pf), f.Getenv)
		if err != nil {
			return nil, signer.Services{}, err
		}
		if key, err = signer.NewKey(sv); err != nil {
			return nil, signer.Services{}, fmt.Errorf("--key %s: %w", redact.Ref(o.Key), redact.Error(err, o.Key))
		}
	} else if key, err = signer.GenerateKey(o.Signing.Algorithm); err != nil {
		return nil, signer.Services{}, err
	}
	r, err := o.Signing.Resolve(ctx, f)
	if err != nil {
		return nil, signer.Services{}, err
	}

	opts := signer.Options{
		Key:             key,
		Services:        r.Services,
		TrustedMaterial: r.TrustedMaterial,
		SkipSCTUnsafe:   o.Signing.SkipSCT,
		Transport:       f.Transport,
		Now:             f.Now,
	}
	if opts.TSATransport, err = o.Signing.TSATransport(); err != nil {
		return nil, r.Services, err
	}
	if o.Certificate != "" {
		certs, err := readCerts("--certificate", o.Certificate)
		if err != nil {
			return nil, r.Services, err
		}
		opts.Certificate = certs[0]
	}
	if o.Keyless() {
		oo := o.OIDC.Options(f, r.Services.OIDCIssuer)
		oo.Yes = o.Signing.Yes
		tok, err := oidc.Get(ctx, oo)
		if err != nil {
			return nil, r.Services, err
		}
		f.Debugf("identity token from %s: subject %q, issuer %q", tok.Source, tok.Subject, tok.Issuer)
		opts.IDToken = tok.Raw
	}
	s, err := signer.New(ctx, opts)
	return s, r.Services, err
}
