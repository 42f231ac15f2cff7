// Command startupfloor only prints, but links the dependencies signet
// cannot do without: sigstore-go's signing and verification,
// go-containerregistry's registry client and cobra. make bench times it
// beside `signet version`: their package init and page faults are the
// floor under signet's start-up that signet's own code cannot lower.
package main

import (
	"os"

	_ "github.com/google/go-containerregistry/pkg/v1/remote"
	_ "github.com/sigstore/sigstore-go/pkg/sign"
	_ "github.com/sigstore/sigstore-go/pkg/verify"
	_ "github.com/spf13/cobra"
)

func main() { os.Stdout.WriteString("x\n") }
