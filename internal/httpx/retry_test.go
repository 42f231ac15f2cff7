package httpx

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func noSleep(waits *[]time.Duration) func(context.Context, time.Duration) error {
	return func(ctx context.Context, d time.Duration) error {
		*waits = append(*waits, d)
		return ctx.Err()
	}
}

func TestRetryTransient(t *testing.T) {
	var n atomic.Int32
	var bodies []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		bodies = append(bodies, string(b))
		switch n.Add(1) {
		case 1:
			w.WriteHeader(http.StatusServiceUnavailable)
		case 2:
			w.Header().Set("Retry-After", "3")
			w.WriteHeader(http.StatusTooManyRequests)
		case 3:
			// Reset the connection without an answer.
			c, _, _ := w.(http.Hijacker).Hijack()
			c.(*net.TCPConn).SetLinger(0)
			c.Close()
		default:
			w.Write([]byte("ok"))
		}
	}))
	defer srv.Close()
	var waits []time.Duration
	c := &http.Client{Transport: &Retry{Sleep: noSleep(&waits)}}
	resp, err := c.Post(srv.URL, "text/plain", strings.NewReader("payload"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	if string(b) != "ok" || n.Load() != 4 {
		t.Fatalf("got %q after %d requests", b, n.Load())
	}
	for i, body := range bodies {
		if body != "payload" {
			t.Errorf("request %d carried body %q: not replayed", i+1, body)
		}
	}
	want := []time.Duration{250 * time.Millisecond, 3 * time.Second, time.Second}
	if len(waits) != 3 || waits[0] != want[0] || waits[1] != want[1] || waits[2] != want[2] {
		t.Errorf("waits %v, want %v (backoff, Retry-After, backoff)", waits, want)
	}
}

func TestRetryGivesUp(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		n.Add(1)
		http.Error(w, "down", http.StatusBadGateway)
	}))
	defer srv.Close()
	var waits []time.Duration
	resp, err := (&http.Client{Transport: &Retry{Attempts: 3, Sleep: noSleep(&waits)}}).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusBadGateway || n.Load() != 3 {
		t.Fatalf("status %d after %d tries, want the last 502 after 3", resp.StatusCode, n.Load())
	}
}

func TestRetryNotForPermanentErrors(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		n.Add(1)
		http.Error(w, "no", http.StatusUnauthorized)
	}))
	defer srv.Close()
	resp, err := (&http.Client{Transport: &Retry{}}).Get(srv.URL)
	if err != nil || resp.StatusCode != http.StatusUnauthorized || n.Load() != 1 {
		t.Fatalf("401 retried: %d tries, %v", n.Load(), err)
	}
}

func TestRetryStopsAtDeadline(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	start := time.Now()
	_, err := (&Retry{MinBackoff: time.Second}).RoundTrip(req)
	if err == nil || time.Since(start) > 2*time.Second {
		t.Fatalf("err %v after %v: want the deadline, quickly", err, time.Since(start))
	}
}

// TestNoRetryWrongSchemeOrCertificate: HTTPS to a plain-HTTP server, and a
// server whose certificate is not trusted, fail at once; every retry would
// meet the same answer.
func TestNoRetryWrongSchemeOrCertificate(t *testing.T) {
	var n atomic.Int32
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { n.Add(1) })
	plain := httptest.NewServer(h)
	defer plain.Close()
	tlsSrv := httptest.NewTLSServer(h)
	defer tlsSrv.Close()
	for _, url := range []string{strings.Replace(plain.URL, "http://", "https://", 1), tlsSrv.URL} {
		var waits []time.Duration
		r := &Retry{Base: http.DefaultTransport, Sleep: noSleep(&waits)}
		if _, err := (&http.Client{Transport: r}).Get(url); err == nil {
			t.Fatalf("%s: no error", url)
		}
		if len(waits) != 0 {
			t.Errorf("%s: retried %d times", url, len(waits))
		}
	}
	if n.Load() != 0 {
		t.Errorf("handler reached %d times", n.Load())
	}
}
