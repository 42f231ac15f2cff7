// Package dockerfile is cosign's deprecated `dockerfile verify`: the
// images of a Dockerfile's FROM lines (or only the base image), verified
// as `verify` does.
package dockerfile

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/signetdev/signet/internal/cli"
	"github.com/signetdev/signet/internal/cli/regcmd"
	"github.com/signetdev/signet/internal/cli/verify"
	"github.com/signetdev/signet/pkg/imagerefs"
)

// NewCmdDockerfile builds the deprecated `dockerfile` group.
func NewCmdDockerfile(f *cli.Factory) *cobra.Command {
	parent := &cobra.Command{
		Use:   "dockerfile",
		Short: "Provides utilities for discovering images in and performing operations on Dockerfiles",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	regcmd.NoEnv(parent)
	msg := "dockerfile " + regcmd.Removal + ". Instead, please use `cosign verify` for each image in your Dockerfile"
	regcmd.Deprecate(f, parent, msg)
	var baseOnly bool
	cmd := verify.NewCmdVerify(f, func(ctx context.Context, o *verify.Options) error {
		if len(o.Images) != 1 {
			return errors.New("dockerfile verify takes one Dockerfile")
		}
		path := o.Images[0]
		fh, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("reading Dockerfile: %w", err)
		}
		defer fh.Close()
		images, err := imagerefs.Dockerfile(fh, f.Getenv)
		if err != nil {
			return fmt.Errorf("Dockerfile %s: %w", path, err)
		}
		if len(images) == 0 {
			return fmt.Errorf("Dockerfile %s: no image to verify (only scratch or stages)", path)
		}
		if baseOnly {
			images = images[len(images)-1:]
		}
		o.Images = images
		return verify.Run(ctx, f, o)
	})
	cmd.Use = "verify [flags] DOCKERFILE"
	cmd.Short = "Verify a signature on the base image specified in the Dockerfile"
	cmd.Long = `Verify the signatures of the images a Dockerfile's FROM lines name, with
verify's flags and policy: every one, or with --base-image-only the last
(the final stage's base). scratch and references to earlier stages are
skipped; $VAR and ${VAR} are expanded from the environment (as cosign
does), then from ARG defaults.`
	cmd.Example = `  signet dockerfile verify --base-image-only --certificate-identity … --certificate-oidc-issuer … Dockerfile`
	cmd.Args = cobra.ExactArgs(1)
	cmd.Flags().BoolVar(&baseOnly, "base-image-only", false, "only verify the base image (the last FROM image in the Dockerfile)")
	regcmd.Deprecate(f, cmd, msg)
	parent.AddCommand(cmd)
	return parent
}
