// Package flags holds the flag groups several verbs share. Each group has
// AddFlags and a conversion to the core type it feeds, so verbs never
// interpret flags themselves.
package flags

import (
	"fmt"

	"github.com/spf13/pflag"

	"github.com/signetdev/signet/pkg/verifier"
)

// Identity is who must have signed: cosign's certificate flags plus one
// exact/regexp pair per Fulcio extension (signet's addition).
type Identity struct {
	Identity, IdentityRegexp string
	Issuer, IssuerRegexp     string
	// extensions holds, per verifier.Claims entry, the exact and regexp
	// values, in the same order.
	extensions [][2]string
}

// githubLegacy are cosign's --certificate-github-workflow-* flags: exact
// only, on the legacy OIDs .2–.6 (as cosign's CheckCertificatePolicy).
var githubLegacy = map[string]string{
	"github-workflow-trigger":    "contains the event_name claim from the GitHub OIDC Identity token that contains the name of the event that triggered the workflow run",
	"github-workflow-sha":        "contains the sha claim from the GitHub OIDC Identity token that contains the commit SHA that the workflow run was based upon.",
	"github-workflow-name":       "contains the workflow claim from the GitHub OIDC Identity token that contains the name of the executed workflow.",
	"github-workflow-repository": "contains the repository claim from the GitHub OIDC Identity token that contains the repository that the workflow run was based upon",
	"github-workflow-ref":        "contains the ref claim from the GitHub OIDC Identity token that contains the git ref that the workflow run was based upon.",
}

// AddFlags registers the identity flags.
func (o *Identity) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Identity, "certificate-identity", "",
		"The identity expected in a valid Fulcio certificate. Valid values include email address, DNS names, IP addresses, and URIs. Either --certificate-identity or --certificate-identity-regexp must be set for keyless flows.")
	fs.StringVar(&o.IdentityRegexp, "certificate-identity-regexp", "",
		"A regular expression alternative to --certificate-identity. Accepts the Go regular expression syntax described at https://golang.org/s/re2syntax. Either --certificate-identity or --certificate-identity-regexp must be set for keyless flows.")
	fs.StringVar(&o.Issuer, "certificate-oidc-issuer", "",
		"The OIDC issuer expected in a valid Fulcio certificate, e.g. https://token.actions.githubusercontent.com or https://oauth2.sigstore.dev/auth. Either --certificate-oidc-issuer or --certificate-oidc-issuer-regexp must be set for keyless flows.")
	fs.StringVar(&o.IssuerRegexp, "certificate-oidc-issuer-regexp", "",
		"A regular expression alternative to --certificate-oidc-issuer. Accepts the Go regular expression syntax described at https://golang.org/s/re2syntax. Either --certificate-oidc-issuer or --certificate-oidc-issuer-regexp must be set for keyless flows.")

	o.extensions = make([][2]string, len(verifier.Claims))
	for i, c := range verifier.Claims {
		name := "certificate-" + c.Name
		if doc, ok := githubLegacy[c.Name]; ok {
			fs.StringVar(&o.extensions[i][0], name, "", doc)
			continue
		}
		fs.StringVar(&o.extensions[i][0], name, "", fmt.Sprintf("expected %s in the Fulcio certificate (exact match)", c.Doc))
		fs.StringVar(&o.extensions[i][1], name+"-regexp", "", fmt.Sprintf("a regular expression alternative to --%s (Go RE2, not anchored: use ^…$)", name))
	}
}

// ToIdentity builds the verifier's identity, rejecting invalid patterns
// and exact/regexp pairs given together.
func (o *Identity) ToIdentity() (verifier.Identity, error) {
	var id verifier.Identity
	var err error
	if id.SAN, err = verifier.NewMatcher("certificate-identity", o.Identity, o.IdentityRegexp); err != nil {
		return id, err
	}
	if id.Issuer, err = verifier.NewMatcher("certificate-oidc-issuer", o.Issuer, o.IssuerRegexp); err != nil {
		return id, err
	}
	for i, c := range verifier.Claims {
		if i >= len(o.extensions) {
			break
		}
		name := "certificate-" + c.Name
		m, err := verifier.NewMatcher(name, o.extensions[i][0], o.extensions[i][1])
		if err != nil {
			return id, err
		}
		if !m.IsZero() {
			id.Extensions = append(id.Extensions, verifier.ExtensionMatcher{OID: c.OID.String(), Name: "--" + name, Matcher: m})
		}
	}
	return id, nil
}
