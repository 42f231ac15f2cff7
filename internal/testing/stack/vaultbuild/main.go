// Command vault is HashiCorp Vault's CLI and server, built from the pinned
// module in this directory for signet's tests only (not shipped).
package main

import (
	"os"

	"github.com/hashicorp/vault/command"
)

func main() { os.Exit(command.Run(os.Args[1:])) }
