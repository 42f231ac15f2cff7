// Package cli assembles signet's command tree. Each verb lives in its own
// package under internal/cli/; this package holds what they share: the
// Factory, global flags, environment binding and exit codes.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/signetdev/signet/internal/atomicfile"
	"github.com/signetdev/signet/internal/iostreams"
)

// GlobalOptions are cosign's root flags.
type GlobalOptions struct {
	OutputFile string
	Timeout    time.Duration
	Verbose    bool
}

// Subcommand builds one verb with the shared factory.
type Subcommand func(f *Factory) *cobra.Command

// Verb is a top-level command's name and constructor. The name lets a run
// build only the verb it runs: building all ~35 verbs and their flags
// costs more of `signet version`'s start-up than the verb itself.
type Verb struct {
	Name string // cobra's Name(); empty: always built
	New  Subcommand
}

// NewRootCmd returns the root command with the given verbs attached.
func NewRootCmd(f *Factory, verbs ...Verb) (*cobra.Command, *GlobalOptions) {
	opts := &GlobalOptions{}
	root := &cobra.Command{
		Use:   "signet",
		Short: "Sign and verify artifacts and container images with Sigstore (cosign-compatible)",
		Long: `signet signs and verifies blobs, container images and attestations with
Sigstore: keyless with an OIDC identity and a short-lived Fulcio certificate,
or with a key pair. It is a drop-in replacement for the cosign CLI: the same
commands, flags, environment variables, file formats and exit codes.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		// Completion and help need no environment binding and no timeout.
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			f.Verbose = opts.Verbose
			warnDeprecatedFlags(cmd, f.IOStreams.ErrOut)
			return bindEnv(cmd, f.Getenv)
		},
	}
	root.SetGlobalNormalizationFunc(normalizeFlagName)
	pf := root.PersistentFlags()
	pf.StringVar(&opts.OutputFile, "output-file", "", "log output to a file")
	pf.DurationVarP(&opts.Timeout, "timeout", "t", 3*time.Minute, "timeout for commands")
	pf.BoolVarP(&opts.Verbose, "verbose", "d", false, "log debug output")

	root.SetIn(f.IOStreams.In)
	root.SetOut(f.IOStreams.Out)
	root.SetErr(f.IOStreams.ErrOut)
	for _, v := range verbs {
		root.AddCommand(v.New(f))
	}
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() == "completion" || c.Name() == "help" {
			markNoEnvBinding(c)
		}
	}
	return root, opts
}

// DeprecatedCommand is the command annotation holding a deprecated (and
// so hidden) command's notice (see regcmd.Deprecate).
const DeprecatedCommand = "signet/deprecated-command"

// DeprecatedFlag is the flag annotation holding a deprecated flag's
// notice (see flags.Deprecated).
const DeprecatedFlag = "signet/deprecated"

// warnDeprecatedFlags prints pflag's notice for each deprecated flag given
// on the command line, on stderr.
func warnDeprecatedFlags(cmd *cobra.Command, w io.Writer) {
	cmd.Flags().Visit(func(fl *pflag.Flag) {
		if msg := fl.Annotations[DeprecatedFlag]; len(msg) == 1 {
			fmt.Fprintf(w, "Flag --%s has been deprecated, %s\n", fl.Name, msg[0])
		}
	})
}

func markNoEnvBinding(c *cobra.Command) {
	if c.Annotations == nil {
		c.Annotations = map[string]string{}
	}
	c.Annotations[noEnvBinding] = "true"
	for _, sub := range c.Commands() {
		markNoEnvBinding(sub)
	}
}

// Main runs signet with args (without the program name) and returns the
// exit code. Behaviour never depends on argv[0], so `ln -s signet cosign`
// is safe.
func Main(ctx context.Context, args []string, ios *iostreams.IOStreams, verbs ...Verb) int {
	return Run(ctx, args, NewFactory(ios), verbs...)
}

// NoTimeoutAnnotation, set to "true" on a command, exempts it from the
// global --timeout: a server runs until it is stopped.
const NoTimeoutAnnotation = "signet/no-timeout"

// MainWithFactory is Main with a caller-built factory and unnamed verbs,
// all built (tests of one verb).
func MainWithFactory(ctx context.Context, args []string, f *Factory, verbs ...Subcommand) int {
	named := make([]Verb, len(verbs))
	for i, v := range verbs {
		named[i] = Verb{New: v}
	}
	return Run(ctx, args, f, named...)
}

// Run is Main with a caller-built factory.
func Run(ctx context.Context, args []string, f *Factory, verbs ...Verb) int {
	ios := f.IOStreams
	args, rewritten := legacyArgs(args)
	for _, a := range rewritten {
		flag, _, _ := strings.Cut(a, "=")
		fmt.Fprintf(ios.ErrOut, "WARNING: the flag %s is deprecated and will be removed in a future release. Please use the flag -%s.\n", flag, flag)
	}

	root, opts := NewRootCmd(f, selectVerbs(args, verbs)...)
	root.SetArgs(args)

	var out *atomicfile.File
	var cancel context.CancelFunc = func() {}
	prev := root.PersistentPreRunE
	root.PersistentPreRunE = func(cmd *cobra.Command, a []string) error {
		if err := prev(cmd, a); err != nil {
			return err
		}
		if opts.Timeout > 0 && cmd.Annotations[NoTimeoutAnnotation] != "true" {
			var c context.Context
			c, cancel = context.WithTimeout(cmd.Context(), opts.Timeout)
			cmd.SetContext(c)
		}
		if opts.OutputFile != "" {
			var err error
			if out, err = atomicfile.Create(opts.OutputFile); err != nil {
				return fmt.Errorf("--output-file: %w", err)
			}
			// cosign sends what would go to stdout into the file.
			ios.Out = out
			cmd.SetOut(out)
		}
		return nil
	}

	err := root.ExecuteContext(ctx)
	cancel()
	// A policy engine started by the run ends with it (and is waited for,
	// so its resources count as the run's).
	if c, ok := f.PolicyEngine.(io.Closer); ok {
		_ = c.Close()
	}
	if out != nil {
		if cerr := out.Commit(); cerr != nil && err == nil {
			err = fmt.Errorf("--output-file: %w", cerr)
		}
	}
	if err != nil {
		printError(ios.ErrOut, err)
	}
	return exitCode(err)
}

// printError prints the one line a failed run leaves on stderr.
func printError(w io.Writer, err error) {
	msg := err.Error()
	if errors.Is(err, context.DeadlineExceeded) {
		msg += " (the --timeout was reached)"
	}
	// One line: a multi-line message from a dependency is joined.
	msg = strings.Join(strings.Fields(strings.ReplaceAll(msg, "\n", " ")), " ")
	fmt.Fprintf(w, "Error: %s\n", msg)
}
