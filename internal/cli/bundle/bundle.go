// Package bundle is `signet bundle create|inspect|upgrade`: cosign's tools
// for Sigstore protobuf bundles — v2-era detached files or legacy bundles
// made into v0.3 bundles, older bundles upgraded, any bundle outlined.
package bundle

import (
	"context"
	"fmt"
	"net/http"

	"github.com/spf13/cobra"

	"github.com/signetdev/signet/internal/cli"
	"github.com/signetdev/signet/internal/cli/regcmd"
	"github.com/signetdev/signet/internal/fileutil"
	"github.com/signetdev/signet/internal/httpx"
	"github.com/signetdev/signet/pkg/rekorlookup"
	"github.com/signetdev/signet/pkg/verifier"
)

// NewCmdBundle builds the `bundle` group.
func NewCmdBundle(f *cli.Factory) *cobra.Command {
	parent := &cobra.Command{
		Use:   "bundle",
		Short: "Interact with a Sigstore protobuf bundle",
		Long:  "Tools for interacting with a Sigstore protobuf bundle",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	regcmd.NoEnv(parent)
	parent.AddCommand(NewCmdCreate(f, nil), NewCmdInspect(f, nil), NewCmdUpgrade(f, nil))
	return parent
}

// InspectOptions are the inputs of bundle inspect.
type InspectOptions struct{ Bundle string }

// NewCmdInspect builds `bundle inspect`.
func NewCmdInspect(f *cli.Factory, runF func(context.Context, *InspectOptions) error) *cobra.Command {
	opts := &InspectOptions{}
	cmd := &cobra.Command{
		Use:   "inspect BUNDLE",
		Short: "Inspect a Sigstore protobuf bundle",
		Long: `Outline what a Sigstore bundle holds: media type, certificate or key,
transparency log entries, timestamps and content, with a warning for each
part its version requires and it lacks. Nothing is verified.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Bundle = args[0]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			fmt.Fprintln(f.IOStreams.ErrOut, "WARNING: This command only inspects the contents of the bundle.\nIt does not perform cryptographic verification or check against the transparency log.")
			data, err := fileutil.ReadLimit(opts.Bundle, verifier.MaxBundleSize)
			if err != nil {
				return fmt.Errorf("reading bundle: %w", err)
			}
			if err := Inspect(f.IOStreams.Out, data); err != nil {
				return fmt.Errorf("bundle %s: %w", opts.Bundle, err)
			}
			return nil
		},
	}
	regcmd.NoEnv(cmd)
	return cmd
}

// rekorClient is a Rekor v1 lookup client over the factory's transport,
// with retries.
func rekorClient(f *cli.Factory, url string) *rekorlookup.Client {
	return &rekorlookup.Client{BaseURL: url, HTTP: &http.Client{Transport: httpx.NewRetry(f.Transport)}}
}
