// Package importkeypair is the `signet import-key-pair` verb: an
// unencrypted PEM private key (from openssl, say) becomes a cosign key pair.
package importkeypair

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/signetdev/signet/internal/cli"
	"github.com/signetdev/signet/internal/iostreams"
	"github.com/signetdev/signet/internal/redact"
	"github.com/signetdev/signet/pkg/keys"
)

// Options are the inputs of `signet import-key-pair`.
type Options struct {
	IO     *iostreams.IOStreams
	Pass   keys.PassFunc
	Getenv func(string) string
	Debugf func(string, ...any)

	Key             string // -k/--key: the PEM private key to import
	OutputKeyPrefix string // -o/--output-key-prefix
	Yes             bool   // -y/--yes: overwrite an existing key without asking
}

// NewCmdImportKeyPair builds the verb; runF replaces the run function in
// tests.
func NewCmdImportKeyPair(f *cli.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "import-key-pair",
		Short: "Imports a PEM-encoded RSA or EC private key",
		Long:  "Imports a PEM-encoded RSA or EC private key for signing.",
		Example: `  signet import-key-pair  --key openssl.key --output-key-prefix my-key

  # import PEM-encoded RSA or EC private key and write to import-cosign.key and import-cosign.pub files
  signet import-key-pair --key <key path>

  # import PEM-encoded RSA or EC private key and write to my-key.key and my-key.pub files
  signet import-key-pair --key <key path> --output-key-prefix my-key

Accepted: "RSA PRIVATE KEY" (PKCS#1), "EC PRIVATE KEY" (SEC 1) and "PRIVATE KEY"
(PKCS#8: RSA, ECDSA or Ed25519); RSA 2048, 3072 or 4096 bits, ECDSA P-256,
P-384 or P-521.

CAVEATS:
  This command interactively prompts for a password. You can use
  the COSIGN_PASSWORD environment variable to provide one.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Pass = cli.PasswordFunc(f)
			opts.Getenv = f.Getenv
			opts.Debugf = f.Debugf
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return importRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&opts.Key, "key", "k", "", "import key pair to use for signing")
	_ = cmd.MarkFlagFilename("key", "key", "pem")
	fl.StringVarP(&opts.OutputKeyPrefix, "output-key-prefix", "o", "import-cosign", "name used for outputted key pairs")
	fl.BoolVarP(&opts.Yes, "yes", "y", false, "skip confirmation prompts for overwriting existing key")
	return cmd
}

func importRun(_ context.Context, opts *Options) error {
	if opts.Key == "" {
		return errors.New("--key: give the PEM private key file to import")
	}
	if opts.OutputKeyPrefix == "" {
		return errors.New("--output-key-prefix is empty")
	}
	data, err := keys.ReadRef(opts.Key, opts.Getenv)
	if err != nil {
		return fmt.Errorf("--key %s: %w", redact.Ref(opts.Key), redact.Error(err, opts.Key))
	}
	priv, err := keys.ParsePrivateKeyPEM(data)
	clear(data)
	if err != nil {
		return fmt.Errorf("--key %s: %w", redact.Ref(opts.Key), redact.Error(err, opts.Key))
	}
	if opts.Debugf != nil {
		opts.Debugf("importing a %s key from %s", keys.KeyKind(priv.Public()), redact.Ref(opts.Key))
	}
	kp, err := keys.NewKeyPair(priv, opts.Pass)
	if err != nil {
		return err
	}
	return cli.WriteKeyPair(opts.IO, opts.OutputKeyPrefix, kp, opts.Yes)
}
