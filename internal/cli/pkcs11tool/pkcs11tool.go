// Package pkcs11tool is `signet pkcs11-tool`: list the tokens of a PKCS#11
// module and the key URIs in a token, as cosign's pkcs11-tool does, so a
// user can find the pkcs11: URI to pass to --key. It needs a build with
// PKCS#11 support (CGO_ENABLED=1 -tags pkcs11key); other builds keep the
// commands and say so.
package pkcs11tool

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/signetdev/signet/internal/cli"
	"github.com/signetdev/signet/internal/iostreams"
	"github.com/signetdev/signet/pkg/keys"
)

// Options are the inputs of the pkcs11-tool verbs.
type Options struct {
	IO *iostreams.IOStreams

	ModulePath string // --module-path (COSIGN_PKCS11_MODULE_PATH)
	SlotID     uint   // --slot-id
	PIN        string // --pin (COSIGN_PKCS11_PIN): a secret, never printed
}

// NewCmdPKCS11Tool builds `pkcs11-tool` and its two verbs; runF replaces
// the run functions in tests (its name is the verb).
func NewCmdPKCS11Tool(f *cli.Factory, runF func(context.Context, string, *Options) error) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "pkcs11-tool",
		Short: "Provides utilities for retrieving information from a PKCS11 token.",
		Args:  cobra.NoArgs,
	}
	run := func(verb string, opts *Options, fn func(context.Context, *Options) error) func(*cobra.Command, []string) error {
		return func(c *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(c.Context(), verb, opts)
			}
			return fn(c.Context(), opts)
		}
	}

	tokens := &Options{IO: f.IOStreams}
	lt := &cobra.Command{
		Use:   "list-tokens",
		Short: "list-tokens lists all PKCS11 tokens linked to a PKCS11 module",
		Example: `  # list all PKCS11 tokens linked to a PKCS11 module
  signet pkcs11-tool list-tokens --module-path /usr/lib/softhsm/libsofthsm2.so`,
		Args: cobra.NoArgs,
		RunE: run("list-tokens", tokens, listTokensRun),
	}
	lt.Flags().StringVar(&tokens.ModulePath, "module-path", f.Getenv("COSIGN_PKCS11_MODULE_PATH"), "absolute path to the PKCS11 module")

	keysOpts := &Options{IO: f.IOStreams}
	lk := &cobra.Command{
		Use:   "list-keys-uris",
		Short: "list-keys-uris lists URIs of all keys in a PKCS11 token",
		Example: `  # list keys URIs in a PKCS11 token (the PIN from COSIGN_PKCS11_PIN)
  signet pkcs11-tool list-keys-uris --module-path /usr/lib/softhsm/libsofthsm2.so --slot-id 1`,
		Args: cobra.NoArgs,
		RunE: run("list-keys-uris", keysOpts, listKeysRun),
	}
	lk.Flags().StringVar(&keysOpts.ModulePath, "module-path", f.Getenv("COSIGN_PKCS11_MODULE_PATH"), "absolute path to the PKCS11 module")
	lk.Flags().UintVar(&keysOpts.SlotID, "slot-id", 0, "id of the PKCS11 slot, uses 0 if empty")
	lk.Flags().StringVar(&keysOpts.PIN, "pin", f.Getenv("COSIGN_PKCS11_PIN"), "pin of the PKCS11 slot, uses environment variable COSIGN_PKCS11_PIN if present")

	cmd.AddCommand(lt, lk)
	return cmd
}

func listTokensRun(_ context.Context, opts *Options) error {
	if opts.ModulePath == "" {
		return fmt.Errorf("--module-path: required (or set COSIGN_PKCS11_MODULE_PATH)")
	}
	toks, err := keys.ListPKCS11Tokens(opts.ModulePath)
	if err != nil {
		return err
	}
	w := opts.IO.Out
	fmt.Fprintf(w, "\nListing tokens of PKCS11 module '%s'\n", opts.ModulePath)
	for _, t := range toks {
		fmt.Fprintf(w, "Token in slot %d\n\tLabel: %s\n\tManufacturer: %s\n\tModel: %s\n\tS/N: %s\n\n", t.Slot, t.Label, t.Manufacturer, t.Model, t.SerialNumber)
	}
	return nil
}

// listKeysRun prints cosign's layout, but the URIs leave out pin-value:
// cosign prints the PIN there, and signet never prints a PIN (pass it with
// COSIGN_PKCS11_PIN or add it yourself).
func listKeysRun(_ context.Context, opts *Options) error {
	if opts.ModulePath == "" {
		return fmt.Errorf("--module-path: required (or set COSIGN_PKCS11_MODULE_PATH)")
	}
	if opts.PIN == "" {
		return fmt.Errorf("--pin: required (or set COSIGN_PKCS11_PIN)")
	}
	label, ks, err := keys.ListPKCS11Keys(opts.ModulePath, int(opts.SlotID), opts.PIN)
	if err != nil {
		return err
	}
	w := opts.IO.Out
	fmt.Fprintf(w, "\nListing URIs of keys in slot '%d' of PKCS11 module '%s'\n", opts.SlotID, opts.ModulePath)
	i := 0
	for _, k := range ks {
		if len(k.ID) == 0 && k.Label == "" {
			continue // no way to name it in a URI
		}
		fmt.Fprintf(w, "Object %d\n", i)
		if k.Label != "" {
			fmt.Fprintf(w, "\tLabel: %s\n", k.Label)
		}
		if len(k.ID) > 0 {
			fmt.Fprintf(w, "\tID: %x\n", k.ID)
		}
		fmt.Fprintf(w, "\tURI: %s\n", keys.KeyURI(label, int(opts.SlotID), k.ID, k.Label, opts.ModulePath))
		i++
	}
	return nil
}
