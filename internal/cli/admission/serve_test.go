package admission

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/spf13/cobra"

	"github.com/signetdev/signet/internal/cli"
	"github.com/signetdev/signet/internal/iostreams"
	"github.com/signetdev/signet/internal/testing/fakesigstore"
	"github.com/signetdev/signet/internal/testing/regtest"
	"github.com/signetdev/signet/pkg/admission"
	"github.com/signetdev/signet/pkg/imagesig"
	"github.com/signetdev/signet/pkg/oci"
	"github.com/signetdev/signet/pkg/policy"
)

// lockedBuffer is stderr shared by the server's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// testCA is a CA and a serving certificate for 127.0.0.1 written to dir.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
	dir  string
}

func newCA(t testing.TB) *testCA {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert: cert, key: key, pool: pool, dir: t.TempDir()}
}

// issue writes a serving key pair for 127.0.0.1 as prefix.crt/.key.
func (c *testCA) issue(t testing.TB, prefix string, serial int64) (certFile, keyFile string) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "signet-admission"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.cert, key.Public(), c.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile = filepath.Join(c.dir, prefix+".crt"), filepath.Join(c.dir, prefix+".key")
	writeFile(t, certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	writeFile(t, keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}))
	return certFile, keyFile
}

func writeFile(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// signedImage pushes an image and signs it keylessly as subject.
func signedImage(t testing.TB, fs *fakesigstore.Sigstore, host, repo, subject string) name.Digest {
	_, d := regtest.PushRandom(t, host, repo)
	if subject == "" {
		return d
	}
	h, _ := v1.NewHash(d.DigestStr())
	payload, _ := imagesig.NewSimpleSigning(d.Context().Name(), h, nil)
	l, err := imagesig.SignatureLayer(fs.SignBlob(t, subject, "https://gitlab.example", payload, fakesigstore.SignOptions{}), payload, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := oci.New(oci.Options{}).AppendLegacy(context.Background(), d, oci.SignatureSuffix, l, nil); err != nil {
		t.Fatal(err)
	}
	return d
}

const testPolicy = `apiVersion: policy.sigstore.dev/v1alpha1
kind: ClusterImagePolicy
metadata:
  name: gitlab
spec:
  images:
  - glob: "%s/**"
  authorities:
  - name: main-branch
    keyless:
      insecureIgnoreSCT: true
      identities:
      - issuer: https://gitlab.example
        subjectRegExp: ^https://gitlab[.]example/acme/.*@refs/heads/main$
`

func podReview(uid string, images ...string) []byte {
	var cs []map[string]string
	for i, im := range images {
		cs = append(cs, map[string]string{"name": fmt.Sprintf("c%d", i), "image": im})
	}
	obj, _ := json.Marshal(map[string]any{"apiVersion": "v1", "kind": "Pod", "metadata": map[string]any{"name": "p", "namespace": "ns"}, "spec": map[string]any{"containers": cs}})
	rv, _ := json.Marshal(admission.Review{APIVersion: admission.ReviewAPIVersion, Kind: admission.ReviewKind, Request: &admission.Request{
		UID: uid, Kind: admission.GroupVersionKind{Version: "v1", Kind: "Pod"}, Resource: admission.GroupVersionResource{Version: "v1", Resource: "pods"},
		Namespace: "ns", Name: "p", Operation: "CREATE", Object: obj}})
	return rv
}

func post(t *testing.T, c *http.Client, url string, body []byte) *admission.Response {
	t.Helper()
	resp, err := c.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %s: %s", url, resp.Status, data)
	}
	var rv admission.Review
	if err := json.Unmarshal(data, &rv); err != nil || rv.Response == nil || rv.APIVersion != admission.ReviewAPIVersion {
		t.Fatalf("%s: %s (%v)", url, data, err)
	}
	return rv.Response
}

// TestServe runs the command's run function on a loopback port, as the
// API server would call it.
func TestServe(t *testing.T) {
	host := regtest.Registry(t, false)
	fs := fakesigstore.New(t)
	signed := signedImage(t, fs, host, "acme/app", "https://gitlab.example/acme/app//.gitlab-ci.yml@refs/heads/main")
	feature := signedImage(t, fs, host, "acme/feature", "https://gitlab.example/acme/app//.gitlab-ci.yml@refs/heads/feature")
	unsigned := signedImage(t, fs, host, "acme/unsigned", "")

	ca := newCA(t)
	certFile, keyFile := ca.issue(t, "tls", 2)
	dir := t.TempDir()
	policy, rootFile := filepath.Join(dir, "cip.yaml"), filepath.Join(dir, "trusted_root.json")
	writeFile(t, policy, []byte(fmt.Sprintf(testPolicy, host)))
	writeFile(t, rootFile, fs.TrustedRootJSON(t))

	stderr := &lockedBuffer{}
	f := cli.NewFactory(&iostreams.IOStreams{In: &bytes.Buffer{}, Out: &bytes.Buffer{}, ErrOut: stderr})
	f.Getenv = func(string) string { return "" }
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		cmd := NewCmdServe(f, func(ctx context.Context, o *ServeOptions) error {
			o.Ready = func(a string) { addr <- a }
			return Serve(ctx, f, o)
		})
		cmd.SetArgs([]string{"--listen", "127.0.0.1:0", "--tls-cert", certFile, "--tls-key", keyFile, "--policy-file", policy, "--trusted-root", rootFile})
		done <- cmd.ExecuteContext(ctx)
	}()
	var base string
	select {
	case a := <-addr:
		base = "https://" + a
	case err := <-done:
		t.Fatalf("serve ended: %v\n%s", err, stderr)
	}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.pool}}}

	resp, err := c.Get(base + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp.Body.Close()

	if r := post(t, c, base+"/validate", podReview("1", signed.String())); !r.Allowed || r.UID != "1" {
		t.Fatalf("signed image: %+v %+v", r, r.Result)
	}
	r := post(t, c, base+"/validate?timeout=25s", podReview("2", signed.String(), unsigned.String(), feature.String()))
	if r.Allowed || r.Result == nil || r.Result.Code != 403 {
		t.Fatalf("unsigned/feature images admitted: %+v", r)
	}
	for _, want := range []string{"spec.containers[1].image: image " + unsigned.String() + ": policy gitlab: authority main-branch", "no signatures found",
		"spec.containers[2].image", "found https://gitlab.example/acme/app//.gitlab-ci.yml@refs/heads/feature"} {
		if !strings.Contains(r.Result.Message, want) {
			t.Errorf("denial lacks %q:\n%s", want, r.Result.Message)
		}
	}

	tag := host + "/acme/app:v1"
	m := post(t, c, base+"/mutate", podReview("3", tag))
	if !m.Allowed || m.PatchType != "JSONPatch" || !strings.Contains(string(m.Patch), tag+"@"+signed.DigestStr()) {
		t.Fatalf("mutate: %+v patch %s", m, m.Patch)
	}
	if r := post(t, c, base+"/validate", podReview("4", tag)); r.Allowed || !strings.Contains(r.Result.Message, "must be an image digest") {
		t.Fatalf("tag: %+v", r)
	}
	if r := post(t, c, base+"/validate", podReview("5", tag+"@"+signed.DigestStr())); !r.Allowed {
		t.Fatalf("mutated reference denied: %s", r.Result.Message)
	}

	bad, err := c.Post(base+"/validate", "application/json", strings.NewReader(`{"kind":"AdmissionReview"}`))
	if err != nil || bad.StatusCode != http.StatusBadRequest {
		t.Errorf("a malformed review: %v %v", bad, err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("serve: %v", err)
	}
	if !strings.Contains(stderr.String(), "deny CREATE Pod ns/p") {
		t.Errorf("denials are not logged:\n%s", stderr)
	}
}

func TestServeRefusesBadFlags(t *testing.T) {
	f := cli.NewFactory(&iostreams.IOStreams{In: &bytes.Buffer{}, Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}})
	ca := newCA(t)
	certFile, keyFile := ca.issue(t, "tls", 2)
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	writeFile(t, bad, []byte("apiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\nmetadata: {name: x}\nspec:\n  images: [{glob: '**'}]\n  authorities: [{static: {action: pass}}]\n  policy: {type: cue, data: x}\n"))
	// Without an API server a ConfigMap cannot be read: refused by name.
	cmRef := filepath.Join(dir, "cmref.yaml")
	writeFile(t, cmRef, []byte("apiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\nmetadata: {name: c}\nspec:\n  images: [{glob: '**'}]\n  authorities: [{static: {action: pass}}]\n  policy: {type: cue, configMapRef: {name: policies, key: p.cue}}\n"))
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--listen", "127.0.0.1:0", "--tls-cert", certFile, "--tls-key", keyFile, "--policy-file", cmRef, "--system-namespace", "sec"},
			"--policy-file " + cmRef + ": ClusterImagePolicy c: spec.policy.configMapRef: ConfigMap sec/policies: ConfigMaps are read from the API server, and none is configured (--kubeconfig or in-cluster)"},
		{[]string{"--listen", "127.0.0.1:0"}, "--tls-cert and --tls-key are required"},
		{[]string{"--listen", "nope", "--tls-cert", certFile, "--tls-key", keyFile}, "--listen \"nope\""},
		{[]string{"--tls-cert", certFile, "--tls-key", keyFile, "--no-match-policy", "maybe"}, "--no-match-policy \"maybe\""},
		{[]string{"--listen", "127.0.0.1:0", "--tls-cert", certFile, "--tls-key", certFile}, "--tls-cert"},
		{[]string{"--listen", "127.0.0.1:0", "--tls-cert", certFile, "--tls-key", keyFile, "--policy-file", bad}, "--policy-file " + bad + ": ClusterImagePolicy x: spec.policy"},
		{[]string{"--listen", "127.0.0.1:0", "--tls-cert", certFile, "--tls-key", keyFile, "--trust-root", "corp"}, "--trust-root \"corp\": want NAME=trusted_root.json"},
		{[]string{"--tls-cert", certFile, "--tls-key", keyFile, "--policy-concurrency", "99"}, "--policy-concurrency 99: want 0"},
		{[]string{"--tls-cert", certFile, "--tls-key", keyFile, "--policy-concurrency", "-1"}, "--policy-concurrency -1: want 0"},
	} {
		cmd := NewCmdServe(f, nil)
		cmd.SetArgs(tc.args)
		cmd.SilenceUsage, cmd.SilenceErrors = true, true
		err := cmd.ExecuteContext(context.Background())
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: got %v, want %q", tc.args, err, tc.want)
		}
	}
}

func TestCertReload(t *testing.T) {
	ca := newCA(t)
	certFile, keyFile := ca.issue(t, "tls", 2)
	now := time.Now()
	var logs []string
	r, err := newCertReloader(certFile, keyFile, func() time.Time { return now }, func(f string, a ...any) { logs = append(logs, fmt.Sprintf(f, a...)) })
	if err != nil {
		t.Fatal(err)
	}
	serial := func() int64 {
		c, err := r.certificate(nil)
		if err != nil {
			t.Fatal(err)
		}
		x, _ := x509.ParseCertificate(c.Certificate[0])
		return x.SerialNumber.Int64()
	}
	if serial() != 2 {
		t.Fatal("first certificate")
	}
	ca.issue(t, "tls", 3)
	// Different sizes or times: make sure the stamp differs.
	later := time.Now().Add(time.Minute)
	_ = os.Chtimes(certFile, later, later)
	if serial() != 2 {
		t.Error("reloaded within the second")
	}
	now = now.Add(2 * time.Second)
	if serial() != 3 {
		t.Error("rotated certificate not served")
	}
	writeFile(t, keyFile, []byte("half-written"))
	now = now.Add(2 * time.Second)
	if serial() != 3 {
		t.Error("a broken rotation replaced the certificate")
	}
	if len(logs) == 0 || !strings.Contains(logs[len(logs)-1], "keeping the previous TLS certificate") {
		t.Errorf("logs %q", logs)
	}
}

// TestDeadline: a registry that never answers costs one deadline, derived
// from the API server's ?timeout, and the denial names image and registry.
func TestDeadline(t *testing.T) {
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer hang.Close()
	host := strings.TrimPrefix(hang.URL, "http://")
	cips, err := admission.ParsePolicyFile([]byte(fmt.Sprintf(testPolicy, host)))
	if err != nil {
		t.Fatal(err)
	}
	p, err := admission.Compile(context.Background(), cips[0], admission.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	reg := &admission.Registry{}
	e := &admission.Engine{Policies: func() []*admission.Policy { return []*admission.Policy{p} }, Source: reg.Source, Parse: reg.Parse, NoMatch: admission.NoMatchDeny, Workers: 2}
	s := &server{engine: e, ready: func() error { return nil }, timeout: 20 * time.Second, logf: t.Logf}
	srv := httptest.NewTLSServer(s.handler())
	defer srv.Close()
	img := host + "/acme/app@sha256:" + strings.Repeat("c", 64)
	start := time.Now()
	r := post(t, srv.Client(), srv.URL+"/validate?timeout=4s", podReview("d", img))
	took := time.Since(start)
	if r.Allowed {
		t.Fatal("admitted although the registry never answered")
	}
	if took < 900*time.Millisecond || took > 10*time.Second {
		t.Errorf("answered after %s, want about 1s (4s - 3s margin)", took)
	}
	for _, want := range []string{img, "did not finish before the webhook's deadline", "registry " + host} {
		if !strings.Contains(r.Result.Message, want) {
			t.Errorf("denial lacks %q: %s", want, r.Result.Message)
		}
	}
}

// TestServeOutlivesGlobalTimeout: the global --timeout bounds commands,
// not a server.
func TestServeOutlivesGlobalTimeout(t *testing.T) {
	ca := newCA(t)
	certFile, keyFile := ca.issue(t, "tls", 2)
	stderr := &lockedBuffer{}
	f := cli.NewFactory(&iostreams.IOStreams{In: &bytes.Buffer{}, Out: &bytes.Buffer{}, ErrOut: stderr})
	f.Getenv = func(string) string { return "" }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- cli.MainWithFactory(ctx, []string{"--timeout", "200ms", "admission", "serve", "--listen", "127.0.0.1:0", "--tls-cert", certFile, "--tls-key", keyFile}, f,
			func(f *cli.Factory) *cobra.Command { return NewCmdAdmission(f) })
	}()
	var addr string
	eventually(t, "the listening line", func() bool {
		_, rest, ok := strings.Cut(stderr.String(), "listening on https://")
		addr, _, _ = strings.Cut(rest, " ")
		return ok && addr != ""
	})
	time.Sleep(500 * time.Millisecond)
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.pool}}}
	resp, err := c.Get("https://" + addr + "/healthz")
	if err != nil {
		t.Fatalf("serve stopped at the global --timeout: %v\n%s", err, stderr)
	}
	resp.Body.Close()
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("exit %d: %s", code, stderr)
	}
}

// The API server's ?timeout= shortens the deadline, wherever it is in the
// query; a value that does not parse leaves --request-timeout.
func TestDeadlineFromQuery(t *testing.T) {
	s := &server{timeout: 20 * time.Second}
	for q, want := range map[string]time.Duration{
		"":                          20 * time.Second,
		"timeout=10s":               7 * time.Second,
		"a=b&timeout=10s&timeout=1": 7 * time.Second,
		"timeout=2s":                time.Second,
		"timeout=30s":               20 * time.Second,
		"timeout=%31%30s":           7 * time.Second,
		"timeout=ten":               20 * time.Second,
		"timeout=%zz":               20 * time.Second,
		"xtimeout=5s":               20 * time.Second,
	} {
		r := httptest.NewRequest(http.MethodPost, "/validate?"+q, nil)
		if got := s.deadline(r); got != want {
			t.Errorf("?%s: %v, want %v", q, got, want)
		}
	}
}

// serve runs the collector at GOGC=400 unless GOGC is set, and puts the
// previous setting back when it returns.
func TestServeGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	restore := serveGC(func(string) string { return "" })
	if got := debug.SetGCPercent(serveGCPercent); got != serveGCPercent {
		t.Fatalf("GOGC unset: collector at %d, want %d", got, serveGCPercent)
	}
	restore()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Fatalf("after serve: collector at %d, want 100", got)
	}
	restore = serveGC(func(k string) string {
		if k == "GOGC" {
			return "50"
		}
		return ""
	})
	defer restore()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Fatalf("GOGC=50 set: serve changed the collector to %d", got)
	}
}

// serve gives signet-policy half of its GOMEMLIMIT and keeps the other
// half, so the two do not each aim for the pod's whole budget; without
// a limit, neither is changed. --policy-concurrency reaches the engine.
func TestServeEngine(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(400 << 20))
	p := &policy.Process{}
	restore := serveEngine(p, 3)
	if got := debug.SetMemoryLimit(-1); got != 200<<20 {
		t.Errorf("serve's limit %d, want %d", got, 200<<20)
	}
	if p.MemoryLimit != 200<<20 || p.Concurrency != 3 {
		t.Errorf("the engine's limit %d and concurrency %d, want %d and 3", p.MemoryLimit, p.Concurrency, 200<<20)
	}
	restore()
	if got := debug.SetMemoryLimit(-1); got != 400<<20 || p.MemoryLimit != 0 || p.Concurrency != 0 {
		t.Errorf("after serve: limits %d and %d, concurrency %d, want %d, 0 and 0", got, p.MemoryLimit, p.Concurrency, 400<<20)
	}
	debug.SetMemoryLimit(math.MaxInt64)
	// The CLI's engine checks one statement at a time; serve's, without
	// --policy-concurrency, has Process's default (0: GOMAXPROCS, up to 4).
	p.Concurrency = 1
	restore = serveEngine(p, 0)
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 || p.MemoryLimit != 0 || p.Concurrency != 0 {
		t.Errorf("no GOMEMLIMIT: limits %d and %d, concurrency %d, want none, 0 and 0", got, p.MemoryLimit, p.Concurrency)
	}
	restore()
	if p.Concurrency != 1 {
		t.Errorf("after serve: concurrency %d, want the CLI's 1", p.Concurrency)
	}
}
