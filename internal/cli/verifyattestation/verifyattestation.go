// Package verifyattestation is the `signet verify-attestation` verb:
// verify for in-toto attestations, of one predicate type.
package verifyattestation

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/signetdev/signet/internal/cli"
	"github.com/signetdev/signet/internal/cli/attpolicy"
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
attestation.

--policy FILE.cue|FILE.rego (repeatable, comma-separated) checks the whole
in-toto statement of every verified attestation, as cosign does: all CUE
files unified into one instance the statement must satisfy; Rego files in
package signature with a boolean allow (data.signature.allow), Rego v0
syntax or v1 with "import rego.v1". One failing attestation fails the run
and nothing is printed on stdout. Policy files are read and compiled before
any network request. See docs/POLICIES.md.

Exit codes: 1 a policy failed (as cosign), 10 no attestations, 11 image not
found, 12 none verified, 13 a keyless policy found only key-signed
attestations.`,
		Example: `  signet verify-attestation --type slsaprovenance1 \
    --certificate-identity https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main \
    --certificate-oidc-issuer https://token.actions.githubusercontent.com ghcr.io/acme/app:v1

  signet verify-attestation --type cyclonedx --policy sbom.cue --policy vuln.rego --key cosign.pub ghcr.io/acme/app:v1`,
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
	attpolicy.AddFlag(fs, &opts.Policy)
	return cmd
}

func run(ctx context.Context, f *cli.Factory, opts *Options) error {
	pt, err := attestation.PredicateTypeURI(opts.Type)
	if err != nil {
		return fmt.Errorf("--type: %w", err)
	}
	checker, err := attpolicy.Load(ctx, f.PolicyEngine, opts.Policy)
	if err != nil {
		return err
	}
	var then verify.Then
	if checker != nil {
		then = func(ctx context.Context, _ string, vs []imagesig.Verified) error {
			atts := make([]attpolicy.Attestation, len(vs))
			for i, v := range vs {
				atts[i] = attpolicy.Attestation{Statement: v.Payload, Name: pt + ", " + v.Origin}
			}
			return checker.Check(ctx, f.IOStreams.ErrOut, atts)
		}
	}
	err = verify.ImagesThen(ctx, f, &opts.Common, opts.Images, imagesig.Request{Kind: imagesig.KindAttestation, PredicateType: pt}, then)
	var nm *imagesig.NoMatchError
	if errors.As(err, &nm) {
		if types, ok := nm.OtherTypes(); ok {
			// cosign's words; signet's exit code (12: found, none verified),
			// except for --local-image, where every failure exits 1.
			mismatch := fmt.Errorf("none of the attestations matched the predicate type: %s, found: %s", opts.Type, strings.Join(types, ","))
			var local *verify.LocalImageError
			if errors.As(err, &local) {
				return &verify.LocalImageError{Dir: local.Dir, Err: mismatch}
			}
			return cli.WithExitCode(cli.ExitNoMatchingSignature, mismatch)
		}
	}
	return err
}
