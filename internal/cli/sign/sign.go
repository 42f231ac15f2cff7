// Package sign is the `signet sign` verb: sign container images in their
// registry, keylessly or with a key, with one certificate for all of them.
package sign

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/signetdev/signet/internal/batch"
	"github.com/signetdev/signet/internal/cli"
	"github.com/signetdev/signet/internal/cli/flags"
	"github.com/signetdev/signet/internal/cli/regcmd"
	"github.com/signetdev/signet/internal/fileutil"
	"github.com/signetdev/signet/internal/progress"
	"github.com/signetdev/signet/pkg/artifact"
	"github.com/signetdev/signet/pkg/attestation"
	"github.com/signetdev/signet/pkg/imagesig"
	"github.com/signetdev/signet/pkg/oci"
	"github.com/signetdev/signet/pkg/signer"
)

// Options are the inputs of sign.
type Options struct {
	Signer   flags.Signer
	Registry flags.Registry

	Annotations     []string
	Recursive       bool
	Upload          bool
	NewBundleFormat bool
	Bundle          string

	// cosign v2-era flags, deprecated in v3 and still in CI scripts.
	Payload                 string
	OutputSignature         string
	OutputPayload           string
	OutputCertificate       string
	Attachment              string
	AttachmentTagPrefix     string
	SignContainerIdentity   []string
	RecordCreationTimestamp bool

	Images []string
}

// NewCmdSign builds the verb; runF replaces the run function in tests.
func NewCmdSign(f *cli.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "sign [flags] IMAGE [IMAGE...]",
		Short: "Sign the supplied container image",
		Long: `Sign container images where they are stored. A tag is resolved to its digest
and the digest is signed. Keyless (an OIDC identity token is exchanged for a
short-lived Fulcio certificate) or with --key; the signature is logged in
Rekor and timestamped as the signing config says.

By default (cosign v3) the Sigstore bundle is stored as an OCI 1.1 referrer
of the image (with the referrers tag fallback on registries without the
referrers API); --new-bundle-format=false stores cosign's legacy
sha256-<hex>.sig image instead. All images of one run share one
certificate.`,
		Example: `  # in CI, right after the push
  signet sign --yes registry.example.com/app@sha256:…

  # a multi-arch index and every image in it
  signet sign --yes -r registry.example.com/app:v1.2.3

  # with a key, legacy .sig storage
  signet sign --key cosign.key --new-bundle-format=false registry.example.com/app@sha256:…`,
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
	opts.Signer.AddFlags(fs, "path to the X.509 certificate in PEM format to include in the OCI Signature")
	opts.Registry.AddFlags(fs)
	opts.Registry.AddReferrersModeFlag(fs)
	fs.StringSliceVarP(&opts.Annotations, "annotations", "a", nil, "extra key=value pairs to sign")
	fs.BoolVarP(&opts.Recursive, "recursive", "r", false, "if a multi-arch image is specified, additionally sign each discrete image")
	fs.BoolVar(&opts.Upload, "upload", true, "whether to upload the signature")
	fs.BoolVar(&opts.NewBundleFormat, "new-bundle-format", true, "expect the signature/attestation to be packaged in a Sigstore bundle")
	flags.Deprecated(fs, "new-bundle-format", "this will be the only supported format in future versions")
	fs.StringVar(&opts.Bundle, "bundle", "", "write everything required to verify the image to FILE")
	fs.StringVar(&opts.Payload, "payload", "", "path to a payload file to use rather than generating one")
	flags.Deprecated(fs, "payload", "payload will always be generated automatically in future versions")
	fs.StringVar(&opts.OutputSignature, "output-signature", "", "write the signature to FILE")
	flags.Deprecated(fs, "output-signature", "please use --bundle to provide the output bundle location, which will include the signature")
	fs.StringVar(&opts.OutputPayload, "output-payload", "", "write the signed payload to FILE")
	flags.Deprecated(fs, "output-payload", "please use --bundle to provide the output bundle location, which will include the payload")
	fs.StringVar(&opts.OutputCertificate, "output-certificate", "", "write the certificate to FILE")
	flags.Deprecated(fs, "output-certificate", "please use --bundle to provide the output bundle location, which will include the certificate")
	fs.StringVar(&opts.Attachment, "attachment", "", "DEPRECATED, related image attachment to sign (sbom), default none")
	flags.Deprecated(fs, "attachment", "please use OCI referrers for attachments; see `cosign attach sbom --registry-referrers-mode=oci-1-1 --help`")
	regcmd.AddTagPrefixFlag(fs, &opts.AttachmentTagPrefix)
	fs.StringSliceVar(&opts.SignContainerIdentity, "sign-container-identity", nil, "manually set the .critical.docker-reference field for the signed identity, which is useful when image proxies are being used where the pull reference should match the signature, this flag is comma delimited. ex: --sign-container-identity=identity1,identity2")
	flags.Deprecated(fs, "sign-container-identity", "not possible when OCI referrers become the default behavior")
	fs.BoolVar(&opts.RecordCreationTimestamp, "record-creation-timestamp", false, "set the createdAt timestamp in the signature artifact to the time it was created; by default, cosign sets this to the zero value")
	flags.Deprecated(fs, "record-creation-timestamp", "not used with the new bundle format")
	return cmd
}

func run(ctx context.Context, f *cli.Factory, o *Options) error {
	ann, err := flags.ParseAnnotations(o.Annotations)
	if err != nil {
		return err
	}
	if err := o.check(); err != nil {
		return err
	}
	var payload []byte
	if o.Payload != "" {
		if payload, err = fileutil.ReadLimit(o.Payload, oci.DefaultMaxAttachmentSize); err != nil {
			return fmt.Errorf("--payload %s: %w", o.Payload, err)
		}
		if _, err := imagesig.ParseSimpleSigning(payload); err != nil {
			return fmt.Errorf("--payload %s: %w", o.Payload, err)
		}
	}
	client, err := o.Registry.Client(f)
	if err != nil {
		return err
	}
	// Every image is resolved before a certificate is requested or a log
	// entry made: a mistyped reference costs nothing.
	targets, err := regcmd.Targets(ctx, f, client, o.Images, o.Recursive, o.Attachment)
	if err != nil {
		return err
	}
	if err := o.checkOutputs(len(targets)); err != nil {
		return err
	}
	s, services, err := o.Signer.New(ctx, f, false)
	if err != nil {
		return err
	}
	how := o.storage()
	if how != imagesig.StoreBundleReferrer {
		if err := imagesig.CheckLegacyServices(services); err != nil {
			return err
		}
	}

	bar := progress.Count(f.IOStreams, false, len(targets), "signing")
	results := signAll(ctx, f.IOStreams.ErrOut, bar, targets, func(ctx context.Context, t oci.Target, say func(string)) (imagesig.Stored, []byte, error) {
		st, p, err := signImage(ctx, f, s, t, ann, payload, o)
		if err != nil || !o.Upload {
			return st, p, err
		}
		repo, err := client.StorageRepository(t.Digest)
		if err != nil {
			return st, p, err
		}
		say("Pushing signature to: " + repo.Name())
		if err := imagesig.Store(ctx, client, t, st, how, oci.SignatureSuffix, nil); err != nil {
			return st, p, fmt.Errorf("storing the signature of %s: %w", t.Digest, err)
		}
		return st, p, nil
	})
	if err := failures(results); err != nil {
		return err
	}
	var outs flags.Outputs
	for _, r := range results {
		if err := o.addOutputs(&outs, r.stored, r.payload); err != nil {
			return err
		}
		if !o.Upload && o.Bundle == "" && o.OutputSignature == "" {
			if err := printUnuploaded(f, r.stored, how); err != nil {
				return err
			}
		}
	}
	return outs.Write(f.IOStreams.ErrOut)
}

func (o *Options) check() error {
	if err := regcmd.NoTagPrefix(o.AttachmentTagPrefix); err != nil {
		return err
	}
	if o.NewBundleFormat {
		for flag, set := range map[string]bool{
			"--payload":                 o.Payload != "",
			"--sign-container-identity": len(o.SignContainerIdentity) > 0,
			"--output-payload":          o.OutputPayload != "",
		} {
			if set {
				return fmt.Errorf("%s applies to legacy simple-signing signatures: add --new-bundle-format=false", flag)
			}
		}
		// --registry-referrers-mode=legacy changes nothing here: cosign v3
		// stores a bundle as a referrer whatever the mode (checked on the
		// local stack), and scripts pass it.
	} else if o.RecordCreationTimestamp {
		return errors.New("--record-creation-timestamp: signet writes signature images with the zero creation time, as cosign does by default")
	}
	if len(o.SignContainerIdentity) > 1 {
		return errors.New("--sign-container-identity: signet signs one docker-reference per signature; give one identity")
	}
	return nil
}

// checkOutputs rejects file outputs that would name several signatures.
func (o *Options) checkOutputs(n int) error {
	if n == 1 {
		return nil
	}
	for flag, v := range map[string]string{"--bundle": o.Bundle, "--output-signature": o.OutputSignature, "--output-payload": o.OutputPayload, "--output-certificate": o.OutputCertificate, "--payload": o.Payload} {
		if v != "" {
			return fmt.Errorf("%s names one file, and this run signs %d images", flag, n)
		}
	}
	return nil
}

func (o *Options) storage() imagesig.Storage {
	switch {
	case o.NewBundleFormat:
		return imagesig.StoreBundleReferrer
	case o.Registry.ReferrersMode == flags.ReferrersModeOCI11:
		return imagesig.StoreLegacyReferrer
	default:
		return imagesig.StoreLegacyTag
	}
}

// signImage signs one image: cosign v3's in-toto sign statement in a
// DSSE envelope, or (legacy) the simple-signing payload as a message
// signature. It returns what to store and the payload that was signed.
func signImage(ctx context.Context, f *cli.Factory, s *signer.Signer, t oci.Target, ann map[string]string, payload []byte, o *Options) (imagesig.Stored, []byte, error) {
	st := imagesig.Stored{PredicateType: imagesig.SignPredicateType, Created: f.Now().UTC().Format(time.RFC3339)}
	var err error
	if o.NewBundleFormat {
		if payload, err = imagesig.NewSignStatement(t.Descriptor.Digest, ann); err != nil {
			return st, nil, err
		}
		if st.Bundle, err = s.Sign(ctx, signer.DSSE(attestation.PayloadType, payload)); err != nil {
			return st, nil, fmt.Errorf("signing %s: %w", t.Digest, err)
		}
		return st, payload, nil
	}
	if payload == nil {
		identity := t.Ref.Context().Name()
		if len(o.SignContainerIdentity) == 1 {
			identity = o.SignContainerIdentity[0]
		}
		if payload, err = imagesig.NewSimpleSigning(identity, t.Descriptor.Digest, ann); err != nil {
			return st, nil, err
		}
	}
	if s.Hash() == 0 {
		return st, nil, errors.New("--new-bundle-format=false: an ed25519 key cannot sign a legacy payload by its digest; use an ECDSA or RSA key, or the default bundle format")
	}
	h := s.Hash().New()
	h.Write(payload)
	d := artifact.Digest{Algorithm: s.Hash(), Value: h.Sum(nil)}
	if st.Bundle, err = s.Sign(ctx, signer.Digest(d)); err != nil {
		return st, nil, fmt.Errorf("signing %s: %w", t.Digest, err)
	}
	if st.Layer, err = imagesig.SignatureLayer(st.Bundle, payload, s.Chain()); err != nil {
		return st, nil, err
	}
	return st, payload, nil
}

// addOutputs queues the v2-era output files and --bundle.
func (o *Options) addOutputs(outs *flags.Outputs, st imagesig.Stored, payload []byte) error {
	if o.Bundle != "" {
		data, err := st.Bundle.MarshalJSON()
		if err != nil {
			return err
		}
		outs.Add(o.Bundle, data, "Wrote bundle to file "+o.Bundle)
	}
	if o.OutputSignature != "" {
		sig, err := signer.SignatureFile(st.Bundle, true)
		if err != nil {
			return err
		}
		outs.Add(o.OutputSignature, sig, "Signature written in "+o.OutputSignature)
	}
	if o.OutputPayload != "" {
		outs.Add(o.OutputPayload, payload, "Payload written in "+o.OutputPayload)
	}
	if o.OutputCertificate != "" {
		c := signer.CertificateFile(st.Bundle, false)
		if c == nil {
			return errors.New("--output-certificate: signed with a key, there is no certificate to write")
		}
		outs.Add(o.OutputCertificate, c, "Certificate written in "+o.OutputCertificate)
	}
	return nil
}

// printUnuploaded prints a signature that is neither uploaded nor written
// to a file (--upload=false), so it is not lost: the bundle, or the
// base64 signature as cosign v2 printed it.
func printUnuploaded(f *cli.Factory, st imagesig.Stored, how imagesig.Storage) error {
	if how == imagesig.StoreBundleReferrer {
		data, err := st.Bundle.MarshalJSON()
		if err != nil {
			return err
		}
		fmt.Fprintln(f.IOStreams.Out, string(data))
		return nil
	}
	sig, err := signer.SignatureFile(st.Bundle, true)
	if err != nil {
		return err
	}
	fmt.Fprintln(f.IOStreams.Out, string(sig))
	return nil
}

// signWorkers bounds how many images are signed and stored at once: the
// work is round trips to Rekor, the TSA and the registry.
const signWorkers = 8

type signed struct {
	target  oci.Target
	stored  imagesig.Stored
	payload []byte
	err     error
}

// signAll runs one(target) for every target, several at a time (all
// with the one signer). A failure does not stop the others. progress lines are
// written whole, one at a time.
func signAll(ctx context.Context, errOut io.Writer, bar *progress.Bar, targets []oci.Target,
	one func(context.Context, oci.Target, func(string)) (imagesig.Stored, []byte, error)) []signed {
	var mu sync.Mutex
	say := func(line string) {
		mu.Lock()
		defer mu.Unlock()
		bar.Println(errOut, line)
	}
	defer bar.Finish()
	results := make([]signed, len(targets))
	sem := make(chan struct{}, signWorkers)
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			var st imagesig.Stored
			var p []byte
			err := ctx.Err()
			if err == nil {
				st, p, err = one(ctx, t, say)
			} else {
				// The run is over (--timeout, Ctrl-C): images still
				// queued say so.
				err = fmt.Errorf("not started: %w", err)
			}
			results[i] = signed{target: t, stored: st, payload: p, err: err}
			mu.Lock()
			bar.Add(1)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return results
}

// failures is nil when every image was signed, the one error when the
// run had one image, and otherwise each cause once with the images it hit.
func failures(results []signed) error {
	var fails []batch.Failure
	for _, r := range results {
		if r.err != nil {
			fails = append(fails, batch.Failure{Name: r.target.Digest.String(), Err: r.err})
		}
	}
	if len(results) == 1 && len(fails) == 1 {
		return fails[0].Err
	}
	return batch.New("images", len(results), fails)
}
