package attach

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/signetdev/signet/internal/cli"
	"github.com/signetdev/signet/internal/cli/flags"
	"github.com/signetdev/signet/internal/cli/regcmd"
	"github.com/signetdev/signet/pkg/oci"
)

// AttestationOptions are the inputs of attach attestation.
type AttestationOptions struct {
	Registry     flags.Registry
	Attestations []string
	TagPrefix    string
	Image        string
}

// NewCmdAttestation builds attach attestation.
func NewCmdAttestation(f *cli.Factory, runF func(context.Context, *AttestationOptions) error) *cobra.Command {
	opts := &AttestationOptions{}
	cmd := &cobra.Command{
		Use:     "attestation [flags] IMAGE",
		Short:   "Attach attestation to the supplied container image",
		Example: "  signet attach attestation --attestation envelope.intoto.jsonl ghcr.io/acme/app@sha256:…",
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
	fs.StringArrayVar(&opts.Attestations, "attestation", nil, "path to the attestation envelope")
	return cmd
}

const intotoPayloadType = "application/vnd.in-toto+json"

type envelope struct {
	PayloadType string `json:"payloadType"`
	Payload     string `json:"payload"`
	Signatures  []struct {
		KeyID string `json:"keyid"`
		Sig   string `json:"sig"`
	} `json:"signatures"`
}

// ParseEnvelopes splits an --attestation file into DSSE envelopes (one
// JSON document, or JSON lines) and returns each one's bytes and the
// predicateType of its in-toto statement.
func ParseEnvelopes(data []byte) ([][]byte, []string, error) {
	var docs [][]byte
	dec := json.NewDecoder(bytes.NewReader(data))
	for {
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("envelope %d: %w", len(docs)+1, err)
		}
		docs = append(docs, raw)
		if len(docs) > oci.MaxLayers {
			return nil, nil, fmt.Errorf("more than %d envelopes", oci.MaxLayers)
		}
	}
	if len(docs) == 0 {
		return nil, nil, errors.New("payload is empty")
	}
	types := make([]string, len(docs))
	for i, d := range docs {
		var env envelope
		if err := json.Unmarshal(d, &env); err != nil {
			return nil, nil, fmt.Errorf("envelope %d: %w", i+1, err)
		}
		if env.PayloadType != intotoPayloadType {
			return nil, nil, fmt.Errorf("envelope %d: invalid payloadType %q on envelope, expected %s", i+1, env.PayloadType, intotoPayloadType)
		}
		if len(env.Signatures) == 0 {
			return nil, nil, fmt.Errorf("envelope %d: could not attach attestation without having signatures", i+1)
		}
		stmt, err := base64.StdEncoding.DecodeString(env.Payload)
		if err != nil {
			return nil, nil, fmt.Errorf("envelope %d: payload is not base64: %w", i+1, err)
		}
		var s struct {
			PredicateType string `json:"predicateType"`
		}
		if err := json.Unmarshal(stmt, &s); err != nil {
			return nil, nil, fmt.Errorf("envelope %d: payload is not an in-toto statement: %w", i+1, err)
		}
		types[i] = s.PredicateType
	}
	return docs, types, nil
}

func runAttestation(ctx context.Context, f *cli.Factory, opts *AttestationOptions) error {
	if err := regcmd.NoTagPrefix(opts.TagPrefix); err != nil {
		return err
	}
	if len(opts.Attestations) == 0 {
		return errors.New("--attestation is required: the path to a DSSE envelope (or JSON lines of envelopes)")
	}
	var layers []oci.Layer
	for _, p := range opts.Attestations {
		fmt.Fprintln(f.IOStreams.ErrOut, "Using payload from:", p)
		data, err := readInput(f, "--attestation", p)
		if err != nil {
			return err
		}
		docs, types, err := ParseEnvelopes(data)
		if err != nil {
			return fmt.Errorf("--attestation %s: %w", p, err)
		}
		for i, d := range docs {
			layers = append(layers, oci.Layer{MediaType: oci.DSSEMediaType, Data: d, Annotations: map[string]string{
				oci.AnnotationPredicateType: types[i],
				oci.AnnotationSignature:     "",
			}})
		}
	}
	c, t, err := regcmd.Open(ctx, f, &opts.Registry, opts.Image)
	if err != nil {
		return err
	}
	for _, l := range layers {
		if err := c.AppendLegacy(ctx, t.Digest, oci.AttestationSuffix, l, nil); err != nil {
			return fmt.Errorf("attach attestation to %s: %w", opts.Image, err)
		}
	}
	return nil
}
