package release

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
)

// hack/release/publish.sh against a loopback stand-in for GitLab's API:
// every release file is uploaded to the generic package registry with the
// job token, then one release is created linking them; the token is never
// printed.
func TestPublishScript(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl not installed")
	}
	const token = "glcbt-secret-job-token"
	var mu sync.Mutex
	uploads := map[string]string{}
	var release map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if r.Header.Get("JOB-TOKEN") != token {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		switch {
		case r.Method == http.MethodPut && strings.HasPrefix(r.URL.Path, "/api/v4/projects/7/packages/generic/signet/1.2.3/"):
			uploads[filepath.Base(r.URL.Path)] = string(body)
		case r.Method == http.MethodPost && r.URL.Path == "/api/v4/projects/7/releases":
			if err := json.Unmarshal(body, &release); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
		default:
			http.Error(w, "unexpected "+r.Method+" "+r.URL.Path, http.StatusNotFound)
			return
		}
		w.WriteHeader(http.StatusCreated)
	}))
	defer srv.Close()

	dist := t.TempDir()
	files := []string{"signet_linux_amd64.tar.gz", "signet_linux_amd64.tar.gz.sigstore.json", "checksums.txt",
		"checksums.txt.sigstore.json", "provenance.intoto.json", "provenance.sigstore.json", "signet.cdx.json"}
	for _, f := range append(files, "unrelated.log") {
		if err := os.WriteFile(filepath.Join(dist, f), []byte("content of "+f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	script, _ := filepath.Abs("../../hack/release/publish.sh")
	cmd := exec.Command("bash", script)
	cmd.Env = append(os.Environ(), "DIST_DIR="+dist, "CI_COMMIT_TAG=v1.2.3", "CI_API_V4_URL="+srv.URL+"/api/v4",
		"CI_PROJECT_ID=7", "CI_JOB_TOKEN="+token, "CI_PROJECT_URL=https://gitlab.example.com/acme/signet")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("publish.sh: %v\n%s", err, out)
	}
	if strings.Contains(string(out), token) {
		t.Error("publish.sh printed the job token")
	}
	var got []string
	for name, body := range uploads {
		got = append(got, name)
		if body != "content of "+name {
			t.Errorf("%s uploaded as %q", name, body)
		}
	}
	sort.Strings(got)
	sort.Strings(files)
	if strings.Join(got, " ") != strings.Join(files, " ") {
		t.Errorf("uploaded %v, want %v", got, files)
	}
	links, _ := release["assets"].(map[string]any)["links"].([]any)
	if release["tag_name"] != "v1.2.3" || len(links) != len(files) {
		t.Errorf("release: %v", release)
	}

	// Outside a tag pipeline it refuses, naming why.
	cmd = exec.Command("bash", script)
	cmd.Env = append(os.Environ(), "DIST_DIR="+dist, "CI_COMMIT_TAG=")
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "tag pipelines only") {
		t.Errorf("publish.sh without a tag: %v\n%s", err, out)
	}
}
