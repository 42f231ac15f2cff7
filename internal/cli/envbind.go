package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// envName is the COSIGN_<FLAG> variable cosign reads for a flag:
// "certificate-identity" → COSIGN_CERTIFICATE_IDENTITY.
func envName(flag string) string {
	return "COSIGN_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// noEnvBinding marks commands that, as in cosign, don't read flags from
// the environment (their flags are global or meaningless there).
const noEnvBinding = NoEnvBindingAnnotation

// NoEnvBindingAnnotation, set to "true" on a command, turns COSIGN_<FLAG>
// binding off for it.
const NoEnvBindingAnnotation = "signet/no-env-binding"

// NoEnvFlag, as a flag annotation, keeps that flag from being set by its
// COSIGN_<FLAG> variable: signet's own flags whose variable cosign reads
// for another flag (COSIGN_OUTPUT is sign-blob's signature file, and
// would otherwise break verify-blob -o in the same CI job).
const NoEnvFlag = "signet/no-env"

// bindEnv sets every flag the user did not give on the command line from
// its COSIGN_<FLAG> variable, if set. A command-line flag always wins.
func bindEnv(cmd *cobra.Command, getenv func(string) string) error {
	if cmd.Annotations[noEnvBinding] == "true" {
		return nil
	}
	var errs []error
	cmd.Flags().VisitAll(func(fl *pflag.Flag) {
		if fl.Changed || fl.Name == "help" || fl.Annotations[NoEnvFlag] != nil {
			return
		}
		name := envName(fl.Name)
		v := getenv(name)
		if v == "" {
			return
		}
		// Slice flags take a comma-separated list, as viper splits them.
		if err := cmd.Flags().Set(fl.Name, v); err != nil {
			errs = append(errs, fmt.Errorf("environment variable %s: %w", name, err))
		}
	})
	if len(errs) > 0 {
		return errs[0]
	}
	return nil
}
