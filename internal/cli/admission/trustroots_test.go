package admission

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/signetdev/signet/internal/cli"
	"github.com/signetdev/signet/internal/iostreams"
	"github.com/signetdev/signet/internal/testing/fakesigstore"
	"github.com/signetdev/signet/internal/trust/trusttest"
	"github.com/signetdev/signet/pkg/admission"
)

func testTrustSource(t *testing.T) *trustSource {
	f := cli.NewFactory(&iostreams.IOStreams{In: &bytes.Buffer{}, Out: &bytes.Buffer{}, ErrOut: &lockedBuffer{}})
	tufRoot := t.TempDir()
	f.Getenv = func(k string) string {
		if k == "TUF_ROOT" {
			return tufRoot
		}
		return ""
	}
	return &trustSource{f: f, refresh: time.Hour, named: map[string]root.TrustedMaterial{},
		files: map[string]*trustObject{}, api: map[string]*trustObject{}}
}

func logIDs(tm root.TrustedMaterial) string {
	var ids []string
	for id := range tm.RekorLogs() {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return strings.Join(ids, ",")
}

// A TrustRoot's spec.remote is followed with signet's TUF client, from the
// root it gives, in a cache of its own: its trusted_root.json is the
// material of the policies naming it, loaded once per --trust-refresh.
func TestTrustRootRemote(t *testing.T) {
	fs := fakesigstore.New(t)
	repo := trusttest.NewRepo(t, time.Now().Add(24*time.Hour), map[string][]byte{"trusted_root.json": fs.TrustedRootJSON(t)})
	srv := repo.Serve()
	ts := testTrustSource(t)
	counting := &trusttest.CountingTransport{}
	ts.f.Transport = counting
	doc := fmt.Sprintf("apiVersion: policy.sigstore.dev/v1alpha1\nkind: TrustRoot\nmetadata: {name: private}\nspec:\n  remote:\n    mirror: %s\n    root: %s\n",
		srv.URL, base64.StdEncoding.EncodeToString(repo.Root1))
	_, trs, err := admission.ParseFile([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if err := ts.addFileTrustRoot(trs[0]); err != nil {
		t.Fatal(err)
	}
	want, err := root.NewTrustedRootFromJSON(fs.TrustedRootJSON(t))
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		tm, err := ts.material(context.Background(), "private")
		if err != nil {
			t.Fatal(err)
		}
		if logIDs(tm) != logIDs(want) || logIDs(tm) == "" {
			t.Fatalf("Rekor logs %s, want %s", logIDs(tm), logIDs(want))
		}
	}
	if n := len(counting.Paths()); n == 0 || n > 6 {
		t.Errorf("%d requests to the mirror for two lookups within the refresh: %q", n, counting.Paths())
	}
	if _, err := ts.material(context.Background(), "missing"); err == nil || !strings.Contains(err.Error(), `trust root "missing": no --trust-root missing=FILE and no TrustRoot of that name`) {
		t.Errorf("unknown trust root: %v", err)
	}
	if err := ts.addFileTrustRoot(trs[0]); err == nil || !strings.Contains(err.Error(), "given twice") {
		t.Errorf("a TrustRoot given twice: %v", err)
	}
}

// The API server's TrustRoots are listed and watched: added, modified
// and deleted ones are used at once, and each change moves the trust
// version (the result cache's key); a refused one denies with its
// reason. Without the TrustRoot resource (no CRD), serve is ready and
// uses its other trust roots.
func TestTrustRootWatch(t *testing.T) {
	a, b := fakesigstore.New(t), fakesigstore.New(t)
	obj := func(name string, fs *fakesigstore.Sigstore, rv string) string {
		js, _ := json.Marshal(map[string]any{"apiVersion": "policy.sigstore.dev/v1alpha1", "kind": "TrustRoot",
			"metadata": map[string]any{"name": name, "uid": "uid-" + name, "resourceVersion": rv},
			"spec":     map[string]any{"trustedRootJSON": string(fs.TrustedRootJSON(t))}})
		return string(js)
	}
	events := make(chan string, 10)
	defer close(events)
	kc := testKube(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path != trustRootsPath:
			http.NotFound(w, r)
		case r.URL.Query().Get("watch") == "":
			fmt.Fprintf(w, `{"metadata":{"resourceVersion":"3"},"items":[%s]}`, obj("one", a, "1"))
		default:
			streamEvents(w, r, events)
		}
	}))
	ts := testTrustSource(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if ts.readiness() == nil {
		t.Fatal("ready before the TrustRoots are listed")
	}
	go ts.runTrustRoots(ctx, kc, t.Logf)
	eventually(t, "the first list", func() bool { return ts.readiness() == nil })
	ids := func(name string) string {
		tm, err := ts.material(ctx, name)
		if err != nil {
			return "error: " + err.Error()
		}
		return logIDs(tm)
	}
	if ids("one") != logIDs(a.TrustedMaterial()) {
		t.Fatalf("listed TrustRoot: %s", ids("one"))
	}
	v0 := ts.currentVersion()
	events <- `{"type":"MODIFIED","object":` + obj("one", b, "4") + `}`
	eventually(t, "the modified TrustRoot", func() bool { return ids("one") == logIDs(b.TrustedMaterial()) })
	if ts.currentVersion() == v0 {
		t.Error("the trust version did not change with the TrustRoot")
	}
	events <- `{"type":"ADDED","object":{"apiVersion":"policy.sigstore.dev/v1alpha1","kind":"TrustRoot","metadata":{"name":"bad"},"spec":{"repository":{"root":"eA=="}}}}`
	eventually(t, "the refused TrustRoot", func() bool {
		return strings.Contains(ids("bad"), "spec.repository (a serialized TUF repository) is not supported")
	})
	events <- `{"type":"DELETED","object":` + obj("one", b, "5") + `}`
	eventually(t, "the deleted TrustRoot", func() bool { return strings.Contains(ids("one"), "no TrustRoot of that name") })

	none := testTrustSource(t)
	go none.runTrustRoots(ctx, testKube(t, http.NotFoundHandler()), t.Logf)
	eventually(t, "readiness without a TrustRoot resource", func() bool { return none.readiness() == nil })
	// An install whose ClusterRole predates TrustRoots gets 403: ready too.
	forbidden := testTrustSource(t)
	go forbidden.runTrustRoots(ctx, testKube(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, `{"kind":"Status","code":403}`, http.StatusForbidden)
	})), t.Logf)
	eventually(t, "readiness when listing TrustRoots is forbidden", func() bool { return forbidden.readiness() == nil })
}

// A --policy-file may hold TrustRoots beside the policies naming them (in
// any order, in any file); a policy naming none stops serve.
func TestPolicyFileTrustRoots(t *testing.T) {
	fs := fakesigstore.New(t)
	tr, _ := json.Marshal(map[string]any{"apiVersion": "policy.sigstore.dev/v1alpha1", "kind": "TrustRoot",
		"metadata": map[string]any{"name": "private"}, "spec": map[string]any{"trustedRootJSON": string(fs.TrustedRootJSON(t))}})
	cip := strings.Replace(fmt.Sprintf(testPolicy, "registry.example"), "      insecureIgnoreSCT: true\n", "      insecureIgnoreSCT: true\n      trustRootRef: private\n", 1)
	dir := t.TempDir()
	policies, roots := dir+"/policies.yaml", dir+"/roots.json"
	writeFile(t, policies, []byte(cip))
	writeFile(t, roots, tr)
	ts := testTrustSource(t)
	st := &store{logf: t.Logf, now: time.Now}
	if err := st.loadFiles(context.Background(), []string{policies, roots}, ts); err != nil || len(st.files) != 1 {
		t.Fatalf("%d policies, %v", len(st.files), err)
	}
	tm, err := ts.material(context.Background(), "private")
	if err != nil || logIDs(tm) != logIDs(fs.TrustedMaterial()) {
		t.Fatalf("TrustRoot private: %v", err)
	}
	err = (&store{logf: t.Logf, now: time.Now}).loadFiles(context.Background(), []string{policies}, testTrustSource(t))
	if err == nil || !strings.Contains(err.Error(), `--policy-file `+policies) || !strings.Contains(err.Error(), `trustRootRef "private": no such trust root`) {
		t.Errorf("a policy naming no TrustRoot: %v", err)
	}
}
