// Package verifyblobattestation is the `signet verify-blob-attestation`
// verb: verify-blob for in-toto attestations, with a predicate type check.
package verifyblobattestation

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sigstore/sigstore-go/pkg/bundle"

	"github.com/signetdev/signet/internal/cli"
	"github.com/signetdev/signet/internal/cli/attpolicy"
	"github.com/signetdev/signet/internal/cli/flags"
	"github.com/signetdev/signet/internal/cli/output"
	"github.com/signetdev/signet/internal/cli/verifyblob"
	"github.com/signetdev/signet/pkg/attestation"
	"github.com/signetdev/signet/pkg/verifier"

	"github.com/signetdev/signet/pkg/artifact"
)

// Options are the inputs of verify-blob-attestation.
type Options struct {
	Trust     flags.Trust
	Verify    flags.Verify
	Signature flags.BlobSignature

	Type        string
	Policy      []string
	Digest      string
	DigestAlg   string
	CheckClaims bool
	Output      output.Format
	// Artifact is a path, "-", or empty when --digest is used.
	Artifact string
}

// NewCmdVerifyBlobAttestation builds the verb.
func NewCmdVerifyBlobAttestation(f *cli.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "verify-blob-attestation [flags] [ARTIFACT]",
		Short: "Verify an attestation on the supplied blob",
		Long: `Verify an in-toto attestation (a DSSE envelope in a Sigstore bundle) about a
blob: the signature, the signer, the predicate type (--type, default
"custom"; an attestation of another type is never accepted), and that the
blob (or --digest) is one of the statement's subjects.

--policy FILE.cue|FILE.rego (beyond cosign, which has no --policy here)
checks the verified in-toto statement with the semantics and messages of
verify-attestation --policy (docs/POLICIES.md). Policy files are read and
compiled before anything else; a failing policy exits 1.`,
		Example: `  signet verify-blob-attestation --bundle pkg.tgz.sigstore.json --type slsaprovenance1 \
    --certificate-identity https://github.com/acme/pkg/.github/workflows/release.yml@refs/heads/main \
    --certificate-oidc-issuer https://token.actions.githubusercontent.com pkg.tgz

  signet verify-blob-attestation --bundle pkg.tgz.sigstore.json --type slsaprovenance1 --policy slsa.rego \
    --certificate-identity … --certificate-oidc-issuer … pkg.tgz`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.Artifact = args[0]
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return run(cmd.Context(), f, opts)
		},
	}
	fs := cmd.Flags()
	opts.Trust.AddFlags(fs)
	opts.Verify.AddFlags(fs)
	opts.Signature.AddFlags(fs, "path to base64-encoded signature over attestation in DSSE format")
	fs.StringVar(&opts.Type, "type", "custom", "specify a predicate type (slsaprovenance|slsaprovenance02|slsaprovenance1|link|spdx|spdxjson|cyclonedx|vuln|openvex|custom) or an URI")
	attpolicy.AddFlag(fs, &opts.Policy)
	fs.StringVar(&opts.Digest, "digest", "", "Digest to use for verifying in-toto subject (instead of providing a blob)")
	fs.StringVar(&opts.DigestAlg, "digestAlg", "", "Digest algorithm to use for verifying in-toto subject (instead of providing a blob)")
	// cosign's verify-blob-attestation has no -o; as on verify-blob.
	opts.Output.AddFlag(fs, "output", "o")
	fs.BoolVar(&opts.CheckClaims, "check-claims", true, "if true, verifies the digest exists in the in-toto subject (using either the provided digest and digest algorithm or the provided blob's sha256 digest). If false, only the DSSE envelope is verified.")
	return cmd
}

func run(ctx context.Context, f *cli.Factory, opts *Options) error {
	if err := opts.Output.Check(); err != nil {
		return err
	}
	predicateType, err := attestation.PredicateTypeURI(opts.Type)
	if err != nil {
		return fmt.Errorf("--type: %w", err)
	}
	checker, err := attpolicy.Load(ctx, f.PolicyEngine, opts.Policy)
	if err != nil {
		return err
	}
	art, err := resolveArtifact(f, opts)
	if err != nil {
		return err
	}
	req := verifyblob.Request{
		Trust: &opts.Trust, Verify: &opts.Verify, Signature: &opts.Signature,
		Artifact: art,
		JSON:     opts.Output.JSON(),
		Adjust: func(p *verifier.Policy) {
			p.PredicateType = predicateType
			p.SkipArtifactUnsafe = !opts.CheckClaims
		},
	}
	if checker != nil {
		req.Then = func(ctx context.Context, b *bundle.Bundle, _ *verifier.Result) error {
			payload := b.GetDsseEnvelope().GetPayload()
			from := "--bundle " + opts.Signature.Bundle
			if opts.Signature.Bundle == "" {
				from = "--signature " + opts.Signature.Signature
			}
			name := fmt.Sprintf("%s, %s, payload sha256:%x", predicateType, from, sha256.Sum256(payload))
			return checker.Check(ctx, f.IOStreams.ErrOut, []attpolicy.Attestation{{Statement: payload, Name: name}})
		}
	}
	return verifyblob.Verify(ctx, f, req)
}

func resolveArtifact(f *cli.Factory, opts *Options) (artifact.Artifact, error) {
	switch {
	case opts.Digest != "" && opts.Artifact != "":
		return artifact.Artifact{}, errors.New("give either an artifact or --digest, not both")
	case opts.Digest != "":
		alg := opts.DigestAlg
		if alg == "" {
			return artifact.Artifact{}, errors.New("--digest needs --digestAlg (sha256, sha384 or sha512)")
		}
		d, err := artifact.NewDigest(alg, opts.Digest)
		if err != nil {
			return artifact.Artifact{}, fmt.Errorf("--digest: %w", err)
		}
		return artifact.Artifact{Name: d.String(), Digest: &d}, nil
	case opts.DigestAlg != "":
		return artifact.Artifact{}, errors.New("--digestAlg needs --digest")
	case opts.Artifact != "":
		return verifyblob.ResolveArtifact(opts.Artifact, f)
	case opts.CheckClaims:
		return artifact.Artifact{}, errors.New("an artifact or --digest/--digestAlg is required to check the attestation's subject (--check-claims=false skips the check)")
	}
	return artifact.Artifact{Name: "(none)"}, nil
}
