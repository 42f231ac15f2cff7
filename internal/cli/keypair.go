package cli

import (
	"errors"
	"fmt"
	"os"

	"github.com/signetdev/signet/internal/iostreams"
	"github.com/signetdev/signet/pkg/keys"
)

// WriteKeyPair writes prefix.key and prefix.pub for generate-key-pair and
// import-key-pair, as cosign does: if prefix.key exists it warns and asks
// (unless yes), and a refusal leaves both files as they were. Each file is
// written whole or not at all, the private key with mode 0600 from its
// creation.
func WriteKeyPair(ios *iostreams.IOStreams, prefix string, kp *keys.KeyPair, yes bool) error {
	keyPath := prefix + ".key"
	fi, err := os.Stat(keyPath)
	switch {
	case err == nil && fi.IsDir():
		return fmt.Errorf("writing %s: is a directory", keyPath)
	case err == nil:
		fmt.Fprintf(ios.ErrOut, "WARNING: File %s already exists. Overwrite?\n", keyPath)
		if !yes {
			if err := ConfirmContinue(ios); err != nil {
				return err
			}
		}
	case !errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("failed checking if %s exists: %w", keyPath, err)
	}
	keyPath, pubPath, err := keys.WriteKeyPair(prefix, kp)
	if err != nil {
		return err
	}
	fmt.Fprintln(ios.ErrOut, "Private key written to", keyPath)
	fmt.Fprintln(ios.ErrOut, "Public key written to", pubPath)
	return nil
}
