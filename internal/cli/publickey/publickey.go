// Package publickey is the `signet public-key` verb: the public key of a
// cosign.key, env://VAR or KMS key, as PEM.
package publickey

import (
	"context"
	"errors"
	"fmt"

	"github.com/sigstore/sigstore/pkg/signature/options"
	"github.com/spf13/cobra"

	"github.com/signetdev/signet/internal/atomicfile"
	"github.com/signetdev/signet/internal/cli"
	"github.com/signetdev/signet/internal/iostreams"
	"github.com/signetdev/signet/internal/redact"
	"github.com/signetdev/signet/pkg/keys"
)

// Options are the inputs of `signet public-key`.
type Options struct {
	IO     *iostreams.IOStreams
	Pass   keys.PassFunc
	Getenv func(string) string
	Debugf func(string, ...any)

	Key     string // --key: private key file, env://VAR or KMS URI
	OutFile string // --outfile: write here instead of stdout
	SK      bool   // --sk: hardware security key (not supported)
	Slot    string // --slot
}

// NewCmdPublicKey builds the verb; runF replaces the run function in tests.
func NewCmdPublicKey(f *cli.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "public-key",
		Short: "Gets a public key from the key-pair",
		Long:  "Gets a public key from the key-pair and\nwrites to a specified file. By default, it will write to standard out.",
		Example: `
  # extract public key from private key to a specified out file.
  signet public-key --key <PRIVATE KEY FILE> --outfile <OUTPUT>

  # extract public key from a private key held in an environment variable.
  signet public-key --key env://COSIGN_PRIVATE_KEY

  # extract public key from AWS KMS (the sigstore-kms-awskms plugin beside signet)
  signet public-key --key awskms://[ENDPOINT]/[ID/ALIAS/ARN]

  # extract public key from Google Cloud KMS
  signet public-key --key gcpkms://projects/[PROJECT]/locations/global/keyRings/[KEYRING]/cryptoKeys/[KEY]

  # extract public key from Azure Key Vault
  signet public-key --key azurekms://[VAULT_NAME][VAULT_URI]/[KEY]

  # extract public key from Hashicorp Vault KMS
  signet public-key --key hashivault://[KEY]`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Pass = cli.PasswordFunc(f)
			opts.Getenv = f.Getenv
			opts.Debugf = f.Debugf
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return publicKeyRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Key, "key", "", "path to the private key file, KMS URI or Kubernetes Secret")
	_ = cmd.MarkFlagFilename("key", "key")
	fl.StringVar(&opts.OutFile, "outfile", "", "path to a payload file to use rather than generating one")
	fl.BoolVar(&opts.SK, "sk", false, "whether to use a hardware security key")
	fl.StringVar(&opts.Slot, "slot", "",
		"security key slot to use for generated key (default: signature) (authentication|signature|card-authentication|key-management)")
	return cmd
}

func publicKeyRun(ctx context.Context, opts *Options) error {
	switch {
	case opts.Key != "" && opts.SK, opts.Key == "" && !opts.SK:
		return errors.New("exactly one of: key reference (--key), or hardware token (--sk) must be provided")
	case opts.SK:
		return errors.New("--sk: hardware security keys are not supported by this build")
	}
	sv, err := keys.LoadSigner(ctx, opts.Key, opts.Pass, opts.Getenv)
	if err != nil {
		return err
	}
	pub, err := sv.PublicKey(options.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("--key %s: %w", redact.Ref(opts.Key), redact.Error(err, opts.Key))
	}
	pemBytes, err := keys.MarshalPublicKeyPEM(pub)
	if err != nil {
		return err
	}
	if opts.Debugf != nil {
		opts.Debugf("--key %s holds a %s key", redact.Ref(opts.Key), keys.KeyKind(pub))
	}
	if opts.OutFile == "" {
		_, err := opts.IO.Out.Write(pemBytes)
		return err
	}
	// cosign creates --outfile with mode 0600.
	if err := atomicfile.WriteFile(opts.OutFile, pemBytes, 0o600); err != nil {
		return fmt.Errorf("--outfile: %w", err)
	}
	fmt.Fprintln(opts.IO.ErrOut, "Public key written to", opts.OutFile)
	return nil
}
