package admission

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signetdev/signet/pkg/admission"
)

func staticCIP(name, glob, action, rv string, extra string) json.RawMessage {
	return json.RawMessage(fmt.Sprintf(`{"apiVersion":"policy.sigstore.dev/v1alpha1","kind":"ClusterImagePolicy","metadata":{"name":%q,"uid":"uid-%s","resourceVersion":%q},"spec":{"images":[{"glob":%q}],"authorities":[{"static":{"action":%q}}]%s}}`, name, name, rv, glob, action, extra))
}

// fakeAPI serves the ClusterImagePolicy list, a watch fed by events, and
// the status subresource; it checks the bearer token.
type fakeAPI struct {
	t       *testing.T
	items   []json.RawMessage
	events  chan string
	mu      sync.Mutex
	status  map[string]string
	patches int
}

func (a *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer s3cret" {
		http.Error(w, `{"message":"Unauthorized"}`, http.StatusUnauthorized)
		return
	}
	switch {
	case r.Method == http.MethodGet && r.URL.Path == policiesPath && r.URL.Query().Get("watch") == "":
		b, _ := json.Marshal(map[string]any{"kind": "ClusterImagePolicyList", "metadata": map[string]string{"resourceVersion": "10"}, "items": a.items})
		w.Write(b)
	case r.Method == http.MethodGet && r.URL.Path == policiesPath:
		if r.URL.Query().Get("resourceVersion") != "10" {
			a.t.Errorf("watch from %q", r.URL.RawQuery)
		}
		streamEvents(w, r, a.events)
	case r.Method == http.MethodPatch && strings.HasSuffix(r.URL.Path, "/status"):
		body, _ := io.ReadAll(r.Body)
		a.mu.Lock()
		a.status[strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, policiesPath+"/"), "/status")] = string(body)
		a.patches++
		a.mu.Unlock()
		w.Write([]byte(`{}`))
	default:
		http.NotFound(w, r)
	}
}

// streamEvents writes a watch stream: one line per event until events
// is closed or the client goes.
func streamEvents(w http.ResponseWriter, r *http.Request, events <-chan string) {
	w.WriteHeader(200)
	w.(http.Flusher).Flush()
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				return
			}
			io.WriteString(w, ev+"\n")
			w.(http.Flusher).Flush()
		case <-r.Context().Done():
			return
		}
	}
}

func (a *fakeAPI) statusOf(name string) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.status[name]
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// testKube is a client, from a kubeconfig with a bearer token, of an
// API server on loopback served by h.
func testKube(t *testing.T, h http.Handler) *kube {
	t.Helper()
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	kcFile := filepath.Join(t.TempDir(), "kubeconfig")
	writeFile(t, kcFile, []byte(fmt.Sprintf(`apiVersion: v1
kind: Config
current-context: test
contexts:
- name: test
  context: {cluster: c, user: u}
clusters:
- name: c
  cluster:
    server: %s
    certificate-authority-data: %s
users:
- name: u
  user: {token: s3cret}
`, srv.URL, base64.StdEncoding.EncodeToString(ca))))
	kc, err := kubeFromConfig(kcFile, http.DefaultTransport.(*http.Transport).Clone())
	if err != nil {
		t.Fatal(err)
	}
	return kc
}

// TestWatch: policies listed, then changed through the watch; a refused
// policy denies its images and says why on its status.
func TestWatch(t *testing.T) {
	api := &fakeAPI{t: t, events: make(chan string, 10), status: map[string]string{},
		items: []json.RawMessage{staticCIP("a", "a.example/**", "pass", "5", ""), staticCIP("b", "b.example/**", "pass", "6", `,"policy":{"type":"cue","data":"x"}`)}}
	defer close(api.events)
	kc := testKube(t, api)
	st := &store{kube: kc, logf: t.Logf, now: time.Now, api: map[string]*admission.Policy{}}
	st.publish()
	e := &admission.Engine{Policies: st.policies, NoMatch: admission.NoMatchDeny, Workers: 2, Cache: admission.NewCache(10, time.Minute, nil)}
	srvr := &server{engine: e, ready: st.readiness}
	if srvr.ready() == nil {
		t.Fatal("ready before the first list")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go st.run(ctx)
	eventually(t, "the first list", func() bool { return st.readiness() == nil })

	img := func(host string) admission.Workload {
		return admission.Workload{Resource: admission.GroupVersionResource{Version: "v1", Resource: "pods"},
			Images: []admission.ContainerImage{{Path: "spec.containers[0].image", Image: host + "/app@sha256:" + strings.Repeat("1", 64)}}}
	}
	if d := e.Validate(ctx, "ns", img("a.example")); !d.Allowed {
		t.Fatal(d.Message)
	}
	d := e.Validate(ctx, "ns", img("b.example"))
	if d.Allowed || !strings.Contains(d.Message, "policy b: authority refused: signet refused this policy: ClusterImagePolicy b: spec.policy") {
		t.Fatalf("refused policy: %+v", d)
	}
	eventually(t, "status patches", func() bool { return api.statusOf("a") != "" && api.statusOf("b") != "" })
	if s := api.statusOf("b"); !strings.Contains(s, `"reason":"Refused"`) || !strings.Contains(s, `"status":"False"`) {
		t.Errorf("status of b: %s", s)
	}
	if s := api.statusOf("a"); !strings.Contains(s, `"reason":"Enforced"`) {
		t.Errorf("status of a: %s", s)
	}

	// The status patch comes back as a MODIFIED event carrying it: no
	// second patch.
	api.mu.Lock()
	patches := api.patches
	withStatus := strings.TrimSuffix(string(staticCIP("a", "a.example/**", "pass", "7", "")), "}") + `,"status":` + strings.TrimPrefix(strings.TrimSuffix(api.status["a"], "}"), `{"status":`) + "}"
	api.mu.Unlock()
	ev, _ := json.Marshal(watchEvent{Type: "MODIFIED", Object: json.RawMessage(withStatus)})
	api.events <- string(ev)
	ev, _ = json.Marshal(watchEvent{Type: "MODIFIED", Object: staticCIP("a", "a.example/**", "fail", "11", "")})
	api.events <- string(ev)
	eventually(t, "the modified policy", func() bool { return !e.Validate(ctx, "ns", img("a.example")).Allowed })
	api.mu.Lock()
	if api.patches != patches+1 { // the last MODIFIED has no status: patched once
		t.Errorf("%d status patches after the events, want 1", api.patches-patches)
	}
	api.mu.Unlock()
	ev, _ = json.Marshal(watchEvent{Type: "DELETED", Object: staticCIP("b", "b.example/**", "pass", "12", "")})
	api.events <- string(ev)
	eventually(t, "the deleted policy", func() bool {
		return strings.Contains(e.Validate(ctx, "ns", img("b.example")).Message, "no matching policies")
	})
}

func TestKubeconfigErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ body, want string }{
		{"current-context: x\n", `no context "x"`},
		{"current-context: x\ncontexts: [{name: x, context: {cluster: c, user: u}}]\nclusters: [{name: c, cluster: {server: http://127.0.0.1:1}}]\n", "want an https:// URL"},
		{"current-context: x\ncontexts: [{name: x, context: {cluster: c, user: u}}]\nclusters: [{name: c, cluster: {server: https://127.0.0.1:1, certificate-authority: missing.pem}}]\n", "missing.pem"},
		{"current-context: x\ncontexts: [{name: x, context: {cluster: c, user: u}}]\nclusters: [{name: c, cluster: {server: https://127.0.0.1:1}}]\nusers: [{name: u, user: {client-certificate-data: bm9wZQ==, client-key-data: bm9wZQ==}}]\n", `client certificate of user "u"`},
	} {
		f := filepath.Join(dir, "kc")
		writeFile(t, f, []byte(tc.body))
		_, err := kubeFromConfig(f, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "--kubeconfig "+f) {
			t.Errorf("%q: got %v, want %q", tc.body, err, tc.want)
		}
	}
}
