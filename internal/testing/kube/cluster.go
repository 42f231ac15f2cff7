package kube

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/signetdev/signet/internal/testing/stack/localstack"
)

// Cluster is a running etcd + kube-apiserver pair. Its fields are saved in
// Dir/cluster.json, so `hack/kube down` can stop a cluster `hack/kube up`
// left running.
type Cluster struct {
	Dir        string `json:"dir"`        // PKI, data, logs, kubeconfig
	Server     string `json:"server"`     // https://127.0.0.1:PORT
	Kubeconfig string `json:"kubeconfig"` // admin (system:masters) kubeconfig
	KubectlBin string `json:"kubectl"`
	CAFile     string `json:"ca_file"` // the cluster CA (PEM)

	Etcd      *localstack.Proc `json:"etcd"`
	APIServer *localstack.Proc `json:"apiserver"`

	ca     *CA
	client *http.Client
}

// StartOptions tunes Start.
type StartOptions struct {
	Dir          string        // run directory, created; required
	ReadyTimeout time.Duration // default 3 minutes (a loaded machine is slow)
}

const stateFile = "cluster.json"

// Start writes a PKI into opts.Dir, starts etcd and kube-apiserver on free
// loopback ports and waits until /readyz answers ok. On failure everything
// it started is stopped again.
func Start(ctx context.Context, bins Binaries, opts StartOptions) (_ *Cluster, err error) {
	if opts.Dir == "" {
		return nil, errors.New("kube: StartOptions.Dir is required")
	}
	if opts.ReadyTimeout == 0 {
		opts.ReadyTimeout = 3 * time.Minute
	}
	for _, d := range []string{"pki", "etcd", "logs", "apiserver"} {
		if err := os.MkdirAll(filepath.Join(opts.Dir, d), 0o700); err != nil {
			return nil, err
		}
	}
	c := &Cluster{Dir: opts.Dir, KubectlBin: bins.Kubectl}
	defer func() {
		if err != nil {
			_ = c.Stop()
		}
	}()
	ports, err := freePorts(3)
	if err != nil {
		return nil, err
	}
	etcdClient, etcdPeer, apiPort := ports[0], ports[1], ports[2]
	c.Server = "https://127.0.0.1:" + strconv.Itoa(apiPort)
	if err := c.writePKI(); err != nil {
		return nil, fmt.Errorf("kube: writing the PKI: %w", err)
	}
	etcdURL := "http://127.0.0.1:" + strconv.Itoa(etcdClient)
	peerURL := "http://127.0.0.1:" + strconv.Itoa(etcdPeer)
	c.Etcd = &localstack.Proc{
		Name: "etcd",
		Argv: []string{bins.Etcd, "--name", "signet-e2e", "--data-dir", c.path("etcd"),
			"--listen-client-urls", etcdURL, "--advertise-client-urls", etcdURL,
			"--listen-peer-urls", peerURL, "--initial-advertise-peer-urls", peerURL,
			"--initial-cluster", "signet-e2e=" + peerURL, "--logger", "zap", "--log-level", "warn"},
		Log:         c.path("logs", "etcd.log"),
		Ports:       []int{etcdClient, etcdPeer},
		Ready:       localstack.Check{URL: etcdURL + "/health", Want: `"true"`},
		StopTimeout: 10 * time.Second,
	}
	pki := func(f string) string { return c.path("pki", f) }
	c.APIServer = &localstack.Proc{
		Name: "kube-apiserver",
		Argv: []string{bins.APIServer,
			"--etcd-servers=" + etcdURL,
			"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
			"--secure-port=" + strconv.Itoa(apiPort),
			"--cert-dir=" + c.path("apiserver"),
			"--tls-cert-file=" + pki("apiserver.crt"), "--tls-private-key-file=" + pki("apiserver.key"),
			"--client-ca-file=" + pki("ca.crt"),
			"--service-account-issuer=" + c.Server,
			"--service-account-key-file=" + pki("sa.pub"), "--service-account-signing-key-file=" + pki("sa.key"),
			"--service-cluster-ip-range=10.0.0.0/24",
			// No kubelet or Service network: without this the API server
			// logs a loopback-endpoint error every 10 s.
			"--endpoint-reconciler-type=none",
			"--authorization-mode=RBAC",
			"--disable-admission-plugins=ServiceAccount",
			"--profiling=false",
		},
		Log:         c.path("logs", "kube-apiserver.log"),
		Ports:       []int{apiPort},
		Ready:       localstack.Check{TCP: "127.0.0.1:" + strconv.Itoa(apiPort)},
		StopTimeout: 15 * time.Second,
	}
	ctx, cancel := context.WithTimeout(ctx, opts.ReadyTimeout)
	defer cancel()
	for _, p := range []*localstack.Proc{c.Etcd, c.APIServer} {
		if err := p.Start(); err != nil {
			return nil, fmt.Errorf("kube: %w", err)
		}
		if err := c.save(); err != nil {
			return nil, err
		}
		if err := p.WaitReady(ctx); err != nil {
			return nil, fmt.Errorf("kube: %w", err)
		}
	}
	if err := c.waitReadyz(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Cluster) path(elem ...string) string {
	return filepath.Join(append([]string{c.Dir}, elem...)...)
}

// writePKI writes the CA, the API server's serving certificate, the admin
// client certificate, the service-account keys and the kubeconfig.
func (c *Cluster) writePKI() error {
	ca, err := NewCA("signet-e2e-cluster-ca")
	if err != nil {
		return err
	}
	c.ca = ca
	dir := c.path("pki")
	c.CAFile = filepath.Join(dir, "ca.crt")
	if err := os.WriteFile(c.CAFile, ca.CertPEM, 0o644); err != nil {
		return err
	}
	serving, err := ca.ServingCert("kube-apiserver", "kubernetes", "kubernetes.default", "kubernetes.default.svc")
	if err != nil {
		return err
	}
	if _, _, err := serving.WriteFiles(dir, "apiserver"); err != nil {
		return err
	}
	admin, err := ca.ClientCert("signet-e2e-admin", "system:masters")
	if err != nil {
		return err
	}
	if _, _, err := admin.WriteFiles(dir, "admin"); err != nil {
		return err
	}
	if _, _, err := serviceAccountKeys(dir); err != nil {
		return err
	}
	c.Kubeconfig = c.path("kubeconfig")
	return c.writeKubeconfig(admin)
}

// writeKubeconfig writes a kubeconfig with the certificates inline, the
// form both kubectl and signet's --kubeconfig read.
func (c *Cluster) writeKubeconfig(admin Leaf) error {
	b64 := base64.StdEncoding.EncodeToString
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: signet-e2e
  cluster:
    server: %s
    certificate-authority-data: %s
users:
- name: signet-e2e-admin
  user:
    client-certificate-data: %s
    client-key-data: %s
contexts:
- name: signet-e2e
  context:
    cluster: signet-e2e
    user: signet-e2e-admin
current-context: signet-e2e
`, c.Server, b64(c.ca.CertPEM), b64(admin.CertPEM), b64(admin.KeyPEM))
	return os.WriteFile(c.Kubeconfig, []byte(cfg), 0o600)
}

// save records the cluster, with its PIDs, in Dir/cluster.json.
func (c *Cluster) save() error {
	js, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(c.path(stateFile), js, 0o600)
}

// Load reads the cluster recorded in dir (by Start, for hack/kube).
func Load(dir string) (*Cluster, error) {
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	if err != nil {
		return nil, err
	}
	c := &Cluster{}
	if err := json.Unmarshal(b, c); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, stateFile), err)
	}
	return c, nil
}

// Stop stops the API server, then etcd, each by its recorded PID (SIGTERM,
// then SIGKILL after a deadline). The run directory is left for the
// caller (a test's TempDir is removed by the testing package).
func (c *Cluster) Stop() error {
	var errs []error
	for _, p := range []*localstack.Proc{c.APIServer, c.Etcd} {
		if p != nil {
			errs = append(errs, p.Stop())
		}
	}
	if c.Dir != "" && (c.Etcd != nil || c.APIServer != nil) {
		errs = append(errs, c.save())
	}
	return errors.Join(errs...)
}

// Running reports whether both processes are alive.
func (c *Cluster) Running() bool {
	return c.Etcd != nil && c.APIServer != nil && c.Etcd.Alive() && c.APIServer.Alive()
}

// waitReadyz polls /readyz until its body is exactly ok.
func (c *Cluster) waitReadyz(ctx context.Context) error {
	var last error
	for {
		res, err := c.Do(ctx, http.MethodGet, "/readyz", nil)
		switch {
		case err != nil:
			last = err
		case res.Status == http.StatusOK && string(res.Body) == "ok":
			return nil
		default:
			last = fmt.Errorf("/readyz: %d %.200s", res.Status, res.Body)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("kube: the API server is not ready: %v; last lines of %s:\n%s", last, c.APIServer.Log, localstack.Tail(c.APIServer.Log, 15))
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// freePorts returns n distinct free loopback ports. They come from the
// kernel's ephemeral range, far from the local Sigstore stack's fixed
// ports, and are held together so no two are the same.
func freePorts(n int) ([]int, error) {
	var ports []int
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("kube: finding a free port: %w", err)
		}
		defer ln.Close()
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
