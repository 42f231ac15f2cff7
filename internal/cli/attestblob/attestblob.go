// Package attestblob is the `signet attest-blob` verb: an in-toto
// statement about a blob, signed in a DSSE envelope, logged and bundled.
package attestblob

import (
	"context"
	"crypto"
	"encoding/hex"
	"errors"
	"fmt"
	"path"

	"github.com/spf13/cobra"

	"github.com/signetdev/signet/internal/cli"
	"github.com/signetdev/signet/internal/cli/flags"
	"github.com/signetdev/signet/pkg/artifact"
	"github.com/signetdev/signet/pkg/attestation"
	"github.com/signetdev/signet/pkg/signer"
)

// Options are the inputs of attest-blob.
type Options struct {
	Signer flags.Signer

	Predicate flags.Predicate
	Hash      string

	Bundle            string
	NewBundleFormat   bool
	OutputAttestation string
	OutputSignature   string
	OutputCertificate string
	RFC3161Timestamp  string

	Artifact string
}

// NewCmdAttestBlob builds the verb; runF replaces the run function in tests.
func NewCmdAttestBlob(f *cli.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "attest-blob [flags] FILE",
		Short: "Attest the supplied blob",
		Long: `Make an in-toto statement about a blob (its sha256 as subject, --predicate of
--type), sign it in a DSSE envelope (keyless or with --key), log it in Rekor
and write a Sigstore bundle. --statement signs a ready-made statement
instead; --hash names the blob by its digest when it is stored elsewhere.`,
		Example: `  signet attest-blob --yes --predicate provenance.json --type slsaprovenance1 \
    --bundle app.tar.gz.att.sigstore.json app.tar.gz`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Artifact = args[0]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return run(cmd.Context(), f, opts)
		},
	}
	fs := cmd.Flags()
	opts.Signer.AddFlags(fs, "path to the X.509 certificate for signing attestation")
	opts.Predicate.AddFlags(fs)
	fs.StringVar(&opts.Hash, "hash", "", "hash of blob in hexadecimal (base16). Used if you want to sign an artifact stored elsewhere and have the hash")
	fs.StringVar(&opts.Bundle, "bundle", "", "write everything required to verify the blob to a FILE")
	fs.BoolVar(&opts.NewBundleFormat, "new-bundle-format", true, "output bundle in new format that contains all verification material")
	flags.Deprecated(fs, "new-bundle-format", "this will be the only supported format in future versions")
	fs.StringVar(&opts.OutputAttestation, "output-attestation", "", "write the attestation to FILE")
	flags.Deprecated(fs, "output-attestation", "please use --bundle to provide the output bundle location, which will include the attestation")
	fs.StringVar(&opts.OutputSignature, "output-signature", "", "write the signature to FILE")
	flags.Deprecated(fs, "output-signature", "please use --bundle to provide the output bundle location, which will include the signature")
	fs.StringVar(&opts.OutputCertificate, "output-certificate", "", "write the certificate to FILE")
	flags.Deprecated(fs, "output-certificate", "please use --bundle to provide the output bundle location, which will include the certificate")
	fs.StringVar(&opts.RFC3161Timestamp, "rfc3161-timestamp-bundle", "", "path to an RFC 3161 timestamp bundle FILE")
	flags.Deprecated(fs, "rfc3161-timestamp-bundle", "please use --bundle to provide the output bundle location, which will include the signed timestamp")
	return cmd
}

func run(ctx context.Context, f *cli.Factory, o *Options) error {
	if err := o.Predicate.Validate(); err != nil {
		return err
	}
	if o.Bundle == "" && o.OutputSignature == "" && o.OutputAttestation == "" {
		o.Bundle = o.Artifact + ".att.sigstore.json"
		if o.Artifact == "-" {
			return errors.New("--bundle is required when the blob is read from standard input")
		}
	}
	payload, err := statement(f, o)
	if err != nil {
		return err
	}
	s, services, err := o.Signer.New(ctx, f, o.Artifact == "-" && o.Hash == "" && o.Predicate.Statement == "")
	if err != nil {
		return err
	}
	if o.RFC3161Timestamp != "" && len(services.TSAs) == 0 {
		return errors.New("--rfc3161-timestamp-bundle: no timestamp authority is configured")
	}
	b, err := s.Sign(ctx, signer.DSSE(attestation.PayloadType, payload))
	if err != nil {
		return fmt.Errorf("attesting %s: %w", o.Artifact, err)
	}

	var outs flags.Outputs
	if o.Bundle != "" {
		var data []byte
		if o.NewBundleFormat {
			data, err = b.MarshalJSON()
		} else {
			data, err = signer.LegacyBundle(b)
		}
		if err != nil {
			return err
		}
		outs.Add(o.Bundle, data, "Wrote bundle to file "+o.Bundle)
	}
	if o.OutputSignature != "" {
		// cosign v2 wrote the DSSE envelope as the "signature".
		sig, err := signer.SignatureFile(b, false)
		if err != nil {
			return err
		}
		outs.Add(o.OutputSignature, sig, "Signature written in "+o.OutputSignature)
	}
	if o.OutputAttestation != "" {
		outs.Add(o.OutputAttestation, payload, "Attestation written in "+o.OutputAttestation)
	}
	if o.OutputCertificate != "" {
		c := signer.CertificateFile(b, false)
		if c == nil {
			return errors.New("--output-certificate: signed with a key, there is no certificate to write")
		}
		outs.Add(o.OutputCertificate, c, "Certificate written to file "+o.OutputCertificate)
	}
	if o.RFC3161Timestamp != "" {
		ts, err := signer.TimestampFile(b)
		if err != nil {
			return err
		}
		outs.Add(o.RFC3161Timestamp, ts, "Timestamp written in "+o.RFC3161Timestamp)
	}
	if err := outs.Write(f.IOStreams.ErrOut); err != nil {
		return err
	}
	// cosign prints the signed envelope unless it was written to a file.
	if o.OutputSignature == "" {
		env, err := signer.SignatureFile(b, false)
		if err != nil {
			return err
		}
		fmt.Fprintln(f.IOStreams.Out, string(env))
	}
	return nil
}

// statement is the payload to sign: --statement as given (checked), or a
// statement built from --predicate about the blob.
func statement(f *cli.Factory, o *Options) ([]byte, error) {
	if o.Predicate.Statement != "" {
		fmt.Fprintf(f.IOStreams.ErrOut, "Using statement from: %s\n", o.Predicate.Statement)
		return o.Predicate.ReadStatement()
	}
	pred, err := o.Predicate.ReadPredicate()
	if err != nil {
		return nil, err
	}
	var sum []byte
	if o.Hash != "" {
		d, err := artifact.NewDigest("sha256", o.Hash)
		if err != nil {
			return nil, fmt.Errorf("--hash: %w", err)
		}
		sum = d.Value
	} else {
		if o.Artifact != "-" {
			fmt.Fprintf(f.IOStreams.ErrOut, "Using payload from: %s\n", o.Artifact)
		}
		sums, err := artifact.Sum(artifact.FromFile(o.Artifact, f.IOStreams.In), crypto.SHA256)
		if err != nil {
			return nil, err
		}
		sum = sums[crypto.SHA256]
	}
	st, err := attestation.NewStatement(o.Predicate.Type, path.Base(o.Artifact), sum, pred, f.Now())
	if err != nil {
		return nil, fmt.Errorf("--predicate %s: %w", o.Predicate.Predicate, err)
	}
	f.Debugf("statement subject %s sha256:%s", path.Base(o.Artifact), hex.EncodeToString(sum))
	return st, nil
}
