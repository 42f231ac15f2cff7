// Command signet-policy runs signet's attestation-policy engines (CUE and
// Rego) for signet, which does not link them: they would more than double
// every signet run's start-up time and memory (docs/POLICIES.md). signet
// starts it beside itself when a policy is to be judged, and speaks to it
// over stdin and stdout (pkg/policy's pipe protocol). It is not meant to be
// run by hand.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/signetdev/signet/pkg/policy"
	"github.com/signetdev/signet/pkg/policy/engine"
)

func main() {
	if len(os.Args) > 1 {
		fmt.Fprintf(os.Stderr, "signet-policy: signet's policy engine (protocol %d); signet runs it, it takes no arguments\n", policy.ProtocolVersion)
		os.Exit(2)
	}
	if err := engine.Serve(context.Background(), os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "signet-policy:", err)
		os.Exit(1)
	}
}
