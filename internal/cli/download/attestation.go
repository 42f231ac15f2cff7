package download

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/signetdev/signet/internal/cli"
	"github.com/signetdev/signet/internal/cli/flags"
	"github.com/signetdev/signet/internal/cli/regcmd"
	"github.com/signetdev/signet/pkg/attestation"
	"github.com/signetdev/signet/pkg/oci"
)

// AttestationOptions are the inputs of download attestation.
type AttestationOptions struct {
	Registry      flags.Registry
	PredicateType string
	Platform      string
	TagPrefix     string
	Image         string
}

// NewCmdAttestation builds download attestation.
func NewCmdAttestation(f *cli.Factory, runF func(context.Context, *AttestationOptions) error) *cobra.Command {
	opts := &AttestationOptions{}
	cmd := &cobra.Command{
		Use:     "attestation [flags] IMAGE",
		Short:   "Download in-toto attestations from the supplied container image",
		Example: "  signet download attestation --predicate-type slsaprovenance1 ghcr.io/acme/app:v1",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Image = args[0]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runAttestation(cmd.Context(), f, opts)
		},
	}
	fs := cmd.Flags()
	opts.Registry.AddFlags(fs)
	regcmd.AddTagPrefixFlag(fs, &opts.TagPrefix)
	fs.StringVar(&opts.PredicateType, "predicate-type", "", "download attestation with matching predicateType")
	fs.StringVar(&opts.Platform, "platform", "", "download attestation for a specific platform image")
	return cmd
}

// EnvelopeLine re-renders a legacy .att layer (a DSSE envelope) as
// cosign prints it: payloadType, payload, signatures[{keyid, sig}].
func EnvelopeLine(data []byte) ([]byte, error) {
	var env struct {
		PayloadType string `json:"payloadType"`
		Payload     string `json:"payload"`
		Signatures  []struct {
			KeyID string `json:"keyid"`
			Sig   string `json:"sig"`
		} `json:"signatures"`
	}
	if err := json.Unmarshal(data, &env); err != nil {
		return nil, fmt.Errorf("not a DSSE envelope: %w", err)
	}
	return json.Marshal(env)
}

func runAttestation(ctx context.Context, f *cli.Factory, opts *AttestationOptions) error {
	if err := regcmd.NoTagPrefix(opts.TagPrefix); err != nil {
		return err
	}
	var want string
	if opts.PredicateType != "" {
		var err error
		if want, err = attestation.PredicateTypeURI(opts.PredicateType); err != nil {
			return fmt.Errorf("--predicate-type: %w", err)
		}
	}
	c, t, err := regcmd.Open(ctx, f, &opts.Registry, opts.Image)
	if err != nil {
		return err
	}
	if t, err = regcmd.Platform(ctx, c, t, opts.Platform); err != nil {
		return err
	}
	// Both storages, as cosign does since #4996 (#4573): bundles first.
	var lines [][]byte
	refs, err := c.Referrers(ctx, t.Digest, oci.BundleMediaType)
	if err != nil {
		return fmt.Errorf("listing referrers of %s: %w", opts.Image, err)
	}
	for _, r := range refs {
		if want != "" && (r.Manifest == nil || r.Manifest.Annotations[oci.AnnotationBundlePredicateType] != want) {
			continue
		}
		for _, l := range r.Layers {
			b, err := compact(l.Data)
			if err != nil {
				return fmt.Errorf("bundle %s: %w", r.Descriptor.Digest, err)
			}
			lines = append(lines, b)
		}
	}
	layers, err := c.ReadLegacy(ctx, t.Digest, oci.AttestationSuffix)
	if err != nil {
		return fmt.Errorf("reading attestations of %s: %w", opts.Image, err)
	}
	for _, l := range layers {
		if want != "" && l.Annotations[oci.AnnotationPredicateType] != want {
			continue
		}
		b, err := EnvelopeLine(l.Data)
		if err != nil {
			return fmt.Errorf("attestation layer %s: %w", l.Digest, err)
		}
		lines = append(lines, b)
	}
	if want != "" && len(lines) == 0 {
		return fmt.Errorf("no attestations with predicate type '%s' found", want)
	}
	for _, b := range lines {
		fmt.Fprintln(f.IOStreams.Out, string(b))
	}
	return nil
}
