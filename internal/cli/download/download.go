// Package download is `signet download signature|attestation|sbom`: print
// what is stored next to an image, as cosign prints it.
package download

import (
	"github.com/spf13/cobra"

	"github.com/signetdev/signet/internal/cli"
)

// NewCmdDownload builds the parent verb.
func NewCmdDownload(f *cli.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "download",
		Short: "Provides utilities for downloading artifacts and attached artifacts in a registry",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(NewCmdSignature(f, nil), NewCmdAttestation(f, nil), NewCmdSBOM(f, nil))
	return cmd
}
