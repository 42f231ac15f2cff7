// Package debug is cosign's hidden `debug` group: `debug providers` shows
// which ambient OIDC providers this environment enables.
package debug

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/signetdev/signet/internal/cli"
	"github.com/signetdev/signet/internal/cli/regcmd"
	"github.com/signetdev/signet/pkg/oidc"
)

// NewCmdDebug builds the hidden `debug` group.
func NewCmdDebug(f *cli.Factory, runF func(context.Context) error) *cobra.Command {
	parent := &cobra.Command{
		Use:    "debug",
		Short:  "Debugging aids",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE:   func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	regcmd.NoEnv(parent)
	cmd := &cobra.Command{
		Use:   "providers",
		Short: "Show enabled/disabled OIDC providers",
		Long: `Show which ambient OIDC providers this environment enables, in the order
signing tries them, and why. No token is fetched.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context())
			}
			return Providers(f)
		},
	}
	regcmd.NoEnv(cmd)
	parent.AddCommand(cmd)
	return parent
}

// Providers prints each provider's status.
func Providers(f *cli.Factory) error {
	// cosign's format ("name: true|false"); -d adds why, on stderr.
	for _, p := range oidc.Providers(oidc.Options{Getenv: f.Getenv}) {
		fmt.Fprintf(f.IOStreams.Out, "%s: %t\n", p.Name, p.Enabled)
		f.Debugf("%s: %s", p.Name, p.Why)
	}
	return nil
}
