package kube

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/signetdev/signet/internal/testing/stack/localstack"
)

// Install makes sure etcd, kube-apiserver and kubectl are present and
// returns their paths. It is idempotent: a cache directory holding an .ok
// stamp and its binary is used as is, so a warm install only stats files.
// Each binary is put together in a temporary directory and renamed into
// place, so an interrupted install leaves nothing half-built.
func Install(ctx context.Context, c Config) (Binaries, error) {
	b := Binaries{
		Etcd:      filepath.Join(c.etcdDir(), "etcd"),
		APIServer: filepath.Join(c.apiserverDir(), "kube-apiserver"),
	}
	if complete(c.etcdDir(), "etcd") && complete(c.apiserverDir(), "kube-apiserver") {
		k, err := ensureKubectl(ctx, c)
		b.Kubectl = k
		return b, err
	}
	if err := os.MkdirAll(filepath.Join(c.CacheDir, "bin"), 0o755); err != nil {
		return b, err
	}
	// A download needs no lock (the rename into place is atomic); the
	// compile takes the stack's install lock so it never competes with
	// another install for the two cores.
	if err := c.installInto(ctx, c.etcdDir(), "etcd", c.fetchEtcd); err != nil {
		return b, err
	}
	if !complete(c.apiserverDir(), "kube-apiserver") {
		unlock, err := localstack.Flock(filepath.Join(c.CacheDir, "install.lock"))
		if err != nil {
			return b, err
		}
		err = c.installInto(ctx, c.apiserverDir(), "kube-apiserver", c.buildAPIServer)
		unlock()
		if err != nil {
			return b, err
		}
	}
	k, err := ensureKubectl(ctx, c)
	b.Kubectl = k
	return b, err
}

func complete(dir, bin string) bool {
	for _, f := range []string{".ok", bin} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			return false
		}
	}
	return true
}

// installInto runs make in a temporary directory beside dir, stamps it and
// renames it to dir.
func (c Config) installInto(ctx context.Context, dir, bin string, make func(context.Context, string) error) error {
	if complete(dir, bin) {
		return nil
	}
	key := filepath.Base(dir)
	c.logf("kube: installing %s ...", key)
	start := time.Now()
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".build-"+strings.ReplaceAll(key, "@", "-")+"-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := make(ctx, tmp); err != nil {
		return fmt.Errorf("installing %s: %w", key, err)
	}
	if _, err := os.Stat(filepath.Join(tmp, bin)); err != nil {
		return fmt.Errorf("installing %s: %w", key, err)
	}
	stamp := time.Now().UTC().Format(time.RFC3339) + " " + runtime.Version() + "\n"
	if err := os.WriteFile(filepath.Join(tmp, ".ok"), []byte(stamp), 0o644); err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	if complete(dir, bin) {
		return nil // another install finished first
	}
	_ = os.RemoveAll(dir) // a directory without .ok is a leftover
	if err := os.Rename(tmp, dir); err != nil && !complete(dir, bin) {
		return err
	}
	c.logf("kube: installed %s in %.0fs", key, time.Since(start).Seconds())
	return nil
}

// buildAPIServer builds kube-apiserver from the wrapper module, with the
// version string the API server reports on /version.
func (c Config) buildAPIServer(ctx context.Context, dir string) error {
	if c.ModuleDir == "" {
		return errors.New("the kube-apiserver wrapper module (internal/testing/kube/build) was not found: run from the signet checkout")
	}
	ldflags := "-s -w -X k8s.io/component-base/version.gitVersion=" + KubeVersion
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags="+ldflags,
		"-o", filepath.Join(dir, "kube-apiserver"), apiserverPackage)
	cmd.Dir = c.ModuleDir
	return localstack.RunLogged(cmd, filepath.Join(dir, "build.log"), "go build "+apiserverPackage)
}

// fetchEtcd downloads Debian's etcd-server package (never installed: no
// daemon is registered) and keeps only the etcd binary.
func (c Config) fetchEtcd(ctx context.Context, dir string) error {
	pkg := etcdDebPackage + "=" + EtcdDebVersion
	download := func() error {
		cmd := exec.CommandContext(ctx, "apt-get", "download", "-q", pkg)
		cmd.Dir = dir
		return localstack.RunLogged(cmd, filepath.Join(dir, "apt.log"), "apt-get download "+pkg)
	}
	if err := download(); err != nil {
		// Package lists may be missing or stale on a fresh machine.
		if os.Geteuid() != 0 {
			return fmt.Errorf("%w (as root, apt-get update would be tried)", err)
		}
		if uerr := localstack.RunLogged(exec.CommandContext(ctx, "apt-get", "update", "-q"), filepath.Join(dir, "apt.log"), "apt-get update"); uerr != nil {
			return errors.Join(err, uerr)
		}
		if err := download(); err != nil {
			return err
		}
	}
	debs, _ := filepath.Glob(filepath.Join(dir, etcdDebPackage+"_*.deb"))
	if len(debs) != 1 {
		return fmt.Errorf("apt-get download %s left %d .deb files", pkg, len(debs))
	}
	x := filepath.Join(dir, "x")
	if err := localstack.RunLogged(exec.CommandContext(ctx, "dpkg-deb", "-x", debs[0], x), filepath.Join(dir, "apt.log"), "dpkg-deb -x"); err != nil {
		return err
	}
	if err := os.Rename(filepath.Join(x, "usr", "bin", "etcd"), filepath.Join(dir, "etcd")); err != nil {
		return fmt.Errorf("no usr/bin/etcd in %s: %w", filepath.Base(debs[0]), err)
	}
	_ = os.Remove(debs[0])
	return os.RemoveAll(x)
}

// ensureKubectl returns kubectl from PATH, installing Debian's
// kubernetes-client when it is absent.
func ensureKubectl(ctx context.Context, c Config) (string, error) {
	if p, err := exec.LookPath("kubectl"); err == nil {
		return p, nil
	}
	if os.Geteuid() != 0 {
		return "", errors.New("kubectl not found and not root: install it (Debian: apt-get install kubernetes-client)")
	}
	c.logf("kube: installing %s from Debian ...", kubectlDebianPkg)
	logPath := filepath.Join(c.CacheDir, "apt-kubectl.log")
	install := func() error {
		cmd := exec.CommandContext(ctx, "apt-get", "install", "-y", "-q", "--no-install-recommends", kubectlDebianPkg)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		return localstack.RunLogged(cmd, logPath, "apt-get install "+kubectlDebianPkg)
	}
	if err := install(); err != nil {
		if uerr := localstack.RunLogged(exec.CommandContext(ctx, "apt-get", "update", "-q"), logPath, "apt-get update"); uerr != nil {
			return "", errors.Join(err, uerr)
		}
		if err := install(); err != nil {
			return "", err
		}
	}
	return exec.LookPath("kubectl")
}
