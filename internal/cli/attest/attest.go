// Package attest is the `signet attest` verb: an in-toto statement about
// a container image, signed in a DSSE envelope and stored beside it.
package attest

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/signetdev/signet/internal/cli"
	"github.com/signetdev/signet/internal/cli/flags"
	"github.com/signetdev/signet/internal/cli/regcmd"
	"github.com/signetdev/signet/pkg/attestation"
	"github.com/signetdev/signet/pkg/imagesig"
	"github.com/signetdev/signet/pkg/oci"
	"github.com/signetdev/signet/pkg/signer"
)

// Options are the inputs of attest.
type Options struct {
	Signer   flags.Signer
	Registry flags.Registry

	Predicate flags.Predicate

	NoUpload        bool
	Replace         bool
	NewBundleFormat bool
	Bundle          string

	RecordCreationTimestamp bool
	AttachmentTagPrefix     string

	Images []string
}

// NewCmdAttest builds the verb; runF replaces the run function in tests.
func NewCmdAttest(f *cli.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "attest [flags] IMAGE [IMAGE...]",
		Short: "Attest the supplied container image",
		Long: `Make an in-toto statement about a container image (its digest as subject,
--predicate of --type), sign it in a DSSE envelope (keyless or with --key),
log it in Rekor and store it beside the image: as an OCI 1.1 referrer
holding the Sigstore bundle (default), or in cosign's legacy
sha256-<hex>.att image with --new-bundle-format=false.`,
		Example: `  signet attest --yes --predicate provenance.json --type slsaprovenance1 \
    registry.example.com/app@sha256:…`,
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
	opts.Predicate.AddFlags(fs)
	fs.BoolVar(&opts.NoUpload, "no-upload", false, "do not upload the generated attestation, but send the attestation output to STDOUT")
	fs.BoolVar(&opts.Replace, "replace", false, "")
	flags.Deprecated(fs, "replace", "not needed when OCI referrers become the default behavior")
	fs.BoolVar(&opts.NewBundleFormat, "new-bundle-format", true, "attach a Sigstore bundle using OCI referrers API")
	flags.Deprecated(fs, "new-bundle-format", "this will be the only supported format in future versions")
	fs.StringVar(&opts.Bundle, "bundle", "", "write everything required to verify the blob to a FILE")
	fs.BoolVar(&opts.RecordCreationTimestamp, "record-creation-timestamp", false, "set the createdAt timestamp in the attestation artifact to the time it was created; by default, cosign sets this to the zero value")
	flags.Deprecated(fs, "record-creation-timestamp", "not used with the new bundle format")
	regcmd.AddTagPrefixFlag(fs, &opts.AttachmentTagPrefix)
	return cmd
}

func run(ctx context.Context, f *cli.Factory, o *Options) error {
	if err := o.Predicate.Validate(); err != nil {
		return err
	}
	if err := regcmd.NoTagPrefix(o.AttachmentTagPrefix); err != nil {
		return err
	}
	if o.RecordCreationTimestamp && !o.NewBundleFormat {
		return errors.New("--record-creation-timestamp: signet writes attestation images with the zero creation time, as cosign does by default")
	}
	if o.Replace && o.NewBundleFormat {
		return errors.New("--replace applies to the legacy .att image: add --new-bundle-format=false")
	}
	input, err := readInput(f, o)
	if err != nil {
		return err
	}
	client, err := o.Registry.Client(f)
	if err != nil {
		return err
	}
	targets, err := regcmd.Targets(ctx, f, client, o.Images, false, "")
	if err != nil {
		return err
	}
	if o.Bundle != "" && len(targets) > 1 {
		return fmt.Errorf("--bundle names one file, and this run attests %d images", len(targets))
	}
	s, services, err := o.Signer.New(ctx, f, false)
	if err != nil {
		return err
	}
	how := imagesig.StoreBundleReferrer
	if !o.NewBundleFormat {
		how = imagesig.StoreLegacyTag
		if err := imagesig.CheckLegacyServices(services); err != nil {
			return err
		}
	}

	var outs flags.Outputs
	for _, t := range targets {
		payload, err := input.statement(t, f.Now())
		if err != nil {
			return err
		}
		st, err := attestImage(ctx, f, s, t, payload, how)
		if err != nil {
			return err
		}
		if o.NoUpload {
			env, err := signer.SignatureFile(st.Bundle, false)
			if err != nil {
				return err
			}
			fmt.Fprintln(f.IOStreams.Out, string(env))
		} else {
			var replace func(oci.Layer) bool
			if o.Replace {
				replace = func(l oci.Layer) bool { return l.Annotations[oci.AnnotationPredicateType] == st.PredicateType }
			}
			if err := imagesig.Store(ctx, client, t, st, how, oci.AttestationSuffix, replace); err != nil {
				return fmt.Errorf("storing the attestation of %s: %w", t.Digest, err)
			}
		}
		if o.Bundle != "" {
			data, err := st.Bundle.MarshalJSON()
			if err != nil {
				return err
			}
			outs.Add(o.Bundle, data, "Wrote bundle to file "+o.Bundle)
		}
	}
	return outs.Write(f.IOStreams.ErrOut)
}

// input is --statement (checked once) or --predicate (a statement per
// image is built from it).
type input struct {
	typeFlag  string
	predicate []byte
	given     []byte
}

func readInput(f *cli.Factory, o *Options) (input, error) {
	if o.Predicate.Statement != "" {
		fmt.Fprintf(f.IOStreams.ErrOut, "Using statement from: %s\n", o.Predicate.Statement)
		data, err := o.Predicate.ReadStatement()
		return input{given: data}, err
	}
	fmt.Fprintf(f.IOStreams.ErrOut, "Using payload from: %s\n", o.Predicate.Predicate)
	pred, err := o.Predicate.ReadPredicate()
	return input{typeFlag: o.Predicate.Type, predicate: pred}, err
}

// statement is the statement to sign for t. A --statement must name t's
// digest among its subjects: signing a statement about another image
// would store it where it does not belong.
func (in input) statement(t oci.Target, now time.Time) ([]byte, error) {
	if in.given == nil {
		sum, err := hex.DecodeString(t.Descriptor.Digest.Hex)
		if err != nil {
			return nil, err
		}
		st, err := attestation.NewStatement(in.typeFlag, t.Ref.Context().Name(), sum, in.predicate, now)
		if err != nil {
			return nil, fmt.Errorf("--predicate: %w", err)
		}
		return st, nil
	}
	st, err := attestation.ParseStatement(in.given)
	if err != nil {
		return nil, err
	}
	for _, s := range st.Subject {
		if s.Digest[t.Descriptor.Digest.Algorithm] == t.Descriptor.Digest.Hex {
			return in.given, nil
		}
	}
	return nil, fmt.Errorf("--statement: no subject has the digest of %s", t.Digest)
}

func attestImage(ctx context.Context, f *cli.Factory, s *signer.Signer, t oci.Target, payload []byte, how imagesig.Storage) (imagesig.Stored, error) {
	st := imagesig.Stored{Created: f.Now().UTC().Format(time.RFC3339)}
	parsed, err := attestation.ParseStatement(payload)
	if err != nil {
		return st, err
	}
	st.PredicateType = parsed.PredicateType
	if st.Bundle, err = s.Sign(ctx, signer.DSSE(attestation.PayloadType, payload)); err != nil {
		return st, fmt.Errorf("attesting %s: %w", t.Digest, err)
	}
	if how == imagesig.StoreLegacyTag {
		if st.Layer, err = imagesig.AttestationLayer(st.Bundle, st.PredicateType, s.Chain()); err != nil {
			return st, err
		}
	}
	return st, nil
}
