// Package kube runs a real Kubernetes control plane on 127.0.0.1 for the
// admission end-to-end tests: etcd and kube-apiserver, with a private PKI
// (client certificates, no kubelet, no controller-manager, no scheduler).
// Nothing is mocked: the API server calls signet's webhooks exactly as a
// cluster does, so Pods and workloads are admitted or refused by it.
//
// Install puts the pinned binaries into the local stack's cache, keyed by
// version (~/.cache/signet-stack/bin/<name@version>): etcd from Debian's
// etcd-server package (a download, no compile) and kube-apiserver built
// from the Go module proxy through the scratch module in build/ (about
// ten minutes cold on two cores, once). Start launches a cluster on free
// loopback ports (ephemeral ones, so never the Sigstore stack's fixed
// ports) and Stop stops it by PID with deadlines. hack/kube drives the
// same code from the shell.
package kube

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/signetdev/signet/internal/testing/stack/localstack"
)

// Pinned versions. Debian bookworm's etcd 3.4 serves kube-apiserver 1.36
// (only the etcd3 API is used), and a package download is much cheaper
// than compiling etcd 3.6 on a busy two-core machine.
const (
	KubeVersion      = "v1.36.3"
	EtcdDebVersion   = "3.4.23-4+b4"
	etcdDebPackage   = "etcd-server"
	kubectlDebianPkg = "kubernetes-client"
	apiserverPackage = "k8s.io/kubernetes/cmd/kube-apiserver"
)

// Config says where binaries and the wrapper module are.
type Config struct {
	CacheDir  string    // the local stack's cache (binaries under bin/)
	ModuleDir string    // internal/testing/kube/build of this checkout
	Out       io.Writer // progress messages
}

// DefaultConfig uses the local stack's cache directory and finds the
// wrapper module by walking up from the working directory to the
// repository root.
func DefaultConfig() Config {
	c := Config{CacheDir: localstack.DefaultCacheDir(), Out: os.Stderr}
	if root, err := repoRoot(); err == nil {
		c.ModuleDir = filepath.Join(root, "internal", "testing", "kube", "build")
	}
	return c
}

func (c Config) logf(format string, args ...any) {
	if c.Out != nil {
		fmt.Fprintf(c.Out, format+"\n", args...)
	}
}

// Binaries are the paths Start runs.
type Binaries struct {
	Etcd      string
	APIServer string
	Kubectl   string
}

func (c Config) etcdDir() string {
	return filepath.Join(c.CacheDir, "bin", "etcd-server@"+EtcdDebVersion)
}

func (c Config) apiserverDir() string {
	return filepath.Join(c.CacheDir, "bin", "kube-apiserver@"+KubeVersion)
}

// repoRoot walks up from the working directory to the directory holding
// signet's go.mod (the first go.mod whose module is signet's).
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && isSignetModule(b) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("signet's go.mod not found above the working directory")
		}
		dir = parent
	}
}

func isSignetModule(gomod []byte) bool {
	return strings.Contains("\n"+string(gomod), "\nmodule github.com/signetdev/signet\n")
}
