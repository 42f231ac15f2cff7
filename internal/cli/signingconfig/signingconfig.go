// Package signingconfig is `signet signing-config create`: the
// signing_config.json that names a Sigstore deployment's services (Fulcio,
// Rekor, TSA, OIDC issuer), which the signing verbs take as
// --signing-config.
package signingconfig

import (
	"context"
	"errors"
	"fmt"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/spf13/cobra"

	"github.com/signetdev/signet/internal/cli"
	"github.com/signetdev/signet/internal/cli/regcmd"
	"github.com/signetdev/signet/internal/trust"
	"github.com/signetdev/signet/pkg/trustspec"
)

// Options are the inputs of signing-config create.
type Options struct {
	Fulcio, Rekor, OIDCProvider, TSA []string
	RekorConfig, TSAConfig           string
	BaseConfig                       string

	WithDefaultServices, WithDefaultRekorV2                      bool
	NoDefaultFulcio, NoDefaultRekor, NoDefaultOIDC, NoDefaultTSA bool

	Out string
}

// NewCmdSigningConfig builds `signing-config` and its `create` verb.
func NewCmdSigningConfig(f *cli.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	parent := &cobra.Command{
		Use:   "signing-config",
		Short: "Interact with a Sigstore protobuf signing config",
		Long:  "Tools for interacting with a Sigstore protobuf signing config",
	}
	regcmd.NoEnv(parent)
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Create a Sigstore protobuf signing config",
		Long: `Create a Sigstore protobuf signing config (media type v0.2) naming the
services to sign with: Fulcio, Rekor (v1 or v2), timestamp authorities and
OIDC providers. Sign with it by --signing-config.`,
		Example: `  signet signing-config create \
    --fulcio="url=https://fulcio.example.com,api-version=1,start-time=2024-01-01T00:00:00Z,operator=example.com" \
    --rekor="url=https://rekor.example.com,api-version=1,start-time=2024-01-01T00:00:00Z,operator=example.com" \
    --rekor-config=ANY \
    --tsa="url=https://tsa.example.com/api/v1/timestamp,api-version=1,start-time=2024-01-01T00:00:00Z,operator=example.com" \
    --tsa-config=ANY \
    --oidc-provider="url=https://issuer.example.com,api-version=1,start-time=2024-01-01T00:00:00Z,operator=example.com" \
    --out signing_config.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return run(cmd.Context(), f, opts)
		},
	}
	regcmd.NoEnv(cmd)
	fs := cmd.Flags()
	spec := "specification, as a comma-separated key-value list. Required keys: url, api-version (integer), start-time, operator. Optional keys: end-time."
	fs.StringArrayVar(&opts.Fulcio, "fulcio", nil, "fulcio service "+spec)
	fs.StringArrayVar(&opts.Rekor, "rekor", nil, "rekor service "+spec)
	fs.StringArrayVar(&opts.OIDCProvider, "oidc-provider", nil, "oidc provider "+spec)
	fs.StringArrayVar(&opts.TSA, "tsa", nil, "timestamping authority "+spec)
	fs.StringVar(&opts.RekorConfig, "rekor-config", "", "rekor configuration. Required if --rekor is provided. One of: ANY, ALL, EXACT:<count>")
	fs.StringVar(&opts.TSAConfig, "tsa-config", "", "timestamping authority configuration. Required if --tsa is provided. One of: ANY, ALL, EXACT:<count>")
	fs.StringVar(&opts.BaseConfig, "base-config", "", "path to base signing config file to use as starting point. Service flags will replace services from the base config.")
	fs.BoolVar(&opts.WithDefaultServices, "with-default-services", false, "use the Sigstore TUF root as default values to populate the signing config. Specifying the other service flags will override the default values.")
	fs.BoolVar(&opts.WithDefaultRekorV2, "with-default-rekor-v2", false, "use the Sigstore TUF root, with the Rekor v2 service, as default values to populate the signing config. Specifying the other service flags will override the default values.")
	fs.BoolVar(&opts.NoDefaultFulcio, "no-default-fulcio", false, "removes the default Fulcio URLs from the signing config.")
	fs.BoolVar(&opts.NoDefaultRekor, "no-default-rekor", false, "removes the default Rekor URLs from the signing config.")
	fs.BoolVar(&opts.NoDefaultOIDC, "no-default-oidc", false, "removes the default OIDC provider URLs from the signing config.")
	fs.BoolVar(&opts.NoDefaultTSA, "no-default-tsa", false, "removes the default TSA URLs from the signing config.")
	fs.StringVar(&opts.Out, "out", "", "path to output signing config")
	parent.AddCommand(cmd)
	return parent
}

func run(ctx context.Context, f *cli.Factory, o *Options) error {
	sc, err := Build(ctx, f, o)
	if err != nil {
		return err
	}
	data, err := sc.MarshalJSON()
	if err != nil {
		return fmt.Errorf("encoding the signing config: %w", err)
	}
	return cli.WriteOut(f, o.Out, data)
}

// services is one kind of service with its selector.
type services struct {
	list []root.Service
	cfg  root.ServiceConfiguration
}

// Build assembles the signing config the options describe: the defaults
// (the TUF repository's, or --base-config), with each kind given by flags
// replacing that kind.
func Build(ctx context.Context, f *cli.Factory, o *Options) (*root.SigningConfig, error) {
	if len(o.Rekor) > 0 && o.RekorConfig == "" {
		return nil, errors.New("--rekor-config must be provided when --rekor is specified")
	}
	if len(o.TSA) > 0 && o.TSAConfig == "" {
		return nil, errors.New("--tsa-config must be provided when --tsa is specified")
	}
	if o.BaseConfig != "" && (o.WithDefaultServices || o.WithDefaultRekorV2) {
		return nil, errors.New("--base-config cannot be combined with --with-default-services or --with-default-rekor-v2")
	}
	var fulcio, oidc []root.Service
	var rekor, tsa services
	var base *root.SigningConfig
	var err error
	switch {
	case o.BaseConfig != "":
		if base, err = root.NewSigningConfigFromPath(o.BaseConfig); err != nil {
			return nil, fmt.Errorf("--base-config %s: %w", o.BaseConfig, err)
		}
	case o.WithDefaultServices || o.WithDefaultRekorV2:
		if base, err = trust.SigningConfig(ctx, f.TrustOptions()); err != nil {
			return nil, fmt.Errorf("--with-default-services: %w", err)
		}
	}
	if base != nil {
		if !o.NoDefaultFulcio {
			fulcio = base.FulcioCertificateAuthorityURLs()
		}
		if !o.NoDefaultOIDC {
			oidc = base.OIDCProviderURLs()
		}
		if !o.NoDefaultRekor {
			rekor = services{base.RekorLogURLs(), base.RekorLogURLsConfig()}
			if o.WithDefaultRekorV2 {
				if rekor, err = onlyV2(rekor); err != nil {
					return nil, err
				}
			}
		}
		if !o.NoDefaultTSA {
			tsa = services{base.TimestampAuthorityURLs(), base.TimestampAuthorityURLsConfig()}
		}
	}
	if fulcio, err = replace(fulcio, "--fulcio", o.Fulcio); err != nil {
		return nil, err
	}
	if oidc, err = replace(oidc, "--oidc-provider", o.OIDCProvider); err != nil {
		return nil, err
	}
	if rekor.list, err = replace(rekor.list, "--rekor", o.Rekor); err != nil {
		return nil, err
	}
	if tsa.list, err = replace(tsa.list, "--tsa", o.TSA); err != nil {
		return nil, err
	}
	if o.RekorConfig != "" {
		if rekor.cfg, err = trustspec.Selector(o.RekorConfig); err != nil {
			return nil, fmt.Errorf("--rekor-config: %w", err)
		}
	}
	if o.TSAConfig != "" {
		if tsa.cfg, err = trustspec.Selector(o.TSAConfig); err != nil {
			return nil, fmt.Errorf("--tsa-config: %w", err)
		}
	}
	sc, err := root.NewSigningConfig(root.SigningConfigMediaType02, fulcio, oidc, rekor.list, rekor.cfg, tsa.list, tsa.cfg)
	if err != nil {
		return nil, fmt.Errorf("building the signing config: %w", err)
	}
	return sc, nil
}

// replace returns the services the flag gives, or def when none is given.
func replace(def []root.Service, flag string, specs []string) ([]root.Service, error) {
	if len(specs) == 0 {
		return def, nil
	}
	out := make([]root.Service, 0, len(specs))
	for _, s := range specs {
		svc, err := trustspec.Service(s)
		if err != nil {
			return nil, fmt.Errorf("%s %q: %w", flag, s, err)
		}
		out = append(out, svc)
	}
	return out, nil
}

// onlyV2 keeps the Rekor v2 logs of the default config.
func onlyV2(s services) (services, error) {
	var v2 []root.Service
	for _, svc := range s.list {
		if svc.MajorAPIVersion == 2 {
			v2 = append(v2, svc)
		}
	}
	if len(v2) == 0 {
		return s, errors.New("--with-default-rekor-v2: the TUF repository's signing config names no Rekor v2 log")
	}
	s.list = v2
	return s, nil
}
