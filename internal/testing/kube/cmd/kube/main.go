// Command kube installs, starts and stops the real Kubernetes control plane
// (etcd + kube-apiserver on 127.0.0.1) the admission end-to-end tests use.
// Run it through hack/kube. The tests start their own cluster; up is for
// trying signet's webhook by hand.
//
//	kube install    fetch etcd, build kube-apiserver (cached by version)
//	kube up         start a cluster in $SIGNET_KUBE_DIR; print its environment
//	kube down       stop it (by PID) and remove its directory
//	kube status     exit 0 running, 3 not running
//	kube env        print the environment again
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/signetdev/signet/internal/testing/kube"
)

const usage = `usage: kube install|up|down|status|env

environment: SIGNET_STACK_CACHE (binaries; default ~/.cache/signet-stack),
             SIGNET_KUBE_DIR (the cluster up starts; default $TMPDIR/signet-kube)
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) != 1 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cfg := kube.DefaultConfig()
	cfg.Out = stderr
	dir := os.Getenv("SIGNET_KUBE_DIR")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "signet-kube")
	}
	var err error
	switch args[0] {
	case "install":
		_, err = kube.Install(ctx, cfg)
	case "up":
		err = up(ctx, cfg, dir, stdout)
	case "down":
		err = down(dir)
	case "status", "env":
		c, lerr := kube.Load(dir)
		if lerr != nil || !c.Running() {
			fmt.Fprintf(stderr, "kube: not running (%s)\n", dir)
			return 3
		}
		if args[0] == "env" {
			printEnv(stdout, c)
		} else {
			fmt.Fprintf(stdout, "kube: running: %s (etcd pid %d, kube-apiserver pid %d)\n", c.Server, c.Etcd.PID, c.APIServer.PID)
		}
	default:
		fmt.Fprint(stderr, usage)
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "kube %s: %v\n", args[0], err)
		return 1
	}
	return 0
}

func up(ctx context.Context, cfg kube.Config, dir string, stdout io.Writer) error {
	if c, err := kube.Load(dir); err == nil && c.Running() {
		printEnv(stdout, c)
		return nil
	}
	if err := down(dir); err != nil {
		return err
	}
	bins, err := kube.Install(ctx, cfg)
	if err != nil {
		return err
	}
	c, err := kube.Start(ctx, bins, kube.StartOptions{Dir: dir})
	if err != nil {
		return err
	}
	printEnv(stdout, c)
	return nil
}

// down stops a recorded cluster and removes its directory.
func down(dir string) error {
	c, err := kube.Load(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return os.RemoveAll(dir)
	}
	if err != nil {
		return err
	}
	if err := c.Stop(); err != nil {
		return err
	}
	return os.RemoveAll(dir)
}

func printEnv(w io.Writer, c *kube.Cluster) {
	fmt.Fprintf(w, "KUBECONFIG=%s\nSIGNET_KUBE_SERVER=%s\nSIGNET_KUBE_CA=%s\n", c.Kubeconfig, c.Server, c.CAFile)
}
