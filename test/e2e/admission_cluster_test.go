//go:build e2e

package e2e

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signetdev/signet/internal/testing/kube"
	"github.com/signetdev/signet/internal/testing/stack"
	"github.com/signetdev/signet/internal/testing/stack/localstack"
)

// The admission tests' fixture: a real API server (internal/testing/kube),
// `signet admission serve` as a built binary on 127.0.0.1 registered by
// clientConfig.url + caBundle, and images in the local stack's registry.

const (
	enforcedNS = "signet-e2e-enforced" // labelled policy.sigstore.dev/include=true
	openNS     = "signet-e2e-open"     // not labelled: never sent to the webhook
	// webhookTimeout is the webhooks' timeoutSeconds in deploy/.
	webhookTimeout = 25 * time.Second
)

// admissionFixture is one cluster with signet's webhooks registered.
type admissionFixture struct {
	env     *stack.Env
	cluster *kube.Cluster
	signet  string // the built binary
	dir     string
	port    int
	cert    string // webhook serving certificate and key
	key     string
	caPEM   []byte
	hook    *localstack.Proc
}

var (
	signetOnce sync.Once
	signetBin  string
	signetErr  error
)

// buildSignet builds cmd/signet, and the signet-policy it runs beside it,
// once per test binary: the webhook runs as the real binary an operator
// deploys, not in-process. The binary goes to
// a fixed path per checkout, overwritten by each run, so nothing piles up.
func buildSignet(t *testing.T) string {
	t.Helper()
	signetOnce.Do(func() {
		root := repoRoot(t)
		dir := filepath.Join(os.TempDir(), "signet-e2e-bin", fmt.Sprintf("%x", sha256.Sum256([]byte(root)))[:12])
		if signetErr = os.MkdirAll(dir, 0o755); signetErr != nil {
			return
		}
		signetBin = filepath.Join(dir, "signet")
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", dir+string(filepath.Separator), "./cmd/signet", "./cmd/signet-policy")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			signetErr = fmt.Errorf("%w\n%s", err, out)
		}
	})
	if signetErr != nil {
		t.Fatalf("building signet: %v", signetErr)
	}
	return signetBin
}

// newAdmissionFixture starts the cluster, builds signet, registers it and
// starts its webhook with flags. env (the Sigstore stack) may be nil for
// policies that need no trust root.
func newAdmissionFixture(t *testing.T, env *stack.Env, flags ...string) *admissionFixture {
	t.Helper()
	dir := t.TempDir()
	f := &admissionFixture{env: env, dir: dir}
	f.signet = buildSignet(t)
	f.cluster = kube.StartT(t)
	ca := f.cluster.CA()
	leaf, err := ca.ServingCert("signet-admission")
	if err != nil {
		t.Fatal(err)
	}
	if f.cert, f.key, err = leaf.WriteFiles(dir, "webhook"); err != nil {
		t.Fatal(err)
	}
	f.caPEM = ca.CertPEM
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.port = ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	// Everything signet ships (CRD, RBAC, Deployment, Service, webhook
	// configurations) as `signet admission manifests` renders it for a
	// webhook outside the cluster, so the shipped manifests are what the
	// API server runs. The CRD must exist before serve starts: its /healthz
	// is ready once it has listed the ClusterImagePolicies.
	caFile := filepath.Join(dir, "webhook-ca.pem")
	if err := os.WriteFile(caFile, f.caPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(f.signet, "admission", "manifests", "--ca-bundle", caFile,
		"--webhook-url", "https://127.0.0.1:"+strconv.Itoa(f.port)).Output()
	if err != nil {
		t.Fatalf("signet admission manifests: %v", err)
	}
	f.cluster.Apply(t, string(out))
	f.cluster.Kubectl(t, "", "wait", "--for", "condition=established", "--timeout", "60s", "crd/clusterimagepolicies.policy.sigstore.dev", "crd/trustroots.policy.sigstore.dev")
	f.cluster.Apply(t, fmt.Sprintf(`apiVersion: v1
kind: Namespace
metadata:
  name: %s
  labels:
    policy.sigstore.dev/include: "true"
---
apiVersion: v1
kind: Namespace
metadata:
  name: %s
`, enforcedNS, openNS))
	f.startWebhook(t, flags...)
	t.Cleanup(func() { f.stopWebhook(t) })
	return f
}

// crd returns the ClusterImagePolicy CRD signet ships in deploy/.
func (f *admissionFixture) crd(t *testing.T) string {
	t.Helper()
	root := repoRoot(t)
	files, _ := filepath.Glob(filepath.Join(root, "deploy", "*.yaml"))
	sub, _ := filepath.Glob(filepath.Join(root, "deploy", "*", "*.yaml"))
	for _, p := range append(files, sub...) {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, doc := range strings.Split(string(b), "\n---") {
			if strings.Contains(doc, "kind: CustomResourceDefinition") && strings.Contains(doc, "clusterimagepolicies.policy.sigstore.dev") {
				return doc
			}
		}
	}
	t.Fatalf("no ClusterImagePolicy CustomResourceDefinition in %s/deploy", root)
	return ""
}

func repoRoot(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		t.Fatalf("go list -m: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// startWebhook runs `signet admission serve` on the fixture's port with
// the stack's trust root, the cluster's kubeconfig and flags, and waits
// until /healthz answers over TLS.
func (f *admissionFixture) startWebhook(t *testing.T, flags ...string) {
	t.Helper()
	home := filepath.Join(f.dir, "home")
	argv := append([]string{f.signet, "admission", "serve",
		"--listen", "127.0.0.1:" + strconv.Itoa(f.port),
		"--tls-cert", f.cert, "--tls-key", f.key,
		"--kubeconfig", f.cluster.Kubeconfig}, flags...)
	if f.env != nil {
		argv = append(argv, "--trusted-root", f.env.TrustedRoot)
	}
	f.hook = &localstack.Proc{
		Name:        "signet-admission",
		Argv:        argv,
		Env:         []string{"HOME=" + home, "TUF_ROOT=" + filepath.Join(home, "tuf"), "DOCKER_CONFIG=" + filepath.Join(home, "docker")},
		Log:         filepath.Join(f.dir, "signet-admission.log"),
		Ports:       []int{f.port},
		Ready:       localstack.Check{TCP: "127.0.0.1:" + strconv.Itoa(f.port)},
		StopTimeout: 10 * time.Second,
	}
	if err := f.hook.Start(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := f.hook.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(f.caPEM)
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{Proxy: nil, TLSClientConfig: &tls.Config{RootCAs: pool}}}
	for {
		resp, err := client.Get("https://127.0.0.1:" + strconv.Itoa(f.port) + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
			err = fmt.Errorf("/healthz: %s", resp.Status)
		}
		if ctx.Err() != nil {
			t.Fatalf("signet admission serve is not healthy: %v; log:\n%s", err, localstack.Tail(f.hook.Log, 20))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (f *admissionFixture) stopWebhook(t *testing.T) {
	t.Helper()
	if f.hook == nil {
		return
	}
	if err := f.hook.Stop(); err != nil {
		t.Errorf("stopping signet admission serve: %v", err)
	}
	if t.Failed() {
		t.Logf("signet admission serve log (tail):\n%s", localstack.Tail(f.hook.Log, 40))
	}
	f.hook = nil
}

// restartWebhook replaces the running webhook by one with other flags,
// on the same port, so the registrations stay valid.
func (f *admissionFixture) restartWebhook(t *testing.T, flags ...string) {
	t.Helper()
	f.stopWebhook(t)
	f.startWebhook(t, flags...)
}

// create POSTs obj into namespace ns (resource: "pods", "deployments"…)
// and returns the API server's answer.
func (f *admissionFixture) create(t *testing.T, ns string, obj map[string]any) kube.Result {
	t.Helper()
	return f.cluster.Create(t, objectPath(obj, ns), obj)
}

// objectPath is the collection URL of obj's kind in ns.
func objectPath(obj map[string]any, ns string) string {
	switch obj["kind"] {
	case "Pod":
		return "/api/v1/namespaces/" + ns + "/pods"
	case "Deployment":
		return "/apis/apps/v1/namespaces/" + ns + "/deployments"
	case "CronJob":
		return "/apis/batch/v1/namespaces/" + ns + "/cronjobs"
	}
	panic(fmt.Sprintf("objectPath: kind %v", obj["kind"]))
}

// eventually calls try until it reports done or timeout passes, and
// returns the last result. Used where the webhook learns something from a
// watch (a new policy, a registration) a moment after the API accepted it.
func eventually(timeout time.Duration, try func() (kube.Result, bool)) (kube.Result, time.Duration) {
	start := time.Now()
	for {
		res, done := try()
		if done || time.Since(start) > timeout {
			return res, time.Since(start)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

var nameSeq atomic.Int64

// newName gives each object a fresh name.
func newName(prefix string) string {
	return fmt.Sprintf("%s-%d", prefix, nameSeq.Add(1))
}

func containers(images ...string) []any {
	var out []any
	for i, img := range images {
		out = append(out, map[string]any{"name": "c" + strconv.Itoa(i), "image": img})
	}
	return out
}

func podSpec(images ...string) map[string]any {
	return map[string]any{"containers": containers(images...)}
}

func pod(images ...string) map[string]any {
	return map[string]any{"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{"name": newName("pod")}, "spec": podSpec(images...)}
}

func deployment(image string) map[string]any {
	labels := map[string]any{"app": "e2e"}
	return map[string]any{"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": newName("deploy")},
		"spec": map[string]any{"replicas": 1, "selector": map[string]any{"matchLabels": labels},
			"template": map[string]any{"metadata": map[string]any{"labels": labels}, "spec": podSpec(image)}}}
}

func cronJob(image string) map[string]any {
	spec := podSpec(image)
	spec["restartPolicy"] = "Never"
	return map[string]any{"apiVersion": "batch/v1", "kind": "CronJob",
		"metadata": map[string]any{"name": newName("cron")},
		"spec": map[string]any{"schedule": "*/5 * * * *",
			"jobTemplate": map[string]any{"spec": map[string]any{"template": map[string]any{"spec": spec}}}}}
}
