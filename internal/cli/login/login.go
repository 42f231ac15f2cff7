// Package login is `signet login`: registry credentials into Docker's
// config.json, as cosign's (crane's) login writes them.
package login

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/signetdev/signet/internal/cli"
	"github.com/signetdev/signet/internal/cli/regcmd"
	"github.com/signetdev/signet/internal/fileutil"
	"github.com/signetdev/signet/pkg/dockerconfig"
)

// Options are the inputs of login.
type Options struct {
	Username, Password string
	PasswordStdin      bool
	Server             string
}

// NewCmdLogin builds the verb.
func NewCmdLogin(f *cli.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "login [OPTIONS] [SERVER]",
		Short: "Log in to a registry",
		Long: `Log in to a registry: the credentials are written to $DOCKER_CONFIG/config.json
(default ~/.docker/config.json), where docker, crane and signet find them.`,
		Example: `  # in a GitLab CI job
  echo "$CI_REGISTRY_PASSWORD" | signet login "$CI_REGISTRY" -u "$CI_REGISTRY_USER" --password-stdin`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.Server = args[0]
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return run(f, opts)
		},
	}
	regcmd.NoEnv(cmd)
	fs := cmd.Flags()
	fs.StringVarP(&opts.Username, "username", "u", "", "Username")
	fs.StringVarP(&opts.Password, "password", "p", "", "Password")
	fs.BoolVar(&opts.PasswordStdin, "password-stdin", false, "Take the password from stdin")
	return cmd
}

// maxPassword bounds what --password-stdin reads.
const maxPassword = 1 << 20

func run(f *cli.Factory, o *Options) error {
	if o.Server == "" {
		// crane's default: Docker Hub.
		o.Server = "index.docker.io"
	}
	if o.PasswordStdin {
		if o.Password != "" {
			return errors.New("--password and --password-stdin are mutually exclusive")
		}
		if o.Username == "" {
			return errors.New("--password-stdin needs --username")
		}
		data, err := fileutil.ReadAllLimit(f.IOStreams.In, maxPassword)
		if err != nil {
			return fmt.Errorf("--password-stdin: reading stdin: %w", err)
		}
		o.Password = strings.TrimRight(string(data), "\r\n")
	}
	if o.Username == "" || o.Password == "" {
		return errors.New("login needs --username and a password (--password or --password-stdin)")
	}
	home, _ := f.HomeDir()
	dir, err := dockerconfig.Dir(f.Getenv("DOCKER_CONFIG"), home)
	if err != nil {
		return err
	}
	path, err := dockerconfig.Store(dir, o.Server, o.Username, o.Password)
	if err != nil {
		return fmt.Errorf("login to %s: %w", o.Server, err)
	}
	fmt.Fprintf(f.IOStreams.ErrOut, "logged in via %s\n", path)
	return nil
}
