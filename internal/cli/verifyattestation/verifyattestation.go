// Package verifyattestation is the `signet verify-attestation` verb:
// verify for in-toto attestations, of one predicate type.
package verifyattestation

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/signetdev/signet/internal/cli"
	"github.com/signetdev/signet/internal/cli/verify"
	"github.com/signetdev/signet/pkg/attestation"
	"github.com/signetdev/signet/pkg/imagesig"
)

// Options are the inputs of verify-attestation.
type Options struct {
	verify.Common
	Type   string
	Policy []string
	Images []string
}

// NewCmdVerifyAttestation builds the verb; runF replaces the run function
// in tests.
func NewCmdVerifyAttestation(f *cli.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "verify-attestation [flags] IMAGE...",
		Short: "Verify an attestation on the supplied container image",
		Long: `Verify the in-toto attestations of container images: Sigstore bundles stored
as OCI referrers (cosign v3) and cosign's legacy sha256-<digest>.att images.
Only attestations of --type (default "custom") count, and only those whose
subject is the image's digest (--check-claims). An image signature
(predicate type https://sigstore.dev/cosign/sign/v1) is never taken as an
attestation. --policy (CUE/Rego) is not supported.

Exit codes: 10 no attestations, 11 image not found, 12 none verified, 13 a
keyless policy found only key-signed attestations.`,
		Example: `  signet verify-attestation --type slsaprovenance1 \
    --certificate-identity https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main \
    --certificate-oidc-issuer https://token.actions.githubusercontent.com ghcr.io/acme/app:v1`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Images = args
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return run(cmd.Context(), f, opts)
		},
	}
	fs := cmd.Flags()
	opts.Common.AddFlags(fs)
	fs.StringVar(&opts.Type, "type", "custom", "specify a predicate type (slsaprovenance|slsaprovenance02|slsaprovenance1|link|spdx|spdxjson|cyclonedx|vuln|openvex|custom) or an URI")
	fs.StringSliceVar(&opts.Policy, "policy", nil, "specify CUE or Rego files with policies to be used for validation (not supported by signet)")
	return cmd
}

func run(ctx context.Context, f *cli.Factory, opts *Options) error {
	if len(opts.Policy) > 0 {
		return errors.New("--policy: CUE and Rego policies are not supported in signet; check the printed statements with a policy engine of your choice")
	}
	pt, err := attestation.PredicateTypeURI(opts.Type)
	if err != nil {
		return fmt.Errorf("--type: %w", err)
	}
	return verify.Images(ctx, f, &opts.Common, opts.Images, imagesig.Request{Kind: imagesig.KindAttestation, PredicateType: pt})
}
