// Package generatekeypair is the `signet generate-key-pair` verb: a new
// ECDSA P-256 key pair in cosign's format (cosign.key, encrypted, and
// cosign.pub), or a new key in a KMS.
package generatekeypair

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/signetdev/signet/internal/atomicfile"
	"github.com/signetdev/signet/internal/cli"
	"github.com/signetdev/signet/internal/iostreams"
	"github.com/signetdev/signet/internal/redact"
	"github.com/signetdev/signet/pkg/keys"
)

// Options are the inputs of `signet generate-key-pair`.
type Options struct {
	IO     *iostreams.IOStreams
	Pass   keys.PassFunc
	Debugf func(string, ...any)

	KMS             string // --kms: create the key in this KMS
	OutputKeyPrefix string // --output-key-prefix: <prefix>.key and <prefix>.pub
	Destination     string // optional argument: k8s://, gitlab://, github://
}

// NewCmdGenerateKeyPair builds the verb; runF replaces the run function in
// tests.
func NewCmdGenerateKeyPair(f *cli.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "generate-key-pair",
		Short: "Generates a key-pair",
		Long:  "Generates a key-pair for signing.",
		Example: `  signet generate-key-pair [--kms KMSPATH]

  # generate key-pair and write to cosign.key and cosign.pub files
  signet generate-key-pair

  # generate key-pair and write to custom named my-name.key and my-name.pub files
  signet generate-key-pair --output-key-prefix my-name

  # generate a key-pair in AWS KMS (the sigstore-kms-awskms plugin beside signet)
  signet generate-key-pair --kms awskms://[ENDPOINT]/[ID/ALIAS/ARN]

  # generate a key-pair in Google Cloud KMS (kms_gcp, or sigstore-kms-gcpkms)
  signet generate-key-pair --kms gcpkms://projects/[PROJECT]/locations/global/keyRings/[KEYRING]/cryptoKeys/[KEY]

  # generate a key-pair in Azure Key Vault (kms_azure, or sigstore-kms-azurekms)
  signet generate-key-pair --kms azurekms://[VAULT_NAME][VAULT_URI]/[KEY]

  # generate a key-pair in Hashicorp Vault (kms_hashivault, or sigstore-kms-hashivault)
  signet generate-key-pair --kms hashivault://[KEY]

CAVEATS:
  This command interactively prompts for a password. You can use
  the COSIGN_PASSWORD environment variable to provide one.
  Storing the key pair in a Kubernetes secret (k8s://), GitHub (github://)
  or GitLab (gitlab://) is not supported by signet.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.Destination = args[0]
			}
			opts.Pass = cli.PasswordFunc(f)
			opts.Debugf = f.Debugf
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return generateRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.KMS, "kms", "", "create key pair in KMS service to use for signing")
	fl.StringVar(&opts.OutputKeyPrefix, "output-key-prefix", "cosign",
		"name used for generated .pub and .key files (defaults to `cosign`)")
	return cmd
}

// platformDestinations are the secret stores cosign writes key pairs to.
var platformDestinations = map[string]string{
	"k8s":    "a Kubernetes secret",
	"github": "GitHub Actions secrets",
	"gitlab": "GitLab CI variables",
}

func generateRun(ctx context.Context, opts *Options) error {
	if opts.KMS != "" {
		if opts.Destination != "" {
			return fmt.Errorf("--kms and the destination %s cannot be used together", opts.Destination)
		}
		return generateKMS(ctx, opts)
	}
	if opts.Destination != "" {
		provider, _, ok := strings.Cut(opts.Destination, "://")
		if !ok {
			return errors.New("could not parse scheme, use <scheme>://<ref> format")
		}
		if what, ok := platformDestinations[provider]; ok {
			return fmt.Errorf("storing the key pair in %s (%s://) is not supported by this build of signet; generate cosign.key and cosign.pub and store them yourself (see docs/KEYS.md)", what, provider)
		}
		return fmt.Errorf("undefined provider: %s", provider)
	}
	if opts.OutputKeyPrefix == "" {
		return errors.New("--output-key-prefix is empty")
	}

	debugf(opts, "generating an ECDSA P-256 key pair")
	kp, err := keys.GenerateKeyPair(opts.Pass)
	if err != nil {
		return err
	}
	return cli.WriteKeyPair(opts.IO, opts.OutputKeyPrefix, kp, false)
}

func generateKMS(ctx context.Context, opts *Options) error {
	debugf(opts, "creating a key in %s", opts.KMS)
	pub, err := keys.CreateKMSKey(ctx, opts.KMS)
	if err != nil {
		return fmt.Errorf("--kms %s: %w", redact.Ref(opts.KMS), redact.Error(err, opts.KMS))
	}
	pemBytes, err := keys.MarshalPublicKeyPEM(pub)
	if err != nil {
		return err
	}
	path := opts.OutputKeyPrefix + ".pub"
	if err := atomicfile.WriteFile(path, pemBytes, 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	fmt.Fprintln(opts.IO.ErrOut, "Public key written to", path)
	return nil
}

func debugf(opts *Options, format string, args ...any) {
	if opts.Debugf != nil {
		opts.Debugf(format, args...)
	}
}
