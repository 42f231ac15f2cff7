package admission

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/signetdev/signet/pkg/admission"
)

// The limits on what the API server and the operator hand the webhook,
// each at the limit and one byte past it.

// padded is doc followed by spaces up to n bytes (JSON and YAML ignore
// them).
func padded(t *testing.T, doc string, n int) []byte {
	t.Helper()
	if len(doc) > n {
		t.Fatalf("document of %d bytes is already past %d", len(doc), n)
	}
	return append([]byte(doc), bytes.Repeat([]byte{' '}, n-len(doc))...)
}

// An AdmissionReview POSTed to /validate of MaxReviewSize (8 MiB) bytes
// is judged; one byte more is answered 400 (the API server then applies
// failurePolicy Fail).
func TestReviewBodyAtAndPastTheLimit(t *testing.T) {
	e := &admission.Engine{Policies: func() []*admission.Policy { return nil }, NoMatch: admission.NoMatchDeny, Workers: 1}
	s := &server{engine: e, ready: func() error { return nil }, timeout: 5 * time.Second, logf: t.Logf}
	h := s.handler()
	review := string(podReview("big")) // a Pod without containers: nothing to judge
	for _, n := range []int{admission.MaxReviewSize, admission.MaxReviewSize + 1} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/validate", bytes.NewReader(padded(t, review, n))))
		if n == admission.MaxReviewSize {
			var rv admission.Review
			if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &rv) != nil || rv.Response == nil || !rv.Response.Allowed {
				t.Fatalf("at the limit: %d %.200s", rec.Code, rec.Body)
			}
			continue
		}
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "too large") {
			t.Fatalf("past the limit: %d %.200s", rec.Code, rec.Body)
		}
	}
}

// A --policy-file of MaxPolicySize (4 MiB) is loaded; one byte more
// stops serve with an error naming the file and the limit.
func TestPolicyFileFlagAtAndPastTheLimit(t *testing.T) {
	doc := fmt.Sprintf(testPolicy, "registry.example")
	for _, n := range []int{admission.MaxPolicySize, admission.MaxPolicySize + 1} {
		file := filepath.Join(t.TempDir(), "cip.yaml")
		writeFile(t, file, padded(t, doc, n))
		st := &store{logf: t.Logf, now: time.Now}
		err := st.loadFiles(context.Background(), []string{file}, &trustSource{files: map[string]*trustObject{}})
		if n == admission.MaxPolicySize {
			if err != nil || len(st.files) != 1 {
				t.Fatalf("at the limit: %d policies, %v", len(st.files), err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), "--policy-file "+file) || !strings.Contains(err.Error(), "larger than the 4194304 bytes allowed") {
			t.Fatalf("past the limit: %v", err)
		}
	}
}

// A watch event (one line) of maxEvent (4 MiB) bytes is read; one byte
// more ends the watch with an error (it is then re-listed).
func TestWatchEventAtAndPastTheLimit(t *testing.T) {
	for _, n := range []int{maxEvent, maxEvent + 1} {
		line := padded(t, `{"type":"ADDED","object":{}}`, n-1)
		line = append(line, '\n')
		got, err := readLine(bufio.NewReaderSize(bytes.NewReader(line), 64<<10), maxEvent)
		if n == maxEvent {
			if err != nil || len(got) != n {
				t.Fatalf("at the limit: %d bytes, %v", len(got), err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), "larger than 4194304 bytes") {
			t.Fatalf("past the limit: %v", err)
		}
	}
}

// The ClusterImagePolicy list (maxListBody, 32 MiB) and a Secret
// (maxSecretBody, 1 MiB) read from the API server: at the limit they are
// read, one byte more is refused.
func TestAPIResponsesAtAndPastTheLimit(t *testing.T) {
	const list = `{"kind":"ClusterImagePolicyList","metadata":{"resourceVersion":"7"},"items":[]}`
	const secret = `{"type":"Opaque","data":{"cosign.pub":"cHVi"}}`
	for _, extra := range []int{0, 1} {
		kc := testKube(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch {
			case r.URL.Path == policiesPath:
				w.Write(padded(t, list, maxListBody+extra))
			case strings.HasSuffix(r.URL.Path, "/secrets/key"):
				w.Write(padded(t, secret, maxSecretBody+extra))
			default:
				http.NotFound(w, r)
			}
		}))
		ctx := context.Background()
		_, rv, lerr := kc.listPolicies(ctx)
		data, serr := kc.secret(ctx, "ns", "key")
		if extra == 0 {
			if lerr != nil || rv != "7" || serr != nil || string(data["cosign.pub"]) != "pub" {
				t.Fatalf("at the limits: list %q %v, secret %q %v", rv, lerr, data, serr)
			}
			continue
		}
		if lerr == nil || !strings.Contains(lerr.Error(), "larger than 33554432 bytes") {
			t.Errorf("list past the limit: %v", lerr)
		}
		if serr == nil || !strings.Contains(serr.Error(), "larger than 1048576 bytes") {
			t.Errorf("secret past the limit: %v", serr)
		}
	}
}
