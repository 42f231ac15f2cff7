package flags

import (
	"github.com/spf13/pflag"

	"github.com/signetdev/signet/internal/cli"
	"github.com/signetdev/signet/pkg/oidc"
)

// OIDC is where a keyless signing verb gets its identity token: cosign's
// flags, with cosign's names, defaults and deprecations, plus
// --oidc-audience (signet's).
type OIDC struct {
	IdentityToken    string
	Issuer           string // deprecated: the signing config names the issuer
	ClientID         string
	ClientSecretFile string
	RedirectURL      string
	Provider         string
	DisableAmbient   bool
	AuthFlow         string
	Audience         string
}

// AddFlags registers the identity token flags.
func (o *OIDC) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.IdentityToken, "identity-token", "",
		"identity token to use for certificate from fulcio. the token or a path to a file containing the token is accepted.")
	fs.StringVar(&o.Issuer, "oidc-issuer", oidc.DefaultIssuer, "OIDC provider to be used to issue ID token")
	deprecated(fs, "oidc-issuer", "please use a signing config to specify an OIDC issuer; see `cosign signing-config create --help`")
	fs.StringVar(&o.ClientID, "oidc-client-id", oidc.DefaultClientID, "OIDC client ID for application")
	fs.StringVar(&o.ClientSecretFile, "oidc-client-secret-file", "", "Path to file containing OIDC client secret for application")
	fs.StringVar(&o.RedirectURL, "oidc-redirect-url", "",
		"OIDC redirect URL (Optional). The default oidc-redirect-url is 'http://localhost:0/auth/callback'.")
	fs.StringVar(&o.Provider, "oidc-provider", "",
		"Specify the provider to get the OIDC token from (Optional). If unset, all options will be tried. Options include: [spiffe, google, github-actions, filesystem, buildkite-agent, envvar, google-workload-identity, google-impersonate]")
	fs.BoolVar(&o.DisableAmbient, "oidc-disable-ambient-providers", false,
		"Disable ambient OIDC providers. When true, ambient credentials will not be read")
	fs.StringVar(&o.AuthFlow, "fulcio-auth-flow", "",
		"fulcio interactive oauth2 flow to use for certificate from fulcio. Defaults to determining the flow based on the runtime environment. (options) normal|device|token|client_credentials")
	fs.StringVar(&o.Audience, "oidc-audience", oidc.DefaultAudience,
		"audience an identity token must carry, and that ambient providers ask for (signet; for a Fulcio configured with another client ID)")
}

// ExplicitIssuer returns --oidc-issuer if it names an issuer other than
// the default, else "". cosign refuses such a value together with a
// signing config ("cannot specify service URLs and use signing config").
func (o *OIDC) ExplicitIssuer() string {
	if o.Issuer == oidc.DefaultIssuer {
		return ""
	}
	return o.Issuer
}

// Options returns where Get looks for a token, wired to the factory's
// environment, network, clock, streams and debug output. The issuer of
// interactive flows is issuerFromSigningConfig (its oidcUrls) if set,
// else --oidc-issuer. The caller sets Yes from its -y/--yes flag.
func (o *OIDC) Options(f *cli.Factory, issuerFromSigningConfig string) oidc.Options {
	issuer := o.Issuer
	if issuerFromSigningConfig != "" {
		issuer = issuerFromSigningConfig
	}
	return oidc.Options{
		IdentityToken:    o.IdentityToken,
		Provider:         o.Provider,
		DisableAmbient:   o.DisableAmbient,
		Audience:         o.Audience,
		Issuer:           issuer,
		ClientID:         o.ClientID,
		ClientSecretFile: o.ClientSecretFile,
		RedirectURL:      o.RedirectURL,
		AuthFlow:         o.AuthFlow,
		Getenv:           f.Getenv,
		Transport:        f.Transport,
		In:               f.IOStreams.In,
		ErrOut:           f.IOStreams.ErrOut,
		StdinIsTerminal:  f.IOStreams.IsStdinTTY(),
		Now:              f.Now,
		Debugf:           f.Debugf,
	}
}
