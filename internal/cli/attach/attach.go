// Package attach is `signet attach signature|attestation|sbom`: cosign's
// deprecated verbs that store material made elsewhere next to an image.
package attach

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/signetdev/signet/internal/cli"
	"github.com/signetdev/signet/internal/cli/regcmd"
	"github.com/signetdev/signet/internal/fileutil"
)

// maxInput bounds every file attach reads (signature, payload,
// certificates, envelopes, SBOM): an attachment larger than the registry
// readers accept by default would be unreadable anyway.
const maxInput = 128 << 20

// NewCmdAttach builds the parent verb.
func NewCmdAttach(f *cli.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "attach",
		Short: "Provides utilities for attaching artifacts to other artifacts in a registry",
		Args:  cobra.NoArgs,
	}
	regcmd.NoEnv(cmd)
	regcmd.Deprecate(f, cmd, "attach "+regcmd.Removal+". Instead, please use oras for attaching artifacts to other artifacts in a registry")
	cmd.AddCommand(NewCmdSignature(f, nil), NewCmdAttestation(f, nil), NewCmdSBOM(f, nil))
	return cmd
}

// readInput reads path, or stdin for "-", bounded.
func readInput(f *cli.Factory, flag, path string) ([]byte, error) {
	var (
		b   []byte
		err error
	)
	if path == "-" {
		b, err = fileutil.ReadAllLimit(f.IOStreams.In, maxInput)
	} else {
		b, err = fileutil.ReadLimit(path, maxInput)
	}
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", flag, path, err)
	}
	return b, nil
}
