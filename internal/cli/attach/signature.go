package attach

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/signetdev/signet/internal/cli"
	"github.com/signetdev/signet/internal/cli/flags"
	"github.com/signetdev/signet/internal/cli/regcmd"
	"github.com/signetdev/signet/pkg/imagesig"
	"github.com/signetdev/signet/pkg/oci"
)

// SignatureOptions are the inputs of attach signature.
type SignatureOptions struct {
	Registry         flags.Registry
	Signature        string
	Payload          string
	Bundle           string
	Certificate      string
	CertificateChain string
	RekorResponse    string
	TSR              string
	TagPrefix        string
	Image            string
}

// NewCmdSignature builds attach signature.
func NewCmdSignature(f *cli.Factory, runF func(context.Context, *SignatureOptions) error) *cobra.Command {
	opts := &SignatureOptions{}
	cmd := &cobra.Command{
		Use:   "signature [flags] IMAGE",
		Short: "Attach signatures to the supplied container image",
		Example: `  signet attach signature --payload payload.json --signature payload.sig ghcr.io/acme/app@sha256:…
  signet attach signature --signature payload.sig --certificate cert.pem --certificate-chain chain.pem \
    --rekor-response rekor.json --tsr ts.der ghcr.io/acme/app@sha256:…`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Image = args[0]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runSignature(cmd.Context(), f, opts)
		},
	}
	fs := cmd.Flags()
	opts.Registry.AddFlags(fs)
	regcmd.AddTagPrefixFlag(fs, &opts.TagPrefix)
	fs.StringVar(&opts.Signature, "signature", "", "path to the signature, or {-} for stdin")
	fs.StringVar(&opts.Payload, "payload", "", "path to the payload covered by the signature")
	fs.StringVar(&opts.Bundle, "bundle", "", "path to bundle containing signature (alias for payload)")
	fs.StringVar(&opts.Certificate, "certificate", "", "path to the X.509 certificate in PEM format to include in the OCI Signature")
	fs.StringVar(&opts.CertificateChain, "certificate-chain", "", "path to a list of CA X.509 certificates in PEM format which will be needed when building the certificate chain for the signing certificate. Must start with the parent intermediate CA certificate of the signing certificate and end with the root certificate. Included in the OCI Signature")
	fs.StringVar(&opts.RekorResponse, "rekor-response", "", "path to the rekor bundle")
	fs.StringVar(&opts.TSR, "tsr", "", "path to the Time Stamped Signature Response from RFC3161 compliant TSA")
	return cmd
}

func runSignature(ctx context.Context, f *cli.Factory, opts *SignatureOptions) error {
	if err := regcmd.NoTagPrefix(opts.TagPrefix); err != nil {
		return err
	}
	if opts.Payload != "" && opts.Bundle != "" && opts.Payload != opts.Bundle {
		return errors.New("--bundle is an alias of --payload: give one of them")
	}
	payloadPath := opts.Payload
	if payloadPath == "" {
		payloadPath = opts.Bundle
	}
	if opts.Signature == "" {
		return errors.New("--signature is required: the path to the base64 signature, or - for stdin")
	}
	sig, err := readInput(f, "--signature", opts.Signature)
	if err != nil {
		return err
	}
	sig = bytes.TrimSpace(sig)
	if len(sig) == 0 {
		return fmt.Errorf("--signature %s: empty signature", opts.Signature)
	}
	if _, err := base64.StdEncoding.DecodeString(string(sig)); err != nil {
		return fmt.Errorf("--signature %s: want the base64 signature: %w", opts.Signature, err)
	}
	ann := map[string]string{oci.AnnotationSignature: string(sig)}
	if err := certificateAnnotations(f, opts, ann); err != nil {
		return err
	}
	if opts.RekorResponse != "" {
		b, err := readInput(f, "--rekor-response", opts.RekorResponse)
		if err != nil {
			return err
		}
		rb, err := ParseRekorResponse(b)
		if err != nil {
			return fmt.Errorf("--rekor-response %s: %w", opts.RekorResponse, err)
		}
		ann[oci.AnnotationBundle] = rb
	}
	if opts.TSR != "" {
		b, err := readInput(f, "--tsr", opts.TSR)
		if err != nil {
			return err
		}
		ts, err := TimestampAnnotation(b)
		if err != nil {
			return fmt.Errorf("--tsr %s: %w", opts.TSR, err)
		}
		ann[oci.AnnotationTimestamp] = ts
	}

	c, t, err := regcmd.Open(ctx, f, &opts.Registry, opts.Image)
	if err != nil {
		return err
	}
	var payload []byte
	if payloadPath == "" {
		payload, err = imagesig.NewSimpleSigning(t.Digest.Context().Name(), t.Descriptor.Digest, nil)
	} else {
		payload, err = readInput(f, "--payload", payloadPath)
	}
	if err != nil {
		return err
	}
	l := oci.Layer{MediaType: oci.SimpleSigningMediaType, Data: payload, Annotations: ann}
	if err := c.AppendLegacy(ctx, t.Digest, oci.SignatureSuffix, l, nil); err != nil {
		return fmt.Errorf("attach signature to %s: %w", opts.Image, err)
	}
	return nil
}

// certificateAnnotations adds --certificate and --certificate-chain as
// cosign stores them: the PEM as given, and a chain annotation (possibly
// empty) whenever there is a certificate.
func certificateAnnotations(f *cli.Factory, opts *SignatureOptions, ann map[string]string) error {
	if opts.CertificateChain != "" && opts.Certificate == "" {
		return errors.New("--certificate-chain needs --certificate")
	}
	if opts.Certificate == "" {
		return nil
	}
	cert, err := readPEM(f, "--certificate", opts.Certificate)
	if err != nil {
		return err
	}
	ann[oci.AnnotationCertificate] = string(cert)
	ann[oci.AnnotationChain] = ""
	if opts.CertificateChain != "" {
		chain, err := readPEM(f, "--certificate-chain", opts.CertificateChain)
		if err != nil {
			return err
		}
		ann[oci.AnnotationChain] = string(chain)
	}
	return nil
}
