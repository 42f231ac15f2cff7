package admission

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signetdev/signet/pkg/admission"
	"github.com/signetdev/signet/pkg/policy/engine"
)

// fakeConfigMaps serves the ConfigMaps of one namespace (GET one, list,
// watch fed by events) in front of a fakeAPI serving the policies.
type fakeConfigMaps struct {
	*fakeAPI
	ns     string
	mu     sync.Mutex
	cms    map[string]configMapObject
	events chan string
	gets   atomic.Int64
	deny   bool // answer 403, as an install without the Role
	// accepts are the Accept headers of the list and of the watch
	accepts map[string]string
}

func (c *fakeConfigMaps) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	base := configMapsPath(c.ns)
	if r.Header.Get("Authorization") != "Bearer s3cret" || !strings.HasPrefix(r.URL.Path, base) {
		c.fakeAPI.ServeHTTP(w, r)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch name := strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, base), "/"); {
	case c.deny:
		w.WriteHeader(http.StatusForbidden)
		w.Write([]byte(`{"kind":"Status","message":"forbidden"}`))
	case name != "":
		c.gets.Add(1)
		cm, ok := c.cms[name]
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprintf(w, `{"kind":"Status","message":"configmaps %q not found"}`, name)
			return
		}
		json.NewEncoder(w).Encode(cm)
	case r.URL.Query().Get("watch") == "":
		c.accepted("list", r)
		var items []configMapObject
		for _, cm := range c.cms {
			items = append(items, cm)
		}
		json.NewEncoder(w).Encode(map[string]any{"metadata": map[string]string{"resourceVersion": "100"}, "items": items})
	default:
		c.accepted("watch", r)
		c.mu.Unlock()
		streamEvents(w, r, c.events)
		c.mu.Lock()
	}
}

func (c *fakeConfigMaps) accepted(what string, r *http.Request) {
	if c.accepts == nil {
		c.accepts = map[string]string{}
	}
	c.accepts[what] = r.Header.Get("Accept")
}

// set changes (or with data nil, deletes) a ConfigMap and sends its
// watch event.
func (c *fakeConfigMaps) set(name, rv string, data map[string]string) {
	c.mu.Lock()
	cm := configMapObject{Metadata: admission.ObjectMeta{Name: name, ResourceVersion: rv}, Data: data}
	typ := "MODIFIED"
	if _, had := c.cms[name]; !had {
		typ = "ADDED"
	}
	if data == nil {
		typ = "DELETED"
		delete(c.cms, name)
	} else {
		c.cms[name] = cm
	}
	c.mu.Unlock()
	obj, _ := json.Marshal(cm)
	ev, _ := json.Marshal(watchEvent{Type: typ, Object: obj})
	c.events <- string(ev)
}

func regoKind(kind string) string {
	return "package sigstore\ndefault isCompliant = false\nisCompliant { input.typemeta.kind == \"" + kind + "\" }\n"
}

func cmPolicy(name, glob, cm, rv string) json.RawMessage {
	return staticCIP(name, glob, "pass", rv, fmt.Sprintf(`,"policy":{"type":"rego","includeTypeMeta":true,"configMapRef":{"name":%q,"key":"p.rego"}}`, cm))
}

// TestConfigMapWatch: policies whose spec.policy is in a ConfigMap, from
// the API server and from --policy-file (read through the kubeconfig),
// follow the ConfigMap: an edit flips the next admission, a ConfigMap
// that appears enforces the policy it refused, one that goes refuses it.
func TestConfigMapWatch(t *testing.T) {
	api := &fakeAPI{t: t, events: make(chan string, 10), status: map[string]string{},
		items: []json.RawMessage{cmPolicy("a", "a.example/**", "policies", "5"), cmPolicy("b", "b.example/**", "later", "6")}}
	defer close(api.events)
	cms := &fakeConfigMaps{fakeAPI: api, ns: "signet-system", events: make(chan string, 10),
		cms: map[string]configMapObject{"policies": {Metadata: admission.ObjectMeta{Name: "policies", ResourceVersion: "1"}, Data: map[string]string{"p.rego": regoKind("Pod")}}}}
	defer close(cms.events)
	kc := testKube(t, cms)
	logs := &lockedBuffer{}
	st := &store{kube: kc, logf: func(f string, a ...any) { fmt.Fprintf(logs, f+"\n", a...) }, now: time.Now, api: map[string]*admission.Policy{},
		load: admission.LoadOptions{SystemNamespace: "signet-system", Compile: policyCompiler(engine.Local{})}}
	file := filepath.Join(t.TempDir(), "cip.yaml")
	writeFile(t, file, cmPolicy("f", "f.example/**", "policies", ""))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := st.loadFiles(ctx, []string{file}, &trustSource{}); err != nil {
		t.Fatal(err)
	}
	st.publish()
	e := &admission.Engine{Policies: st.policies, NoMatch: admission.NoMatchDeny, Workers: 2, Cache: admission.NewCache(10, time.Minute, nil)}
	go st.run(ctx)
	go st.runConfigMaps(ctx)
	eventually(t, "the first list", func() bool { return st.readiness() == nil })

	pod := func(host string) admission.Workload {
		return admission.Workload{Resource: admission.GroupVersionResource{Version: "v1", Resource: "pods"},
			Object: []byte(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{}}`),
			Images: []admission.ContainerImage{{Path: "spec.containers[0].image", Image: host + "/app@sha256:" + strings.Repeat("1", 64)}}}
	}
	for _, h := range []string{"a.example", "f.example"} {
		if d := e.Validate(ctx, "ns", pod(h)); !d.Allowed {
			t.Fatalf("%s: %s", h, d.Message)
		}
	}
	d := e.Validate(ctx, "ns", pod("b.example"))
	if d.Allowed || !strings.Contains(d.Message, `spec.policy.configMapRef: ConfigMap signet-system/later: does not exist`) {
		t.Fatalf("policy naming a missing ConfigMap: %+v", d)
	}
	eventually(t, "the refusal on b's status", func() bool {
		return strings.Contains(api.statusOf("b"), "ConfigMap signet-system/later: does not exist")
	})
	gets := cms.gets.Load()
	// The list and watch ask for the ConfigMaps' metadata alone (the real
	// API server's answer is in test/e2e's TestAdmissionConfigMap).
	eventually(t, "the ConfigMap watch", func() bool {
		cms.mu.Lock()
		defer cms.mu.Unlock()
		return cms.accepts["watch"] != ""
	})
	cms.mu.Lock()
	for what, want := range map[string]string{"list": "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,", "watch": "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,"} {
		if got := cms.accepts[what]; !strings.HasPrefix(got, want) {
			t.Errorf("the ConfigMap %s accepts %q, want %s…", what, got, want)
		}
	}
	cms.mu.Unlock()

	// An edit reaches the next admission, through the cached verdicts.
	cms.set("policies", "2", map[string]string{"p.rego": regoKind("Deployment")})
	for _, h := range []string{"a.example", "f.example"} {
		eventually(t, h+" judged by the edited ConfigMap", func() bool {
			d := e.Validate(ctx, "ns", pod(h))
			return !d.Allowed && strings.Contains(d.Message, "spec.policy failed")
		})
	}
	// Another ConfigMap's change compiles nothing again.
	cms.set("unrelated", "3", map[string]string{"x": "y"})
	cms.set("later", "4", map[string]string{"p.rego": regoKind("Pod")})
	eventually(t, "b enforced once its ConfigMap exists", func() bool { return e.Validate(ctx, "ns", pod("b.example")).Allowed })
	if n := cms.gets.Load() - gets; n != 3 {
		t.Errorf("%d ConfigMap reads after the changes, want 3 (a and f for one, b for the other)", n)
	}
	eventually(t, "b's status", func() bool { return strings.Contains(api.statusOf("b"), `"reason":"Enforced"`) })

	// Our own status patch comes back as an event at a new
	// resourceVersion: a is kept as compiled (its ConfigMap not read
	// again, its cached verdicts kept). A change of its annotations (how
	// one has a policy's inputs read again) or of its spec compiles it.
	gets = cms.gets.Load()
	enforced := `,"status":{"conditions":[{"type":"Ready","status":"True","reason":"Enforced","message":"signet admission enforces this policy"}]}`
	modified := func(rv, glob, status string) {
		obj := strings.TrimSuffix(string(cmPolicy("a", glob, "policies", rv)), "}") + status + "}"
		obj = strings.Replace(obj, `"resourceVersion":"51"`, `"resourceVersion":"51","annotations":{"example.com/rotated":"1"}`, 1)
		ev, _ := json.Marshal(watchEvent{Type: "MODIFIED", Object: json.RawMessage(obj)})
		api.events <- string(ev)
	}
	rvOf := func() (applied, compiled string) {
		st.compileMu.Lock()
		defer st.compileMu.Unlock()
		var m struct {
			Metadata admission.ObjectMeta `json:"metadata"`
		}
		json.Unmarshal(st.apiRaw["a"], &m)
		for _, p := range st.policies() {
			if p.Name == "a" {
				compiled = p.ResourceVersion
			}
		}
		return m.Metadata.ResourceVersion, compiled
	}
	modified("50", "a.example/**", enforced)
	eventually(t, "the status event applied", func() bool { a, _ := rvOf(); return a == "50" })
	if _, c := rvOf(); c != "5" {
		t.Errorf("a compiled again at resourceVersion %s after an event changing its status only", c)
	}
	if n := cms.gets.Load() - gets; n != 0 {
		t.Errorf("%d ConfigMap reads after an event changing a's status only, want 0", n)
	}
	modified("51", "a.example/**", enforced) // an annotation added
	eventually(t, "the annotation change compiled", func() bool { _, c := rvOf(); return c == "51" })
	modified("52", "a.example/app*", enforced)
	eventually(t, "the spec change compiled", func() bool { _, c := rvOf(); return c == "52" })
	if n := cms.gets.Load() - gets; n != 2 {
		t.Errorf("%d ConfigMap reads after a change of a's annotations, then of its spec, want 2", n)
	}

	// A ConfigMap deleted refuses the policies reading it: fail closed.
	cms.set("policies", "5", nil)
	eventually(t, "a refused without its ConfigMap", func() bool {
		return strings.Contains(e.Validate(ctx, "ns", pod("a.example")).Message, "ConfigMap signet-system/policies: does not exist")
	})
	eventually(t, "the refused file policy", func() bool {
		return strings.Contains(e.Validate(ctx, "ns", pod("f.example")).Message, "ConfigMap signet-system/policies: does not exist")
	})
	if !strings.Contains(logs.String(), "ClusterImagePolicy f (--policy-file) refused") {
		t.Errorf("log:\n%s", logs)
	}
}

// TestConfigMapForbidden: without the Role (an older install), the list
// is refused once in the log, and a policy naming a ConfigMap is refused
// by its own read, naming it; other policies are enforced.
func TestConfigMapForbidden(t *testing.T) {
	api := &fakeAPI{t: t, events: make(chan string, 10), status: map[string]string{},
		items: []json.RawMessage{cmPolicy("a", "a.example/**", "policies", "5")}}
	defer close(api.events)
	cms := &fakeConfigMaps{fakeAPI: api, ns: "signet-system", events: make(chan string), deny: true, cms: map[string]configMapObject{}}
	kc := testKube(t, cms)
	logs := &lockedBuffer{}
	st := &store{kube: kc, logf: func(f string, a ...any) { fmt.Fprintf(logs, f+"\n", a...) }, now: time.Now, api: map[string]*admission.Policy{},
		load: admission.LoadOptions{SystemNamespace: "signet-system", Compile: policyCompiler(engine.Local{})}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go st.run(ctx)
	go st.runConfigMaps(ctx)
	eventually(t, "the log line", func() bool {
		return strings.Contains(logs.String(), "cannot list ConfigMaps in namespace signet-system (HTTP 403")
	})
	eventually(t, "a's refusal", func() bool { return strings.Contains(api.statusOf("a"), "ConfigMap signet-system/policies") })
}
