package bundle

import (
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/spf13/cobra"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/signetdev/signet/internal/cli"
	"github.com/signetdev/signet/internal/cli/flags"
	"github.com/signetdev/signet/internal/cli/regcmd"
	"github.com/signetdev/signet/internal/fileutil"
	"github.com/signetdev/signet/internal/trust"
	"github.com/signetdev/signet/pkg/artifact"
	"github.com/signetdev/signet/pkg/keys"
	"github.com/signetdev/signet/pkg/verifier"
)

// CreateOptions are the inputs of bundle create.
type CreateOptions struct {
	Artifact, Attestation, Bundle, Certificate, Key, Out, RekorURL, RFC3161Timestamp, Signature string

	IgnoreTlog bool
	Sk         bool
	Slot       string
}

// maxSmall bounds the detached files (signature, certificate, timestamp).
const maxSmall = 4 << 20

// NewCmdCreate builds `bundle create`.
func NewCmdCreate(f *cli.Factory, runF func(context.Context, *CreateOptions) error) *cobra.Command {
	opts := &CreateOptions{}
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Create a Sigstore protobuf bundle",
		Long: `Create a v0.3 Sigstore bundle from what cosign v2 wrote beside an artifact:
a legacy bundle (--bundle) or a signature (--signature, base64) or DSSE
envelope (--attestation), a certificate (--certificate, PEM or base64 PEM)
or key (--key), and an RFC 3161 timestamp (--rfc3161-timestamp). The Rekor
entry comes from --rekor-url: by the legacy bundle's log index, else found
by the signature's entry; --ignore-tlog leaves it out.`,
		Example: `  signet bundle create --artifact app.tar.gz --signature app.sig --certificate app.pem \
    --rfc3161-timestamp app.tsr.json --rekor-url https://rekor.sigstore.dev --out app.sigstore.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runCreate(cmd.Context(), f, opts)
		},
	}
	regcmd.NoEnv(cmd)
	fs := cmd.Flags()
	fs.StringVar(&opts.Artifact, "artifact", "", "path to artifact FILE")
	fs.StringVar(&opts.Attestation, "attestation", "", "path to attestation FILE")
	fs.StringVar(&opts.Bundle, "bundle", "", "path to old format bundle FILE")
	fs.StringVar(&opts.Certificate, "certificate", "", "path to the signing certificate, likely from Fulcio.")
	fs.BoolVar(&opts.IgnoreTlog, "ignore-tlog", false, "ignore transparency log verification, to be used when an artifact signature has not been uploaded to the transparency log.")
	fs.StringVar(&opts.Key, "key", "", "path to the public key file, KMS URI or Kubernetes Secret")
	fs.StringVar(&opts.Out, "out", "", "path to output bundle")
	fs.StringVar(&opts.RekorURL, "rekor-url", "https://rekor.sigstore.dev", "address of rekor STL server")
	flags.Deprecated(fs, "rekor-url", "please use a signing config to specify a rekor url; see `cosign signing-config --help`")
	fs.StringVar(&opts.RFC3161Timestamp, "rfc3161-timestamp", "", "path to RFC3161 timestamp FILE")
	fs.StringVar(&opts.Signature, "signature", "", "path to base64-encoded signature over attestation in DSSE format")
	fs.BoolVar(&opts.Sk, "sk", false, "whether to use a hardware security key")
	fs.StringVar(&opts.Slot, "slot", "signature", "security key slot to use for generated key (authentication|signature|card-authentication|key-management)")
	return cmd
}

func runCreate(ctx context.Context, f *cli.Factory, o *CreateOptions) error {
	switch {
	case o.Artifact == "":
		return errors.New("bundle create needs --artifact")
	case o.Bundle == "" && o.Signature == "" && o.Attestation == "":
		return errors.New("bundle create needs the signature: --bundle, --signature or --attestation")
	case o.Sk:
		return errors.New("--sk: this signet build has no hardware security key support")
	}
	parts, pubPEM, hint, err := o.parts(ctx, f)
	if err != nil {
		return err
	}
	sums, err := artifact.Sum(artifact.FromFile(o.Artifact, f.IOStreams.In), crypto.SHA256)
	if err != nil {
		return fmt.Errorf("--artifact: %w", err)
	}
	if parts.MessageDigest == nil {
		parts.MessageDigest = &artifact.Digest{Algorithm: crypto.SHA256, Value: sums[crypto.SHA256]}
	}
	pb, err := parts.Bundle()
	if err != nil {
		return err
	}
	if hint != "" && parts.Certificate == nil {
		pb.VerificationMaterial.Content = &protobundle.VerificationMaterial_PublicKey{PublicKey: &protocommon.PublicKeyIdentifier{Hint: hint}}
	}
	hasEntry := len(pb.GetVerificationMaterial().GetTlogEntries()) > 0
	switch {
	case o.IgnoreTlog && hasEntry:
		return errors.New("--ignore-tlog: the --bundle given holds a transparency log entry (with its Signed Entry Timestamp); drop --ignore-tlog")
	case !o.IgnoreTlog && !hasEntry:
		entry, err := proposedEntry(pb, parts.Signature, pubPEM)
		if err != nil {
			return err
		}
		found, err := rekorClient(f, o.RekorURL).ByEntry(ctx, entry)
		if err != nil {
			return fmt.Errorf("finding the signature's entry in the transparency log %s (--ignore-tlog to leave it out): %w", o.RekorURL, err)
		}
		pb.VerificationMaterial.TlogEntries = found[:1]
	}
	if err := verifier.AddInclusionProofs(ctx, pb, rekorClient(f, o.RekorURL).ByIndex); err != nil {
		return err
	}
	if err := verifier.ToV03(pb); err != nil {
		return err
	}
	return writeBundle(f, o.Out, pb)
}

// parts gathers the signature, certificate, key and timestamp, and the PEM
// of the key or certificate the log entry names.
func (o *CreateOptions) parts(ctx context.Context, f *cli.Factory) (p verifier.Parts, pubPEM []byte, hint string, err error) {
	if o.Bundle != "" {
		var data []byte
		data, err = fileutil.ReadLimit(o.Bundle, verifier.MaxBundleSize)
		if err != nil {
			return p, nil, "", fmt.Errorf("reading --bundle: %w", err)
		}
		if _, format, err := verifier.ParseBundle(data, true); err != nil {
			return p, nil, "", fmt.Errorf("--bundle %s: %w", o.Bundle, err)
		} else if format != verifier.FormatCosignLegacy {
			return p, nil, "", fmt.Errorf("--bundle %s is already a Sigstore bundle; use bundle upgrade", o.Bundle)
		}
		if p, err = verifier.LegacyParts(data); err != nil {
			return p, nil, "", fmt.Errorf("--bundle %s: %w", o.Bundle, err)
		}
	}
	if o.Signature != "" {
		data, err := fileutil.ReadLimit(o.Signature, maxSmall)
		if err != nil {
			return p, nil, "", fmt.Errorf("--signature: %w", err)
		}
		sig, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(data)))
		if err != nil || len(sig) == 0 {
			return p, nil, "", fmt.Errorf("--signature %s: not a base64 signature", o.Signature)
		}
		p.Signature = sig
	}
	if o.Attestation != "" {
		data, err := fileutil.ReadLimit(o.Attestation, verifier.MaxBundleSize)
		if err != nil {
			return p, nil, "", fmt.Errorf("--attestation: %w", err)
		}
		var env struct {
			PayloadType string `json:"payloadType"`
		}
		if json.Unmarshal(data, &env) != nil || env.PayloadType == "" {
			return p, nil, "", fmt.Errorf("--attestation %s: not a DSSE envelope", o.Attestation)
		}
		p.Signature = data
	}
	if o.Certificate != "" {
		data, err := fileutil.ReadLimit(o.Certificate, maxSmall)
		if err != nil {
			return p, nil, "", fmt.Errorf("--certificate: %w", err)
		}
		if dec, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(data))); err == nil {
			data = dec // cosign v2 wrote base64 of the PEM
		}
		certs, err := trust.ParseCertificatesPEM(data)
		if err != nil || len(certs) == 0 {
			return p, nil, "", fmt.Errorf("--certificate %s: no PEM certificate", o.Certificate)
		}
		p.Certificate, p.Chain = certs[0], nil
	}
	if p.Certificate != nil {
		pubPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.Certificate.Raw})
	}
	if o.Key != "" {
		v, err := keys.LoadVerifierContext(ctx, o.Key, f.Getenv)
		if err != nil {
			return p, nil, "", fmt.Errorf("--key: %w", err)
		}
		pub, err := v.PublicKey()
		if err != nil {
			return p, nil, "", fmt.Errorf("--key: %w", err)
		}
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			return p, nil, "", fmt.Errorf("--key: %w", err)
		}
		if p.Certificate == nil {
			pubPEM = pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
			// The hint sigstore-go's key signing writes: the key's SHA-256.
			sum := sha256.Sum256(der)
			hint = base64.StdEncoding.EncodeToString(sum[:])
		}
	}
	if o.RFC3161Timestamp != "" {
		ts, err := flags.ReadTimestampFile(o.RFC3161Timestamp)
		if err != nil {
			return p, nil, "", err
		}
		p.Timestamps = append(p.Timestamps, ts)
	}
	if len(p.Signature) == 0 {
		return p, nil, "", errors.New("no signature: the --bundle holds none and no --signature or --attestation was given")
	}
	return p, pubPEM, hint, nil
}

// proposedEntry is the hashedrekord entry the signature was logged as,
// for finding it in the log.
func proposedEntry(pb *protobundle.Bundle, sig, pubPEM []byte) (json.RawMessage, error) {
	ms := pb.GetMessageSignature()
	if ms == nil {
		return nil, errors.New("finding a DSSE attestation in the log needs its Rekor entry: give the legacy --bundle, or --ignore-tlog")
	}
	if len(pubPEM) == 0 {
		return nil, errors.New("finding the signature in the transparency log needs its --certificate or --key")
	}
	e := map[string]any{
		"apiVersion": "0.0.1",
		"kind":       "hashedrekord",
		"spec": map[string]any{
			"data": map[string]any{"hash": map[string]string{
				"algorithm": strings.ToLower(strings.ReplaceAll(ms.GetMessageDigest().GetAlgorithm().String(), "SHA2_", "sha")),
				"value":     fmt.Sprintf("%x", ms.GetMessageDigest().GetDigest()),
			}},
			"signature": map[string]any{
				"content":   base64.StdEncoding.EncodeToString(sig),
				"publicKey": map[string]string{"content": base64.StdEncoding.EncodeToString(pubPEM)},
			},
		},
	}
	return json.Marshal(e)
}

// writeBundle checks pb is a valid bundle and writes it as protojson.
func writeBundle(f *cli.Factory, out string, pb *protobundle.Bundle) error {
	if _, err := bundle.NewBundle(pb); err != nil {
		return fmt.Errorf("the bundle made is not valid: %w", err)
	}
	data, err := protojson.Marshal(pb)
	if err != nil {
		return err
	}
	return cli.WriteOut(f, out, data)
}
