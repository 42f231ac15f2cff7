package kube

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// StartT installs the binaries (a no-op when cached), starts a cluster in
// a temporary directory and stops it, by PID, when the test ends. A
// failure to install or start fails the test, with the server's log tail.
func StartT(t testing.TB) *Cluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Minute)
	defer cancel()
	cfg := DefaultConfig()
	start := time.Now()
	bins, err := Install(ctx, cfg)
	if err != nil {
		t.Fatalf("kube: install: %v", err)
	}
	dir := t.TempDir()
	c, err := Start(ctx, bins, StartOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Errorf("kube: stopping the cluster: %v", err)
		}
	})
	t.Logf("kube: cluster %s ready in %v", c.Server, time.Since(start).Round(time.Millisecond))
	return c
}

// Kubectl runs kubectl against the cluster with stdin and returns its
// stdout; it fails the test, with both outputs, if kubectl fails.
func (c *Cluster) Kubectl(t testing.TB, stdin string, args ...string) string {
	t.Helper()
	out, errOut, err := c.TryKubectl(stdin, args...)
	if err != nil {
		t.Fatalf("kubectl %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// TryKubectl is Kubectl for commands that may fail.
func (c *Cluster) TryKubectl(stdin string, args ...string) (stdout, stderr string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.KubectlBin, append([]string{"--kubeconfig", c.Kubeconfig}, args...)...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+c.Kubeconfig)
	cmd.Stdin = strings.NewReader(stdin)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

// Apply is `kubectl apply -f -` of YAML or JSON documents.
func (c *Cluster) Apply(t testing.TB, manifest string) {
	t.Helper()
	c.Kubectl(t, manifest, "apply", "-f", "-")
}

// Create POSTs obj (marshalled to JSON) to path and returns the response;
// an error reaching the API server fails the test.
func (c *Cluster) Create(t testing.TB, path string, obj any) Result {
	t.Helper()
	body, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	res, err := c.Do(ctx, "POST", path, body)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	return res
}

// Message is the message of a Status body (a refusal), or the body.
func (r Result) Message() string {
	var st struct {
		Kind    string `json:"kind"`
		Message string `json:"message"`
	}
	if json.Unmarshal(r.Body, &st) == nil && st.Kind == "Status" {
		return st.Message
	}
	return string(r.Body)
}

func (r Result) String() string {
	msg := r.Message()
	if len(msg) > 300 {
		msg = msg[:300] + "…"
	}
	return fmt.Sprintf("%d %s (warnings %q)", r.Status, msg, r.Warnings)
}
