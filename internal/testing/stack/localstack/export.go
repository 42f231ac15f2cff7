package localstack

import (
	"context"
	"os/exec"
)

// The exported forms below let other test harnesses (internal/testing/kube,
// a real Kubernetes API server) run their processes the way the stack runs
// its own: own process group, stopped by recorded PID and start time, with
// a deadline.

// Start launches the process (see Proc fields); it fails if a port is taken.
func (p *Proc) Start() error { return p.start() }

// WaitReady polls the readiness check until it passes, the process exits,
// or ctx ends.
func (p *Proc) WaitReady(ctx context.Context) error { return p.waitReady(ctx) }

// Stop sends SIGTERM to the process group, then SIGKILL after StopTimeout.
func (p *Proc) Stop() error { return p.stop() }

// Alive reports whether the recorded process is still the one started.
func (p *Proc) Alive() bool { return p.alive() }

// Flock holds an exclusive lock on path until the returned func is called.
func Flock(path string) (func(), error) { return flock(path) }

// Tail returns the last n lines of a file, indented, for error messages.
func Tail(path string, n int) string { return tail(path, n) }

// RunLogged runs cmd with its output appended to logPath and, on failure,
// returns the tail of that log.
func RunLogged(cmd *exec.Cmd, logPath, what string) error { return runLogged(cmd, logPath, what) }
