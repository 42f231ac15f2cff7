// Command local-stack installs, starts and stops the local Sigstore stack
// used by signet's end-to-end tests. Run it through hack/local-stack, which
// builds it and the OIDC issuer first.
//
//	local-stack install [-minimal]   build pinned servers into the cache
//	local-stack up [-minimal] [-reuse]
//	                                 start everything; print the environment
//	local-stack down                 stop what up started
//	local-stack status [-json]       health of each service (exit 3: not running)
//	local-stack env                  print the environment again
//	local-stack stop NAME | start NAME
//	                                 stop or restart one service (fault tests)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"text/tabwriter"

	"github.com/signetdev/signet/internal/testing/stack/localstack"
)

const usage = `usage: local-stack COMMAND [flags]

commands:
  install [-minimal] [-no-tools]
                            go install the pinned servers into the cache (and MariaDB);
                            -no-tools: not the clients (cosign, gitlab-ci-local, …)
  up [-minimal] [-reuse]    start the stack on 127.0.0.1 and print its environment
  down                      stop every service up started, wait for ports to be free
  status [-json]            show each service; exit 0 healthy, 1 degraded, 3 not running
  env                       print the environment of the running stack
  stop NAME, start NAME     stop or restart one service

environment: SIGNET_STACK_CACHE (default ~/.cache/signet-stack),
             SIGNET_STACK_DIR (default $TMPDIR/signet-stack)
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmd, args := args[0], args[1:]
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	minimal := fs.Bool("minimal", false, "minimal mode: no CT log, no Rekor v1/Trillian/MariaDB")
	reuse := fs.Bool("reuse", false, "up: keep a healthy running stack of the same mode")
	asJSON := fs.Bool("json", false, "status: JSON output")
	noTools := fs.Bool("no-tools", false, "install: only the servers, not the client tools (make demo)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg := localstack.DefaultConfig()
	cfg.Out = stderr
	if exe, err := os.Executable(); err == nil {
		cfg.ToolsDir = filepath.Dir(exe)
	}
	mode := localstack.Full
	if *minimal {
		mode = localstack.Minimal
	}

	var err error
	switch cmd {
	case "install":
		err = localstack.Install(ctx, cfg, localstack.InstallOptions{Mode: mode, NoTools: *noTools})
	case "up":
		var st *localstack.State
		st, err = localstack.Up(ctx, cfg, localstack.UpOptions{Mode: mode, Reuse: *reuse})
		if err == nil {
			fmt.Fprint(stdout, st.EnvLines())
		}
	case "down":
		err = localstack.Down(cfg)
	case "env":
		var st *localstack.State
		if st, err = localstack.LoadState(cfg); err == nil {
			fmt.Fprint(stdout, st.EnvLines())
		}
	case "status":
		return status(ctx, cfg, *asJSON, stdout, stderr)
	case "stop", "start":
		if fs.NArg() != 1 {
			fmt.Fprintf(stderr, "usage: local-stack %s NAME\n", cmd)
			return 2
		}
		if cmd == "stop" {
			err = localstack.StopService(cfg, fs.Arg(0))
		} else {
			err = localstack.StartService(ctx, cfg, fs.Arg(0))
		}
	default:
		fmt.Fprintf(stderr, "local-stack: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "local-stack %s: %v\n", cmd, err)
		return 1
	}
	return 0
}

func status(ctx context.Context, cfg localstack.Config, asJSON bool, stdout, stderr io.Writer) int {
	st, svcs, err := localstack.Status(ctx, cfg)
	if errors.Is(err, localstack.ErrNotRunning) {
		fmt.Fprintf(stderr, "local-stack: not running (no state in %s)\n", cfg.RunDir)
		return 3
	}
	if err != nil {
		fmt.Fprintf(stderr, "local-stack status: %v\n", err)
		return 1
	}
	code, running := 0, 0
	for _, s := range svcs {
		if s.Running {
			running++
		}
		if !s.Healthy {
			code = 1
		}
	}
	if running == 0 {
		code = 3
	}
	if asJSON {
		b, _ := localstack.MarshalStatus(svcs)
		fmt.Fprintln(stdout, string(b))
		return code
	}
	fmt.Fprintf(stdout, "%s stack in %s\n", st.Mode, cfg.RunDir)
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVICE\tPID\tPORTS\tSTATE")
	for _, s := range svcs {
		state := "healthy"
		if !s.Healthy {
			state = s.Error
		}
		fmt.Fprintf(tw, "%s\t%d\t%v\t%s\n", s.Name, s.PID, s.Ports, state)
	}
	tw.Flush()
	return code
}
