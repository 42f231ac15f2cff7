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
	"runtime/debug"

	"github.com/signetdev/signet/pkg/policy"
	"github.com/signetdev/signet/pkg/policy/engine"
)

func main() {
	if len(os.Args) > 1 {
		fmt.Fprintf(os.Stderr, "signet-policy: signet's policy engine (protocol %d); signet runs it, it takes no arguments\n", policy.ProtocolVersion)
		os.Exit(2)
	}
	collectLess()
	if err := engine.Serve(context.Background(), os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "signet-policy:", err)
		os.Exit(1)
	}
}

// collectLess sets the collector for what the engines do: build the whole
// statement as their own values (for a 5 MB SBOM ~60 MB for Rego, ~130 MB
// for CUE), all live until the verdict, with little garbage besides. At
// Go's default (GOGC=100) the collector ran again and again as that heap
// grew, for nothing to free: half of a Rego check's CPU. At 400 the peak
// RSS was the same for Rego and 5% higher for CUE (docs/PERFORMANCE.md).
// The soft limit keeps a much larger statement from growing the heap to
// five times what it holds; signet sets it (GOMEMLIMIT) for the checks it
// asks to run at once (policy.EngineMemoryLimit), and one check's is the
// default here. GOGC and GOMEMLIMIT, when set, win.
func collectLess() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(policy.EngineMemoryLimit(1))
	}
}
