// Command signet is a drop-in, cosign-compatible Sigstore client.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/signetdev/signet/internal/cli"
	"github.com/signetdev/signet/internal/cli/commands"
	"github.com/signetdev/signet/internal/iostreams"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], iostreams.System(), commands.All()...)
	stop()
	os.Exit(code)
}
