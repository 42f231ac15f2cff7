package bundle

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/signetdev/signet/internal/cli"
	"github.com/signetdev/signet/internal/cli/regcmd"
	"github.com/signetdev/signet/internal/fileutil"
	"github.com/signetdev/signet/pkg/verifier"
)

// UpgradeOptions are the inputs of bundle upgrade.
type UpgradeOptions struct {
	Out, RekorURL string
	Bundle        string
}

// NewCmdUpgrade builds `bundle upgrade`.
func NewCmdUpgrade(f *cli.Factory, runF func(context.Context, *UpgradeOptions) error) *cobra.Command {
	opts := &UpgradeOptions{}
	cmd := &cobra.Command{
		Use:   "upgrade BUNDLE",
		Short: "Upgrade a Sigstore protobuf bundle",
		Long: `Upgrade a v0.1 or v0.2 Sigstore bundle, or a legacy cosign bundle
({"base64Signature","cert","rekorBundle"}), to a v0.3 bundle: the leaf
certificate alone, and each Rekor entry's inclusion proof fetched from
--rekor-url (the entry fetched must be the bundle's own). A v0.3 bundle is
written back unchanged.`,
		Example: "  signet bundle upgrade --out app.sigstore.json app.bundle",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Bundle = args[0]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runUpgrade(cmd.Context(), f, opts)
		},
	}
	regcmd.NoEnv(cmd)
	cmd.Flags().StringVar(&opts.Out, "out", "", "path to the output upgraded bundle file")
	cmd.Flags().StringVar(&opts.RekorURL, "rekor-url", "https://rekor.sigstore.dev", "URL of the transparency log")
	return cmd
}

func runUpgrade(ctx context.Context, f *cli.Factory, o *UpgradeOptions) error {
	data, err := fileutil.ReadLimit(o.Bundle, verifier.MaxBundleSize)
	if err != nil {
		return fmt.Errorf("reading bundle: %w", err)
	}
	b, format, err := verifier.ParseBundle(data, true)
	if err != nil {
		return fmt.Errorf("bundle %s: %w", o.Bundle, err)
	}
	if format == verifier.FormatSigstore && verifier.IsV03(b.GetMediaType()) {
		f.Warnf("%s is already a v0.3 bundle; nothing to upgrade", o.Bundle)
		return cli.WriteOut(f, o.Out, data)
	}
	pb := b.Bundle
	rc := rekorClient(f, o.RekorURL)
	if err := verifier.AddInclusionProofs(ctx, pb, rc.ByIndex); err != nil {
		return fmt.Errorf("upgrading %s: %w", o.Bundle, err)
	}
	if err := verifier.ToV03(pb); err != nil {
		return fmt.Errorf("upgrading %s: %w", o.Bundle, err)
	}
	return writeBundle(f, o.Out, pb)
}
