package commands_test

import (
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/signetdev/signet/internal/cli"
	"github.com/signetdev/signet/internal/cli/commands"
	"github.com/signetdev/signet/internal/iostreams"
)

// TestNoPflagDeprecation: every deprecated flag goes through
// flags.Deprecated. pflag's own MarkDeprecated makes cobra print the
// notice on stdout, into what scripts capture.
func TestNoPflagDeprecation(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	root, _ := cli.NewRootCmd(cli.NewFactory(ios), commands.All()...)
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.Flags().VisitAll(func(fl *pflag.Flag) {
			if fl.Deprecated != "" {
				t.Errorf("%s --%s: marked deprecated with pflag; use flags.Deprecated", c.CommandPath(), fl.Name)
			}
		})
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}
