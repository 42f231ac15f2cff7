// Package manifest is cosign's deprecated `manifest verify`: every
// container image of a Kubernetes manifest, verified as `verify` does
// (same flags, same policy path, same exit codes).
package manifest

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/signetdev/signet/internal/cli"
	"github.com/signetdev/signet/internal/cli/regcmd"
	"github.com/signetdev/signet/internal/cli/verify"
	"github.com/signetdev/signet/internal/fileutil"
	"github.com/signetdev/signet/pkg/imagerefs"
)

// maxManifest bounds the manifest file.
const maxManifest = 64 << 20

// NewCmdManifest builds the deprecated `manifest` group.
func NewCmdManifest(f *cli.Factory) *cobra.Command {
	parent := &cobra.Command{
		Use:   "manifest",
		Short: "Provides utilities for discovering images in and performing operations on Kubernetes manifests",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	regcmd.NoEnv(parent)
	msg := "manifest " + regcmd.Removal + ". Instead, please use `cosign verify` for each image in your Kubernetes manifest"
	regcmd.Deprecate(f, parent, msg)
	cmd := verify.NewCmdVerify(f, func(ctx context.Context, o *verify.Options) error {
		if len(o.Images) != 1 {
			return errors.New("manifest verify takes one manifest file")
		}
		data, err := fileutil.ReadLimit(o.Images[0], maxManifest)
		if err != nil {
			return fmt.Errorf("reading manifest: %w", err)
		}
		images, err := imagerefs.Manifest(data)
		if err != nil {
			return fmt.Errorf("manifest %s: %w", o.Images[0], err)
		}
		if len(images) == 0 {
			return fmt.Errorf("manifest %s: no container images found", o.Images[0])
		}
		o.Images = images
		return verify.Run(ctx, f, o)
	})
	cmd.Use = "verify [flags] MANIFEST"
	cmd.Short = "Verify all signatures of images specified in the manifest"
	cmd.Long = `Verify the signatures of every container image (containers, initContainers,
ephemeralContainers of every pod spec) in a Kubernetes YAML manifest, with
verify's flags and policy; it stops at the first image that fails, with
verify's exit code.`
	cmd.Example = `  signet manifest verify --certificate-identity … --certificate-oidc-issuer https://gitlab.com deploy.yaml`
	cmd.Args = cobra.ExactArgs(1)
	regcmd.Deprecate(f, cmd, msg)
	parent.AddCommand(cmd)
	return parent
}
