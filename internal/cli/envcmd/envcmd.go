// Package envcmd is `signet env`: the environment variables signet (as
// cosign) reads, with their values; secrets are masked unless asked for.
package envcmd

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/signetdev/signet/internal/cli"
	"github.com/signetdev/signet/internal/cli/regcmd"
)

// Options are the inputs of env.
type Options struct {
	ShowDescriptions    bool
	ShowSensitiveValues bool
}

// Variable is one registered environment variable.
type Variable struct {
	Name, Description, Expects string
	Sensitive                  bool
}

// Variables are the variables cosign v3.1.3 registers (pkg/cosign/env), which
// signet reads too, in name order.
var Variables = []Variable{
	{"ACTIONS_ID_TOKEN_REQUEST_TOKEN", "is the bearer token of the request for a GitHub Actions OIDC token", "string with a bearer token", true},
	{"ACTIONS_ID_TOKEN_REQUEST_URL", "is the URL of GitHub Actions' OIDC token service", "string with the URL of the OIDC token service", false},
	{"BUILDKITE_AGENT_ACCESS_TOKEN", "is the access token identifying the Buildkite agent", "string with an access token", true},
	{"BUILDKITE_AGENT_ENDPOINT", "is the Buildkite agent endpoint", "string with an endpoint", false},
	{"BUILDKITE_AGENT_LOG_LEVEL", "is the log level of the Buildkite agent", "string with a log level: debug, notice, info, error, warn or fatal (default: notice)", false},
	{"BUILDKITE_JOB_ID", "is the Buildkite job ID to claim in the OIDC token", "string with a job ID", false},
	{"COSIGN_DOCKER_MEDIA_TYPES", "makes signatures use Docker media types, for registries without OCI media types", "1 to use the Docker media types (0 by default)", false},
	{"COSIGN_EXPERIMENTAL", "turns on experimental features", "1 to turn experimental features on (0 by default)", false},
	{"COSIGN_MAX_ATTACHMENT_SIZE", "is the largest attachment downloaded (default 128MiB)", "a size such as 5120, 20K, 3M, 45MiB, 1GB", false},
	{"COSIGN_PASSWORD", "is the password of an encrypted private key, instead of a prompt", "string with a password (asked on the terminal by default)", true},
	{"COSIGN_PKCS11_IGNORE_CERTIFICATE", "stops certificates being loaded from a PKCS#11 token", "1 to ignore the token's certificates (0 by default)", false},
	{"COSIGN_PKCS11_MODULE_PATH", "is the PKCS#11 module path", "string with a module path", false},
	{"COSIGN_PKCS11_PIN", "is the PKCS#11 PIN when the key URI gives none", "string with a PIN", true},
	{"COSIGN_REPOSITORY", "is another repository to store signatures and attestations in", "string with a repository", false},
	{"GITHUB_HOST", "is the URL of a GitHub Enterprise instance", "string with the URL of the GitHub Enterprise instance", false},
	{"GITHUB_TOKEN", "is the token to authenticate to GitHub with", "a token made on GitHub", true},
	{"GITLAB_HOST", "is the URL of the GitLab instance", "string with the URL of the GitLab instance", false},
	{"GITLAB_TOKEN", "is the token to authenticate to GitLab with", "string with a token", true},
	{"GOOGLE_SERVICE_ACCOUNT_NAME", "is the service account the Google provider impersonates", "string with the service account's name", false},
	{"SIGSTORE_CT_LOG_PUBLIC_KEY_FILE", "replaces the CT log keys that verify Fulcio's SCTs", "path to the public key file", false},
	{"SIGSTORE_ID_TOKEN", "is an OIDC token to authenticate to Fulcio with", "string with an OIDC token", true},
	{"SIGSTORE_REKOR_PUBLIC_KEY", "replaces the Rekor log keys", "path to the public key", false},
	{"SIGSTORE_ROOT_FILE", "replaces the Fulcio root CAs of the trusted root", "path to the root CA", false},
	{"SIGSTORE_TSA_CERTIFICATE_FILE", "is the TSA's PEM chain (leaf, intermediates, root) to verify timestamps with", "path to the TSA certificate file", false},
	{"SOURCE_DATE_EPOCH", "replaces the current time, for reproducible builds (https://reproducible-builds.org/docs/source-date-epoch/)", "number of seconds since the Unix epoch", false},
	{"SPIFFE_ENDPOINT_SOCKET", "is the SPIFFE workload API socket to use", "string with the SPIFFE socket path", false},
	{"TUF_MIRROR", "is the URL of the TUF mirror; with TUF_ROOT_JSON, TUF metadata is refreshed from it when signing and verifying", "URL of the TUF mirror", false},
	{"TUF_ROOT", "is the TUF cache directory", "path to the TUF cache directory", false},
	{"TUF_ROOT_JSON", "is the TUF root.json to start a local TUF repository from; use with TUF_MIRROR", "path to root.json", false},
}

// NewCmdEnv builds the verb.
func NewCmdEnv(f *cli.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "env",
		Short: "Prints Cosign environment variables",
		Long: `Print the environment variables signet reads, as cosign does, with their
values, in cosign v3's format. Values of secrets (passwords, tokens,
PINs) and of every unregistered COSIGN_*, SIGSTORE_* or TUF_* variable
(COSIGN_<FLAG> may hold a registry password) are shown as ****** unless
--show-sensitive-values is given.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return Print(f.IOStreams.Out, f.Getenv, f.Environ(), opts)
		},
	}
	regcmd.NoEnv(cmd)
	cmd.Flags().BoolVar(&opts.ShowDescriptions, "show-descriptions", true, "show descriptions for environment variables")
	cmd.Flags().BoolVar(&opts.ShowSensitiveValues, "show-sensitive-values", false, "show values of sensitive environment variables")
	return cmd
}

const masked = "******"

// Print writes the registered variables, then any other COSIGN_*,
// SIGSTORE_* or TUF_* variable that is set.
func Print(w io.Writer, getenv func(string) string, environ []string, o *Options) error {
	known := map[string]bool{}
	for _, v := range Variables {
		known[v.Name] = true
		val := getenv(v.Name)
		if o.ShowDescriptions {
			fmt.Fprintf(w, "# %s %s\n# Expects: %s\n", v.Name, v.Description, v.Expects)
		}
		if v.Sensitive && !o.ShowSensitiveValues && val != "" {
			val = masked
		}
		fmt.Fprintf(w, "%s=%s\n", v.Name, val)
	}
	var other []string
	for _, kv := range environ {
		name, val, _ := strings.Cut(kv, "=")
		if known[name] || !(strings.HasPrefix(name, "COSIGN_") || strings.HasPrefix(name, "SIGSTORE_") || strings.HasPrefix(name, "TUF_")) {
			continue
		}
		// As cosign v3: an unregistered variable may be a flag's value
		// (COSIGN_REGISTRY_PASSWORD), so every one is masked.
		if !o.ShowSensitiveValues && val != "" {
			val = masked
		}
		other = append(other, name+"="+val)
	}
	slices.Sort(other)
	if len(other) > 0 && o.ShowDescriptions {
		fmt.Fprintln(w, "# Environment variables below are not registered with cosign,\n# but might still influence cosign's behavior.")
	}
	for _, l := range other {
		fmt.Fprintln(w, l)
	}
	return nil
}
