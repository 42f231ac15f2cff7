// Package version is the `signet version` verb.
package version

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/signetdev/signet/internal/cli"
	"github.com/signetdev/signet/internal/iostreams"
	"github.com/signetdev/signet/internal/version"
)

// Options are the inputs of `signet version`.
type Options struct {
	IO   *iostreams.IOStreams
	JSON bool
}

// NewCmdVersion builds the verb; runF replaces the run function in tests.
func NewCmdVersion(f *cli.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Prints the version",
		Args:  cobra.NoArgs,
		Annotations: map[string]string{
			cli.NoEnvBindingAnnotation: "true",
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return versionRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print JSON instead of text")
	return cmd
}

func versionRun(_ context.Context, opts *Options) error {
	info := version.Get()
	if opts.JSON {
		s, err := info.JSON()
		if err != nil {
			return err
		}
		fmt.Fprintln(opts.IO.Out, s)
		return nil
	}
	fmt.Fprint(opts.IO.Out, info.String())
	return nil
}
