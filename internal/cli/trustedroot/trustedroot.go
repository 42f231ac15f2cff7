// Package trustedroot is `signet trusted-root create`: a trusted_root.json
// for a private Sigstore deployment (its own Fulcio, Rekor, CT log, TSA),
// the file every verify verb takes as --trusted-root.
package trustedroot

import (
	"context"

	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/spf13/cobra"

	"github.com/signetdev/signet/internal/cli"
	"github.com/signetdev/signet/internal/cli/flags"
	"github.com/signetdev/signet/internal/cli/regcmd"
	"github.com/signetdev/signet/internal/trust"
	"github.com/signetdev/signet/pkg/trustspec"
)

// Options are the inputs of trusted-root create.
type Options struct {
	Fulcio, Rekor, CTFE, TSA []string

	WithDefaultServices                                          bool
	NoDefaultFulcio, NoDefaultCTFE, NoDefaultTSA, NoDefaultRekor bool

	// cosign's deprecated one-value-per-flag forms.
	CertChain, FulcioURI                     []string
	CTFEKey, CTFEStart, CTFEEnd, CTFEURL     []string
	RekorKey, RekorStart, RekorEnd, RekorURL []string
	TSAChain, TSAURI                         []string

	Out string
}

// NewCmdTrustedRoot builds `trusted-root` and its `create` verb.
func NewCmdTrustedRoot(f *cli.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	parent := &cobra.Command{
		Use:   "trusted-root",
		Short: "Interact with a Sigstore protobuf trusted root",
		Long:  "Tools for interacting with a Sigstore protobuf trusted root",
	}
	regcmd.NoEnv(parent)
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Create a Sigstore protobuf trusted root",
		Long: `Create a Sigstore protobuf trusted root from the certificates and keys of
a Sigstore deployment: Fulcio CAs, Rekor logs (v1 or, with origin=, v2),
CT logs and timestamp authorities. Verify with it by --trusted-root.`,
		Example: `  signet trusted-root create \
    --fulcio="url=https://fulcio.example.com,certificate-chain=fulcio-chain.pem" \
    --rekor="url=https://rekor.example.com,public-key=rekor.pub,start-time=2024-01-01T00:00:00Z" \
    --ctfe="url=https://ctfe.example.com,public-key=ctfe.pub,start-time=2024-01-01T00:00:00Z" \
    --tsa="url=https://tsa.example.com,certificate-chain=tsa-chain.pem" \
    --out trusted_root.json`,
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
	fs.StringArrayVar(&opts.Fulcio, "fulcio", nil, "fulcio service specification, as a comma-separated key-value list. Required keys: url, certificate-chain (path to PEM-encoded certificate chain). Optional keys: start-time, end-time.")
	fs.StringArrayVar(&opts.Rekor, "rekor", nil, "rekor service specification, as a comma-separated key-value list. Required keys: url, public-key (path to PEM-encoded public key), start-time. Optional keys: end-time, origin.")
	fs.StringArrayVar(&opts.CTFE, "ctfe", nil, "ctfe service specification, as a comma-separated key-value list. Required keys: url, public-key (path to PEM-encoded public key), start-time. Optional keys: end-time, origin.")
	fs.StringArrayVar(&opts.TSA, "tsa", nil, "timestamping authority specification, as a comma-separated key-value list. Required keys: url, certificate-chain (path to PEM-encoded certificate chain). Optional keys: start-time, end-time.")
	fs.BoolVar(&opts.WithDefaultServices, "with-default-services", false, "use the Sigstore TUF root as default values to populate the trusted root. Specifying the other service flags will override the default values.")
	fs.BoolVar(&opts.NoDefaultFulcio, "no-default-fulcio", false, "removes the default Fulcio URLs from the trusted root.")
	fs.BoolVar(&opts.NoDefaultCTFE, "no-default-ctfe", false, "removes the default CTFE URLs from the trusted root.")
	fs.BoolVar(&opts.NoDefaultTSA, "no-default-tsa", false, "removes the default TSA URLs from the trusted root.")
	fs.BoolVar(&opts.NoDefaultRekor, "no-default-rekor", false, "removes the default Rekor URLs from the trusted root.")
	fs.StringVar(&opts.Out, "out", "", "path to output trusted root")

	dep := func(p *[]string, name, help, msg string) {
		fs.StringArrayVar(p, name, nil, help)
		flags.Deprecated(fs, name, msg)
	}
	dep(&opts.CertChain, "certificate-chain", "path to a list of CA certificates in PEM format which will be needed when building the certificate chain for the signing certificate. Must start with the parent intermediate CA certificate of the signing certificate and end with the root certificate.", "use --fulcio instead")
	dep(&opts.FulcioURI, "fulcio-uri", "URI of the Fulcio server issuing certificates.", "use --fulcio instead")
	dep(&opts.CTFEKey, "ctfe-key", "path to a PEM-encoded public key used by certificate authority for certificate transparency log.", "use --ctfe instead")
	dep(&opts.CTFEStart, "ctfe-start-time", "RFC 3339 string describing validity start time for key use by certificate transparency log.", "use --ctfe instead")
	dep(&opts.CTFEEnd, "ctfe-end-time", "RFC 3339 string describing validity end time for key use by certificate transparency log.", "use --ctfe instead")
	dep(&opts.CTFEURL, "ctfe-url", "URL of the certificate transparency log.", "use --ctfe instead")
	dep(&opts.RekorKey, "rekor-key", "path to a PEM-encoded public key used by transparency log like Rekor. For Rekor V2, append the Rekor server name with ',', e.g. '--rekor-key=/path/to/key.pub,rekor.example.test'.", "use --rekor instead")
	dep(&opts.RekorStart, "rekor-start-time", "RFC 3339 string describing validity start time for key use by transparency log like Rekor.", "use --rekor instead")
	dep(&opts.RekorEnd, "rekor-end-time", "RFC 3339 string describing validity end time for key use by transparency log like Rekor.", "use --rekor instead")
	dep(&opts.RekorURL, "rekor-url", "URL of the transparency log.", "use --rekor instead")
	dep(&opts.TSAChain, "timestamp-certificate-chain", "path to PEM-encoded certificate chain file for the RFC3161 timestamp authority. Must contain the root CA certificate. Optionally may contain intermediate CA certificates", "use --tsa instead")
	dep(&opts.TSAURI, "timestamp-uri", "URI of the timestamp authority server.", "use --tsa instead")
	parent.AddCommand(cmd)
	return parent
}

func run(ctx context.Context, f *cli.Factory, o *Options) error {
	tr, err := Build(ctx, f, o)
	if err != nil {
		return err
	}
	data, err := tr.MarshalJSON()
	if err != nil {
		return fmt.Errorf("encoding the trusted root: %w", err)
	}
	return cli.WriteOut(f, o.Out, data)
}

// Build assembles the trusted root the options describe.
func Build(ctx context.Context, f *cli.Factory, o *Options) (*root.TrustedRoot, error) {
	for _, c := range []struct {
		flag    string
		spec    []string
		old     [][]string
		oldName string
	}{
		{"--fulcio", o.Fulcio, [][]string{o.CertChain, o.FulcioURI}, "--certificate-chain/--fulcio-uri"},
		{"--rekor", o.Rekor, [][]string{o.RekorKey, o.RekorURL, o.RekorStart, o.RekorEnd}, "--rekor-key/--rekor-url/--rekor-start-time/--rekor-end-time"},
		{"--ctfe", o.CTFE, [][]string{o.CTFEKey, o.CTFEURL, o.CTFEStart, o.CTFEEnd}, "--ctfe-key/--ctfe-url/--ctfe-start-time/--ctfe-end-time"},
		{"--tsa", o.TSA, [][]string{o.TSAChain, o.TSAURI}, "--timestamp-certificate-chain/--timestamp-uri"},
	} {
		if len(c.spec) > 0 && anyGiven(c.old) {
			return nil, fmt.Errorf("%s cannot be combined with its deprecated forms %s", c.flag, c.oldName)
		}
	}
	var cas []root.CertificateAuthority
	var tsas []root.TimestampingAuthority
	ctLogs := map[string]*root.TransparencyLog{}
	rekorLogs := map[string]*root.TransparencyLog{}
	if o.WithDefaultServices {
		def, err := trust.Load(ctx, f.TrustOptions())
		if err != nil {
			return nil, fmt.Errorf("--with-default-services: %w", err)
		}
		if !o.NoDefaultFulcio {
			cas = append(cas, def.FulcioCertificateAuthorities()...)
		}
		if !o.NoDefaultCTFE {
			maps.Copy(ctLogs, def.CTLogs())
		}
		if !o.NoDefaultRekor {
			maps.Copy(rekorLogs, def.RekorLogs())
		}
		if !o.NoDefaultTSA {
			tsas = append(tsas, def.TimestampingAuthorities()...)
		}
	}
	for _, s := range o.Fulcio {
		ca, err := trustspec.Fulcio(s)
		if err != nil {
			return nil, fmt.Errorf("--fulcio %q: %w", s, err)
		}
		cas = append(cas, ca)
	}
	for i, p := range o.CertChain {
		certs, err := trustspec.Certificates(p)
		if err != nil {
			return nil, fmt.Errorf("--certificate-chain: %w", err)
		}
		cas = append(cas, trustspec.CA(certs, at(o.FulcioURI, i)))
	}
	if err := addLogs(rekorLogs, "--rekor", o.Rekor, "--rekor-key", o.RekorKey, o.RekorURL, o.RekorStart, o.RekorEnd); err != nil {
		return nil, err
	}
	if err := addLogs(ctLogs, "--ctfe", o.CTFE, "--ctfe-key", o.CTFEKey, o.CTFEURL, o.CTFEStart, o.CTFEEnd); err != nil {
		return nil, err
	}
	for _, s := range o.TSA {
		ta, err := trustspec.TSA(s)
		if err != nil {
			return nil, fmt.Errorf("--tsa %q: %w", s, err)
		}
		tsas = append(tsas, ta)
	}
	for i, p := range o.TSAChain {
		certs, err := trustspec.Certificates(p)
		if err != nil {
			return nil, fmt.Errorf("--timestamp-certificate-chain: %w", err)
		}
		ta, err := trustspec.TimestampAuthority(certs, at(o.TSAURI, i))
		if err != nil {
			return nil, fmt.Errorf("--timestamp-certificate-chain %s: %w", p, err)
		}
		// cosign's old form starts the TSA's validity at its root's.
		ta.ValidityPeriodStart = ta.Root.NotBefore
		tsas = append(tsas, ta)
	}
	tr, err := root.NewTrustedRoot(root.TrustedRootMediaType01, cas, ctLogs, tsas, rekorLogs)
	if err != nil {
		return nil, fmt.Errorf("building the trusted root: %w", err)
	}
	return tr, nil
}

// addLogs adds the logs of the spec flag and of the deprecated
// key/url/start/end flags (matched by position).
func addLogs(into map[string]*root.TransparencyLog, flag string, specs []string, keyFlag string, keys, urls, starts, ends []string) error {
	for _, s := range specs {
		l, id, err := trustspec.Log(s)
		if err != nil {
			return fmt.Errorf("%s %q: %w", flag, s, err)
		}
		into[id] = l
	}
	for i, k := range keys {
		path, origin, _ := strings.Cut(k, ",")
		pub, err := trustspec.PublicKey(path)
		if err != nil {
			return fmt.Errorf("%s: %w", keyFlag, err)
		}
		start, end := time.Unix(0, 0).UTC(), time.Time{}
		if s := at(starts, i); s != "" {
			if start, err = time.Parse(time.RFC3339, s); err != nil {
				return fmt.Errorf("%s start time %q: want RFC 3339", keyFlag, s)
			}
		}
		if s := at(ends, i); s != "" {
			if end, err = time.Parse(time.RFC3339, s); err != nil {
				return fmt.Errorf("%s end time %q: want RFC 3339", keyFlag, s)
			}
		}
		l, id, err := trustspec.NewLog(pub, at(urls, i), origin, start, end)
		if err != nil {
			return fmt.Errorf("%s %s: %w", keyFlag, path, err)
		}
		into[id] = l
	}
	return nil
}

func at(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return ""
}

func anyGiven(lists [][]string) bool {
	for _, l := range lists {
		if len(l) > 0 {
			return true
		}
	}
	return false
}
