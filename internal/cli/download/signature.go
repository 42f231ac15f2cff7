package download

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/signetdev/signet/internal/cli"
	"github.com/signetdev/signet/internal/cli/flags"
	"github.com/signetdev/signet/internal/cli/regcmd"
	"github.com/signetdev/signet/pkg/oci"
)

// SignatureOptions are the inputs of download signature.
type SignatureOptions struct {
	Registry  flags.Registry
	TagPrefix string
	Image     string
}

// NewCmdSignature builds download signature.
func NewCmdSignature(f *cli.Factory, runF func(context.Context, *SignatureOptions) error) *cobra.Command {
	opts := &SignatureOptions{}
	cmd := &cobra.Command{
		Use:     "signature [flags] IMAGE",
		Short:   "Download signatures from the supplied container image",
		Example: "  signet download signature ghcr.io/acme/app:v1",
		Args:    cobra.ExactArgs(1),
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
	return cmd
}

// signedPayload is cosign's JSON line for a legacy signature
// (cosign.SignedPayload): the same field names and order; certificates
// as Go's encoding/json renders *x509.Certificate, as cosign prints them.
type signedPayload struct {
	Base64Signature  string
	Payload          []byte
	Cert             *x509.Certificate
	Chain            []*x509.Certificate
	Bundle           *json.RawMessage
	RFC3161Timestamp *json.RawMessage
}

// SignatureLine renders one legacy signature layer as cosign's download
// signature prints it. Unparseable annotations are errors, not silently
// dropped fields.
func SignatureLine(l oci.Layer) ([]byte, error) {
	sp := signedPayload{Base64Signature: l.Annotations[oci.AnnotationSignature], Payload: l.Data}
	if s := strings.TrimSpace(l.Annotations[oci.AnnotationCertificate]); s != "" {
		certs, err := parseCerts(s)
		if err != nil || len(certs) == 0 {
			return nil, fmt.Errorf("layer %s: certificate annotation: %v", l.Digest, errOr(err, "no certificate"))
		}
		sp.Cert = certs[0]
		if c := strings.TrimSpace(l.Annotations[oci.AnnotationChain]); c != "" {
			if sp.Chain, err = parseCerts(c); err != nil {
				return nil, fmt.Errorf("layer %s: chain annotation: %w", l.Digest, err)
			}
		}
	}
	for k, dst := range map[string]**json.RawMessage{oci.AnnotationBundle: &sp.Bundle, oci.AnnotationTimestamp: &sp.RFC3161Timestamp} {
		if v := l.Annotations[k]; v != "" {
			if !json.Valid([]byte(v)) {
				return nil, fmt.Errorf("layer %s: annotation %s is not JSON", l.Digest, k)
			}
			raw := json.RawMessage(v)
			*dst = &raw
		}
	}
	return json.Marshal(sp)
}

func errOr(err error, msg string) string {
	if err != nil {
		return err.Error()
	}
	return msg
}

func parseCerts(s string) ([]*x509.Certificate, error) {
	rest := []byte(s)
	var out []*x509.Certificate
	for len(out) < 100 {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			break
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

func runSignature(ctx context.Context, f *cli.Factory, opts *SignatureOptions) error {
	if err := regcmd.NoTagPrefix(opts.TagPrefix); err != nil {
		return err
	}
	c, t, err := regcmd.Open(ctx, f, &opts.Registry, opts.Image)
	if err != nil {
		return err
	}
	// cosign v3 prints the bundles when there are any, else the legacy
	// signatures.
	refs, err := c.Referrers(ctx, t.Digest, oci.BundleMediaType)
	if err != nil {
		return fmt.Errorf("listing referrers of %s: %w", opts.Image, err)
	}
	var lines [][]byte
	for _, r := range refs {
		for _, l := range r.Layers {
			b, err := compact(l.Data)
			if err != nil {
				return fmt.Errorf("bundle %s: %w", r.Descriptor.Digest, err)
			}
			lines = append(lines, b)
		}
	}
	if len(lines) == 0 {
		layers, err := c.ReadLegacy(ctx, t.Digest, oci.SignatureSuffix)
		if err != nil {
			return fmt.Errorf("reading signatures of %s: %w", opts.Image, err)
		}
		for _, l := range layers {
			b, err := SignatureLine(l)
			if err != nil {
				return err
			}
			lines = append(lines, b)
		}
	}
	if len(lines) == 0 {
		return fmt.Errorf("%s: no signatures associated", opts.Image)
	}
	for _, b := range lines {
		fmt.Fprintln(f.IOStreams.Out, string(b))
	}
	return nil
}

func compact(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
