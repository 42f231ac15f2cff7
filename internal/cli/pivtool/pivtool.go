// Package pivtool is `signet piv-tool`: cosign's YubiKey/PIV management
// commands. signet has no PIV support (no PIV token or emulator could be
// tested, see docs/KEYS.md), so every form of the command fails with one
// line that says so, instead of "unknown command" in a script.
package pivtool

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/signetdev/signet/internal/cli"
)

// ErrNoPIV is the one line every piv-tool command fails with.
var ErrNoPIV = errors.New("piv-tool: this signet build has no PIV/hardware security key support (--sk, --slot): use a PKCS#11 build (make build-pkcs11) with the token's PKCS#11 module, or cosign built with -tags pivkey; see docs/KEYS.md")

// NewCmdPIVTool builds `piv-tool`; any subcommand and flag is accepted
// and refused with ErrNoPIV.
func NewCmdPIVTool(_ *cli.Factory) *cobra.Command {
	return &cobra.Command{
		Use:                "piv-tool",
		Short:              "Provides utilities for managing a hardware token",
		DisableFlagParsing: true,
		RunE:               func(*cobra.Command, []string) error { return ErrNoPIV },
	}
}
