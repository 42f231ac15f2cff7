// Package verify is the `signet verify` verb, and the image verification
// driver it shares with verify-attestation.
package verify

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/signetdev/signet/internal/cli"
	"github.com/signetdev/signet/internal/cli/flags"
	"github.com/signetdev/signet/internal/cli/regcmd"
	"github.com/signetdev/signet/internal/redact"
	"github.com/signetdev/signet/pkg/imagesig"
	"github.com/signetdev/signet/pkg/oci"
)

// Options are the inputs of verify.
type Options struct {
	Common
	// Annotations are -a key=value pairs the payload must carry.
	Annotations []string
	// cosign's deprecated inputs; signet reads signatures from the
	// registry only.
	Attachment, Payload, Signature string
	Images                         []string
}

// Common are the flags verify and verify-attestation share.
type Common struct {
	Trust       flags.Trust
	Verify      flags.Verify
	Registry    flags.Registry
	CheckClaims bool
	Output      string
	LocalImage  bool

	AttachmentTagPrefix, Certificate, SCT, RekorURL, SignatureDigestAlgorithm string

	// detached, when set, replaces the registry as the source of the
	// image's signature (verify's deprecated --signature/--payload).
	detached func(ctx context.Context, d name.Digest) (imagesig.Source, error)
}

// AddFlags registers the shared flags.
func (o *Common) AddFlags(fs *pflag.FlagSet) {
	o.Trust.AddFlags(fs)
	o.Verify.AddFlags(fs)
	o.Registry.AddFlags(fs)
	fs.BoolVar(&o.CheckClaims, "check-claims", true, "whether to check the claims found (off: a payload naming another image is still accepted, with a warning)")
	fs.StringVarP(&o.Output, "output", "o", "json", "output format for the signing image information (json|text)")
	fs.BoolVar(&o.LocalImage, "local-image", false, "whether the specified image is a path to an image saved locally via 'cosign save'")
	hidden := func(name, msg string) { flags.Deprecated(fs, name, msg) }
	regcmd.AddTagPrefixFlag(fs, &o.AttachmentTagPrefix)
	fs.StringVar(&o.Certificate, "certificate", "", "path to the public certificate. The certificate will be verified against the Fulcio roots if the --certificate-chain option is not passed.")
	hidden("certificate", "please use --bundle with --trusted-root to provide the public certificate")
	fs.StringVar(&o.SCT, "sct", "", "path to a detached Signed Certificate Timestamp, formatted as a RFC6962 AddChainResponse struct. If a certificate contains an SCT, verification will check both the detached and embedded SCTs.")
	hidden("sct", "a Signed Certificate Timestamp is now provided via a Sigstore bundle")
	fs.StringVar(&o.RekorURL, "rekor-url", "https://rekor.sigstore.dev", "address of rekor STL server (used only to look up a detached --signature's log entry)")
	hidden("rekor-url", "please use --bundle, which includes the Rekor inclusion proof")
	fs.StringVar(&o.SignatureDigestAlgorithm, "signature-digest-algorithm", "sha256", "digest algorithm to use when processing a signature (sha224|sha256|sha384|sha512)")
	hidden("signature-digest-algorithm", "please use --bundle, which already includes the digest algorithm")
}

// NewCmdVerify builds the verb; runF replaces the run function in tests.
func NewCmdVerify(f *cli.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "verify [flags] IMAGE...",
		Short: "Verify a signature on the supplied container image",
		Long: `Verify the signatures of container images: Sigstore bundles stored as OCI
referrers (cosign v3) and cosign's legacy sha256-<digest>.sig images, both
looked up every time. A signature counts only for the digest it names.

Unlike cosign, verify never accepts an attestation as a signature: a bundle
counts only if it signs cosign's image statement
(https://sigstore.dev/cosign/sign/v1); use verify-attestation for others.
The docker-reference a legacy payload names is not checked (copies and
mirrors keep their signatures), as in cosign.

Exit codes: 10 no signatures, 11 image not found, 12 none verified, 13 a
keyless policy found only key-signed signatures.

With --local-image each argument is a directory written by save (signet's
or cosign's), verified offline; as in cosign, any failure exits 1.`,
		Example: `  signet verify --certificate-identity https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main \
    --certificate-oidc-issuer https://token.actions.githubusercontent.com ghcr.io/acme/app:v1

  signet verify --key cosign.pub -a env=prod ghcr.io/acme/app@sha256:…`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Images = args
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return Run(cmd.Context(), f, opts)
		},
	}
	fs := cmd.Flags()
	opts.Common.AddFlags(fs)
	fs.StringSliceVarP(&opts.Annotations, "annotations", "a", nil, "extra key=value pairs to sign")
	fs.StringVar(&opts.Attachment, "attachment", "", "DEPRECATED, related image attachment to verify (sbom), default none")
	flags.Deprecated(fs, "attachment", "please use OCI referrers for attachments and verify with `--experimental-oci11`")
	fs.StringVar(&opts.Payload, "payload", "", "payload path or remote URL")
	flags.Deprecated(fs, "payload", "payload will always be verified from the bundle in future versions")
	fs.StringVar(&opts.Signature, "signature", "", "signature content or path or remote URL")
	flags.Deprecated(fs, "signature", "signatures are automatically fetched from the OCI registry during image verification")
	return cmd
}

// Run verifies each image's signatures.
func Run(ctx context.Context, f *cli.Factory, opts *Options) error {
	switch {
	case opts.Attachment != "":
		return errors.New("--attachment: signet does not verify attachments (cosign deprecated them); verify referrers with verify-attestation")
	case opts.Payload != "" || opts.Signature != "":
		if len(opts.Images) != 1 || opts.LocalImage {
			return errors.New("--signature/--payload verify one image in a registry")
		}
		opts.detached = func(ctx context.Context, d name.Digest) (imagesig.Source, error) {
			l, err := detachedLayer(ctx, f, opts, d, simpleSigningFor(d))
			return detachedSource{l}, err
		}
	}
	ann, err := flags.ParseAnnotations(opts.Annotations)
	if err != nil {
		return err
	}
	return Images(ctx, f, &opts.Common, opts.Images, imagesig.Request{Kind: imagesig.KindSignature, Annotations: ann})
}

// Images verifies each image in turn with the request's kind, type and
// annotations, printing cosign's header and payloads; it stops at the
// first image that fails, with cosign's exit code.
func Images(ctx context.Context, f *cli.Factory, o *Common, images []string, req imagesig.Request) error {
	return ImagesThen(ctx, f, o, images, req, nil)
}

// Then runs on the verified signatures of one image before anything is
// printed (verify-attestation's --policy); an error fails the image.
type Then func(ctx context.Context, image string, vs []imagesig.Verified) error

// ImagesThen is Images with a Then hook.
func ImagesThen(ctx context.Context, f *cli.Factory, o *Common, images []string, req imagesig.Request, then Then) error {
	if o.Output != "json" && o.Output != "text" {
		return fmt.Errorf("--output %q: want json or text", o.Output)
	}
	if (o.Certificate != "" && o.detached == nil) || o.SCT != "" {
		return errors.New("--certificate/--sct: signet verifies the certificate stored with each signature (--certificate only goes with a detached --signature); use --trusted-root for the CAs")
	}
	if err := regcmd.NoTagPrefix(o.AttachmentTagPrefix); err != nil {
		return err
	}
	p, err := o.Verify.Policy(ctx, f)
	if err != nil {
		return err
	}
	if p.IgnoreTlogUnsafe {
		f.Warnf("Skipping tlog verification is an insecure practice that lacks transparency and auditability verification for the signature.")
	}
	ro, err := o.Registry.Options(f)
	if err != nil {
		return err
	}
	client := oci.New(ro)
	req.Policy = p
	req.CheckClaims = o.CheckClaims
	req.MaxWorkers = o.Verify.MaxWorkers
	req.Warnf = f.Warnf
	var loaded root.TrustedMaterial
	req.TrustedMaterial = func() (root.TrustedMaterial, error) {
		// imagesig calls this once.
		if loaded == nil {
			tm, err := o.Trust.Material(ctx, f)
			if err != nil {
				return nil, err
			}
			loaded = tm
		}
		return loaded, nil
	}
	for _, img := range images {
		var src imagesig.Source
		if o.LocalImage {
			src, req.Image, err = localImage(img, ro.MaxAttachmentSize)
		} else {
			src, req.Image, err = remoteImage(ctx, client, img)
		}
		if err == nil && o.detached != nil {
			src, err = o.detached(ctx, req.Image)
		}
		if err != nil {
			return err
		}
		if err := one(ctx, f, o, src, img, req, then); err != nil {
			return err
		}
	}
	return nil
}

func remoteImage(ctx context.Context, client *oci.Client, img string) (imagesig.Source, name.Digest, error) {
	ref, err := client.ParseReference(img)
	if err != nil {
		return nil, name.Digest{}, fmt.Errorf("image %q: %w", redact.Ref(img), err)
	}
	t, err := client.Resolve(ctx, ref)
	if err != nil {
		if errors.Is(err, oci.ErrNotFound) {
			return nil, name.Digest{}, cli.WithExitCode(cli.ExitImageTagNotFound, fmt.Errorf("image tag not found: %s: %w", img, err))
		}
		return nil, name.Digest{}, fmt.Errorf("resolving %s: %w", img, err)
	}
	return client, t.Digest, nil
}

// localImage opens a `cosign save` directory (--local-image: each
// argument is a path, as in cosign). The layout knows no repository, so
// the digest gets a placeholder one; only the digest is ever checked.
func localImage(dir string, maxAttachment int64) (imagesig.Source, name.Digest, error) {
	l, err := oci.OpenLayout(dir)
	if err != nil {
		return nil, name.Digest{}, fmt.Errorf("--local-image: %w", err)
	}
	s, err := l.Subject()
	if err != nil {
		return nil, name.Digest{}, fmt.Errorf("--local-image: %w", err)
	}
	d, err := name.NewDigest(localRepository + "@" + s.Digest.String())
	if err != nil {
		return nil, name.Digest{}, fmt.Errorf("--local-image %s: image digest %q: %w", dir, s.Digest, err)
	}
	return l.WithMaxAttachmentSize(maxAttachment), d, nil
}

// LocalImageError is a failure to verify a --local-image directory. It
// carries no exit code: cosign exits 1 for every --local-image failure,
// and a verb that rewords the cause (verify-attestation) must keep it so.
type LocalImageError struct {
	Dir string
	Err error
}

func (e *LocalImageError) Error() string { return "--local-image " + e.Dir + ": " + e.Err.Error() }
func (e *LocalImageError) Unwrap() error { return e.Err }

// localRepository names the saved image in messages.
const localRepository = "oci-layout/saved-image"

func one(ctx context.Context, f *cli.Factory, o *Common, src imagesig.Source, img string, req imagesig.Request, then Then) error {
	vs, err := imagesig.Verify(ctx, src, req)
	if err != nil {
		if o.LocalImage {
			return &LocalImageError{Dir: img, Err: err}
		}
		return withExitCode(err)
	}
	if then != nil {
		if err := then(ctx, img, vs); err != nil {
			return err
		}
	}
	imagesig.WriteHeader(f.IOStreams.ErrOut, img, imagesig.Checks{
		Annotations: len(req.Annotations) > 0, Claims: o.CheckClaims, Key: req.Policy.Key != nil,
	}, vs)
	if req.Kind == imagesig.KindAttestation {
		return imagesig.WriteAttestations(f.IOStreams.Out, f.IOStreams.ErrOut, vs)
	}
	ref := img
	if o.LocalImage {
		ref = "" // cosign names no reference for a saved image
	}
	return imagesig.WriteSignatures(f.IOStreams.Out, f.IOStreams.ErrOut, o.Output, ref, vs)
}

// withExitCode maps imagesig's errors to cosign's exit codes.
func withExitCode(err error) error {
	switch {
	case errors.Is(err, imagesig.ErrNoSignatures):
		return cli.WithExitCode(cli.ExitNoSignatures, err)
	case errors.Is(err, imagesig.ErrNoCertificate):
		return cli.WithExitCode(cli.ExitNoCertificate, err)
	case errors.Is(err, imagesig.ErrNoMatchingSignatures):
		return cli.WithExitCode(cli.ExitNoMatchingSignature, err)
	}
	return err
}
