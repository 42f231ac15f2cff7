package admission

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"text/template"

	"github.com/spf13/cobra"

	"github.com/signetdev/signet/deploy"
	"github.com/signetdev/signet/internal/cli"
	"github.com/signetdev/signet/internal/fileutil"
	"github.com/signetdev/signet/internal/trust"
)

// ManifestsOptions are the inputs of `admission manifests`.
type ManifestsOptions struct {
	Namespace, CABundle, Image, URL, NoMatch string
}

// NewCmdManifests builds `admission manifests`.
func NewCmdManifests(f *cli.Factory, runF func(context.Context, *ManifestsOptions) error) *cobra.Command {
	opts := &ManifestsOptions{}
	cmd := &cobra.Command{
		Use:   "manifests --namespace NS --ca-bundle FILE",
		Short: "Print the manifests that install signet admission",
		Long: `Print, for kubectl apply -f -, the manifests of deploy/: the ClusterImagePolicy
CRD (conversion None), the namespace, service account and RBAC, the
Deployment and Service, and the mutating and validating webhook
configurations (failurePolicy Fail, timeoutSeconds 25, namespaces labelled
policy.sigstore.dev/include=true). --ca-bundle is the PEM CA that issued the
webhook's certificate (secret signet-admission-tls in the namespace).`,
		Args: cobra.NoArgs,
		Annotations: map[string]string{
			cli.NoEnvBindingAnnotation: "true",
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			out, err := Manifests(opts)
			if err != nil {
				return err
			}
			_, err = f.IOStreams.Out.Write(out)
			return err
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&opts.Namespace, "namespace", "signet-system", "namespace to install into")
	fs.StringVar(&opts.CABundle, "ca-bundle", "", "PEM CA certificate(s) the API server trusts for the webhook")
	fs.StringVar(&opts.Image, "image", "ghcr.io/signetdev/signet:latest", "signet container image (pin a digest)")
	fs.StringVar(&opts.URL, "webhook-url", "", "call the webhook at this https:// base URL instead of the in-cluster service (e.g. a webhook outside the cluster)")
	fs.StringVar(&opts.NoMatch, "no-match-policy", "deny", "images no policy matches: deny, warn or allow")
	return cmd
}

type manifestData struct {
	ManifestsOptions
	Path string
}

// WithPath is the data for one webhook's clientConfig.
func (d manifestData) WithPath(p string) manifestData {
	d.Path = p
	return d
}

// Manifests renders deploy/ for the options.
func Manifests(o *ManifestsOptions) ([]byte, error) {
	if o.CABundle == "" {
		return nil, errors.New("--ca-bundle is required: the API server must trust the webhook's certificate")
	}
	pemData, err := fileutil.ReadLimit(o.CABundle, 1<<20)
	if err != nil {
		return nil, fmt.Errorf("--ca-bundle %s: %w", o.CABundle, err)
	}
	if certs, err := trust.ParseCertificatesPEM(pemData); err != nil || len(certs) == 0 {
		return nil, fmt.Errorf("--ca-bundle %s: no PEM certificate", o.CABundle)
	}
	if !dns1123().MatchString(o.Namespace) {
		return nil, fmt.Errorf("--namespace %q: not a valid namespace name", o.Namespace)
	}
	if o.NoMatch != "deny" && o.NoMatch != "warn" && o.NoMatch != "allow" {
		return nil, fmt.Errorf("--no-match-policy %q: want deny, warn or allow", o.NoMatch)
	}
	if strings.ContainsAny(o.Image, " \n\"'{}") || o.Image == "" {
		return nil, fmt.Errorf("--image %q: not an image reference", o.Image)
	}
	if o.URL != "" {
		u, err := url.Parse(o.URL)
		if err != nil || u.Scheme != "https" || u.Host == "" || u.RawQuery != "" {
			return nil, fmt.Errorf("--webhook-url %q: want https://HOST[:PORT][/PATH]", o.URL)
		}
		o.URL = strings.TrimSuffix(o.URL, "/")
	}
	d := manifestData{ManifestsOptions: *o}
	d.CABundle = base64.StdEncoding.EncodeToString(pemData)
	var out bytes.Buffer
	for i, name := range deploy.Order {
		raw, err := deploy.Files.ReadFile(name)
		if err != nil {
			return nil, err
		}
		if i > 0 {
			out.WriteString("---\n")
		}
		if !strings.HasSuffix(name, ".tmpl") {
			out.Write(raw)
			continue
		}
		t, err := template.New(name).Option("missingkey=error").Parse(string(raw))
		if err != nil {
			return nil, fmt.Errorf("deploy/%s: %w", name, err)
		}
		if err := t.Execute(&out, d); err != nil {
			return nil, fmt.Errorf("deploy/%s: %w", name, err)
		}
	}
	return out.Bytes(), nil
}

// Compiled on first use: its {0,61} makes a 44 KB program that every
// signet run would otherwise build at start-up.
var dns1123 = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)
})
