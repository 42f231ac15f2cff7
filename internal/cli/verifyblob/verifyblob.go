// Package verifyblob is the `signet verify-blob` verb, and the driver it
// shares with verify-blob-attestation.
package verifyblob

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"sync"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/spf13/cobra"

	"github.com/signetdev/signet/internal/cli"
	"github.com/signetdev/signet/internal/cli/flags"
	"github.com/signetdev/signet/internal/cli/output"
	"github.com/signetdev/signet/internal/progress"
	"github.com/signetdev/signet/pkg/verifier"

	"github.com/signetdev/signet/pkg/artifact"
)

// Options are the inputs of verify-blob.
type Options struct {
	Trust     flags.Trust
	Verify    flags.Verify
	Signature flags.BlobSignature
	Output    output.Format
	// Artifact is a path, "-" for stdin, or <alg>:<hex>.
	Artifact string
}

// NewCmdVerifyBlob builds the verb; runF replaces the run function in tests.
func NewCmdVerifyBlob(f *cli.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "verify-blob [flags] ARTIFACT|sha256:HEX",
		Short: "Verify a signature on the supplied blob",
		Long: `Verify a signature on the supplied blob: a Sigstore bundle (v0.1–v0.3) or a
legacy cosign bundle, against a trusted root, offline.

A bundle's RFC 3161 timestamps are always verified and used as the signing
time. Besides cosign's flags, every Fulcio certificate extension can be
pinned: --certificate-<name> (exact) or --certificate-<name>-regexp.`,
		Example: `  # keyless, from a GitLab CI job
  signet verify-blob --bundle app.tar.gz.sigstore.json \
    --certificate-identity https://gitlab.com/acme/app//.gitlab-ci.yml@refs/heads/main \
    --certificate-oidc-issuer https://gitlab.com \
    --certificate-source-repository-ref refs/heads/main app.tar.gz

  # with a public key
  signet verify-blob --key cosign.pub --bundle app.bundle app.tar.gz

  # only the digest is at hand
  signet verify-blob --bundle app.bundle --certificate-identity … --certificate-oidc-issuer … sha256:<hex>`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Artifact = args[0]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return Run(cmd.Context(), f, opts)
		},
	}
	opts.Trust.AddFlags(cmd.Flags())
	opts.Verify.AddFlags(cmd.Flags())
	opts.Signature.AddFlags(cmd.Flags(), "signature content or path or remote URL")
	// cosign's verify-blob has no -o; signet's means what it means on
	// cosign's verify: the output format.
	opts.Output.AddFlag(cmd.Flags(), "output", "o")
	return cmd
}

// Run verifies a blob signature.
func Run(ctx context.Context, f *cli.Factory, opts *Options) error {
	if err := opts.Output.Check(); err != nil {
		return err
	}
	art, err := ResolveArtifact(opts.Artifact, f)
	if err != nil {
		return err
	}
	if art.Digest == nil {
		art.Open = progress.File(f.IOStreams, opts.Output.JSON(), opts.Artifact).Open(art.Open)
	}
	return Verify(ctx, f, Request{Trust: &opts.Trust, Verify: &opts.Verify, Signature: &opts.Signature, Artifact: art, JSON: opts.Output.JSON()})
}

// Request is one blob verification, as both blob verbs describe it.
type Request struct {
	Trust     *flags.Trust
	Verify    *flags.Verify
	Signature *flags.BlobSignature
	Artifact  artifact.Artifact
	// Adjust refines the policy (verify-blob-attestation's --type and
	// --check-claims).
	Adjust func(*verifier.Policy)
	// Then runs on the verified bundle before "Verified OK"
	// (verify-blob-attestation's --policy); an error fails the run.
	Then func(context.Context, *bundle.Bundle, *verifier.Result) error
	// JSON prints what was verified on stdout (docs/JSON-OUTPUT.md).
	JSON bool
}

// Verified is verify-blob's JSON output: what was verified, by whom.
type Verified struct {
	Verified bool `json:"verified"`
	// Artifact is left out when none was checked (an attestation
	// verified with --check-claims=false and no blob).
	Artifact string `json:"artifact,omitempty"`
	Bundle   string `json:"bundle,omitempty"`
	// SignedWith is "certificate" (keyless) or "key".
	SignedWith  string              `json:"signedWith"`
	Certificate *output.Certificate `json:"certificate,omitempty"`
	// Timestamps are the verified signing times (log and TSA).
	Timestamps []output.Timestamp `json:"timestamps"`
	// PredicateType is the verified statement's, for an attestation.
	PredicateType string `json:"predicateType,omitempty"`
}

// Verify runs the request and reports "Verified OK" on stderr, as cosign.
func Verify(ctx context.Context, f *cli.Factory, r Request) error {
	p, err := r.Verify.Policy(ctx, f)
	if err != nil {
		return err
	}
	if r.Adjust != nil {
		r.Adjust(&p)
	}
	b, err := r.Signature.Load(ctx, f, r.Trust.CertificateChain, p.AllowCertificateChain)
	if err != nil {
		return err
	}
	if r.Signature.Bundle == "" && !p.IgnoreTlogUnsafe && len(b.GetVerificationMaterial().GetTlogEntries()) == 0 {
		if b, err = lookUpEntry(ctx, f, r.Signature.RekorURL, b, r.Artifact); err != nil {
			return err
		}
	}
	var tm root.TrustedMaterial
	if needsTrustedRoot(p, r.Trust, len(b.GetVerificationMaterial().GetTimestampVerificationData().GetRfc3161Timestamps()) > 0) {
		if tm, err = r.Trust.Material(ctx, f); err != nil {
			return err
		}
	} else {
		// A key and no log or timestamp: nothing in a trusted root is
		// used, so none is loaded (cosign #4613).
		tm = &root.BaseTrustedMaterial{}
	}
	res, err := verifier.Verify(ctx, b, r.Artifact, p, tm)
	if err != nil {
		return err
	}
	if r.Then != nil {
		if err := r.Then(ctx, b, res); err != nil {
			return err
		}
	}
	fmt.Fprintln(f.IOStreams.ErrOut, "Verified OK")
	if !r.JSON {
		return nil
	}
	name := r.Artifact.Name
	if r.Artifact.Open == nil && r.Artifact.Digest == nil {
		name = ""
	}
	v := Verified{Verified: true, Artifact: name, Bundle: r.Signature.Bundle, SignedWith: "key",
		Certificate: output.NewCertificate(res.Certificate, res.Claims), Timestamps: output.NewTimestamps(res.Timestamps)}
	if res.Certificate != nil {
		v.SignedWith = "certificate"
	}
	if res.Statement != nil {
		v.PredicateType = res.Statement.GetPredicateType()
	}
	return output.Print(f.IOStreams.Out, v)
}

func needsTrustedRoot(p verifier.Policy, t *flags.Trust, hasTimestamps bool) bool {
	if p.Key == nil || !p.IgnoreTlogUnsafe || hasTimestamps || p.UseSignedTimestamps {
		return true
	}
	return t.TrustedRoot != ""
}

// digestArg is compiled on first use: nothing runs at start-up.
var digestArg = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^(sha256|sha384|sha512):[0-9a-fA-F]+$`)
})

// ResolveArtifact reads the ARTIFACT argument: a file, "-" for stdin, or a
// digest <alg>:<hex> when no file of that name exists.
func ResolveArtifact(arg string, f *cli.Factory) (artifact.Artifact, error) {
	if digestArg().MatchString(arg) {
		if _, err := os.Stat(arg); os.IsNotExist(err) {
			d, err := artifact.ParseDigest(arg)
			if err != nil {
				return artifact.Artifact{}, fmt.Errorf("artifact %s: %w", arg, err)
			}
			return artifact.Artifact{Name: arg, Digest: &d}, nil
		}
	}
	if arg != "-" {
		fi, err := os.Stat(arg)
		if err != nil {
			return artifact.Artifact{}, fmt.Errorf("artifact: %w", err)
		}
		if fi.IsDir() {
			return artifact.Artifact{}, fmt.Errorf("artifact %s is a directory", arg)
		}
	}
	return artifact.FromFile(arg, f.IOStreams.In), nil
}
