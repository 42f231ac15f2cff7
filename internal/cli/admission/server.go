package admission

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/signetdev/signet/pkg/admission"
)

// server answers the API server: /validate, /mutate and /healthz.
type server struct {
	engine *admission.Engine
	// ready is nil once policies are loaded; until then every review is
	// denied (fail closed).
	ready   func() error
	timeout time.Duration
	logf    func(format string, args ...any)
}

// webhookMargin is left of the API server's own timeout for the answer
// to travel back.
const webhookMargin = 3 * time.Second

func (s *server) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/validate", func(w http.ResponseWriter, r *http.Request) { s.review(w, r, s.validate) })
	mux.HandleFunc("/mutate", func(w http.ResponseWriter, r *http.Request) { s.review(w, r, s.mutate) })
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		if err := s.ready(); err != nil {
			http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	return mux
}

// deadline is the request's budget: --timeout, shortened to fit the
// timeout the API server passes in the URL (?timeout=25s).
func (s *server) deadline(r *http.Request) time.Duration {
	d := s.timeout
	if q := queryValue(r.URL.RawQuery, "timeout"); q != "" {
		if t, err := time.ParseDuration(q); err == nil && t-webhookMargin < d {
			d = max(t-webhookMargin, time.Second)
		}
	}
	return d
}

// queryValue is url.Values.Get without building the map for every
// request (the API server sends one parameter).
func queryValue(raw, key string) string {
	for raw != "" {
		var kv string
		kv, raw, _ = strings.Cut(raw, "&")
		k, v, _ := strings.Cut(kv, "=")
		if k == key {
			v, err := url.QueryUnescape(v)
			if err != nil {
				return ""
			}
			return v
		}
	}
	return ""
}

// jsonContentType is set as is: Header.Set would allocate it per answer.
var jsonContentType = []string{"application/json"}

// judged is what one review is judged with: readiness, checked before
// the policies are read (readiness never goes back, so a ready snapshot
// holds the listed policies), and the policies.
type judged struct {
	notReady error
	snap     admission.Snapshot
}

func (s *server) review(w http.ResponseWriter, r *http.Request, decide func(context.Context, judged, *admission.Request) admission.Response) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST an AdmissionReview", http.StatusMethodNotAllowed)
		return
	}
	// One snapshot decides both whether the object is kept and the
	// verdict: a policy including the object that arrived in between
	// would otherwise find it dropped.
	jd := judged{notReady: s.ready()}
	jd.snap = s.engine.Snapshot()
	rv, err := admission.DecodeReview(http.MaxBytesReader(w, r.Body, admission.MaxReviewSize), admission.MaxReviewSize, jd.snap.NeedsObject())
	if err != nil {
		// The API server treats an error as a failure: with
		// failurePolicy Fail, the request is refused.
		s.logf("%s: %v", r.URL.Path, err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.deadline(r))
	defer cancel()
	resp := decide(ctx, jd, rv.Request)
	out, err := json.Marshal(admission.Answer(rv.Request, resp))
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header()["Content-Type"] = jsonContentType
	_, _ = w.Write(out)
}

func describe(req *admission.Request) string {
	return fmt.Sprintf("%s %s %s/%s", req.Operation, req.Kind.Kind, req.Namespace, req.Name)
}

func (s *server) validate(ctx context.Context, jd judged, req *admission.Request) admission.Response {
	w, skip, err := admission.ReadWorkload(req)
	if err != nil {
		s.logf("deny %s: %v", describe(req), err)
		return admission.Deny(err.Error(), nil)
	}
	if skip {
		return admission.Allow(nil)
	}
	if err := jd.notReady; err != nil {
		s.logf("deny %s: not ready: %v", describe(req), err)
		return admission.Deny("signet admission is not ready: "+err.Error(), nil)
	}
	d := s.engine.ValidateSnapshot(ctx, jd.snap, req.Namespace, w)
	if !d.Allowed {
		s.logf("deny %s: %s", describe(req), d.Message)
		return admission.Deny(d.Message, d.Warnings)
	}
	return admission.Allow(d.Warnings)
}

func (s *server) mutate(ctx context.Context, _ judged, req *admission.Request) admission.Response {
	w, skip, err := admission.ReadWorkload(req)
	if err != nil || skip {
		// The validating webhook judges what cannot be read.
		return admission.Allow(nil)
	}
	patch, warnings := s.engine.Mutate(ctx, w.Images)
	resp := admission.Allow(warnings)
	if patch != nil {
		resp.Patch, resp.PatchType = patch, "JSONPatch"
	}
	return resp
}

// certReloader serves the key pair in two files and reloads it when
// either changes (cert-manager and kubelet rotate mounted secrets).
type certReloader struct {
	certFile, keyFile string
	now               func() time.Time
	logf              func(format string, args ...any)

	mu      sync.Mutex
	cert    *tls.Certificate
	stamp   string
	checked time.Time
}

func newCertReloader(certFile, keyFile string, now func() time.Time, logf func(string, ...any)) (*certReloader, error) {
	c := &certReloader{certFile: certFile, keyFile: keyFile, now: now, logf: logf}
	if err := c.reload(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *certReloader) fileStamp() (string, error) {
	var s string
	for _, f := range []string{c.certFile, c.keyFile} {
		fi, err := os.Stat(f)
		if err != nil {
			return "", err
		}
		s += fmt.Sprintf("%d/%d;", fi.ModTime().UnixNano(), fi.Size())
	}
	return s, nil
}

func (c *certReloader) reload() error {
	stamp, err := c.fileStamp()
	if err != nil {
		return fmt.Errorf("--tls-cert/--tls-key: %w", err)
	}
	pair, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return fmt.Errorf("--tls-cert %s / --tls-key %s: %w", c.certFile, c.keyFile, err)
	}
	c.cert, c.stamp = &pair, stamp
	return nil
}

// certificate is tls.Config.GetCertificate; it looks at the files at
// most once a second, and keeps the old pair if the new one is broken
// (a half-written rotation).
func (c *certReloader) certificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now := c.now(); now.Sub(c.checked) >= time.Second {
		c.checked = now
		if stamp, err := c.fileStamp(); err == nil && stamp != c.stamp {
			if err := c.reload(); err != nil {
				c.stamp = stamp // say it once per change
				c.logf("keeping the previous TLS certificate: %v", err)
			} else {
				c.logf("reloaded the TLS certificate from %s", c.certFile)
			}
		}
	}
	if c.cert == nil {
		return nil, errors.New("no TLS certificate")
	}
	return c.cert, nil
}
