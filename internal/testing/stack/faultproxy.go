package stack

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// FaultMode is what a FaultProxy does with a request.
type FaultMode int

const (
	// Pass forwards requests unchanged.
	Pass FaultMode = iota
	// ServerError answers with the configured 5xx status (default 503).
	ServerError
	// TooManyRequests answers 429 with Retry-After: 1.
	TooManyRequests
	// Slow waits the configured delay (default 5s), then forwards.
	Slow
	// Reset closes the connection with a TCP reset, without answering.
	Reset
)

func (m FaultMode) String() string {
	switch m {
	case Pass:
		return "pass"
	case ServerError:
		return "5xx"
	case TooManyRequests:
		return "429"
	case Slow:
		return "slow"
	case Reset:
		return "reset"
	}
	return fmt.Sprintf("FaultMode(%d)", int(m))
}

// FaultProxy is an in-process HTTP reverse proxy on 127.0.0.1 in front of
// one service, whose behaviour a test switches at run time. Point a client
// at URL (or Host, for a registry) instead of the service.
type FaultProxy struct {
	URL  string // http://127.0.0.1:port
	Host string // 127.0.0.1:port

	srv      *httptest.Server
	proxy    *httputil.ReverseProxy
	mu       sync.Mutex
	mode     FaultMode
	remain   int // requests left in mode before falling back to Pass; <0: unlimited
	status   int
	delay    time.Duration
	requests atomic.Int64
	faults   atomic.Int64
}

// NewFaultProxy starts a proxy to target (a base URL such as
// env.FulcioURL, or a host:port such as env.Registry) in Pass mode. It is
// closed when the test ends.
func NewFaultProxy(t testing.TB, target string) *FaultProxy {
	t.Helper()
	if !strings.Contains(target, "://") {
		target = "http://" + target
	}
	u, err := url.Parse(target)
	if err != nil {
		t.Fatalf("fault proxy target %q: %v", target, err)
	}
	u.Path = "" // the proxy forwards request paths as they come
	p := &FaultProxy{remain: -1, status: http.StatusServiceUnavailable, delay: 5 * time.Second}
	p.proxy = httputil.NewSingleHostReverseProxy(u)
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	p.URL = p.srv.URL
	p.Host = strings.TrimPrefix(p.srv.URL, "http://")
	t.Cleanup(p.Close)
	return p
}

// Set switches every following request to mode.
func (p *FaultProxy) Set(mode FaultMode) { p.SetFor(mode, -1) }

// SetFor applies mode to the next n requests, then passes requests again.
func (p *FaultProxy) SetFor(mode FaultMode, n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode, p.remain = mode, n
}

// SetStatus sets the status ServerError answers with.
func (p *FaultProxy) SetStatus(code int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.status = code
}

// SetDelay sets how long Slow waits before forwarding.
func (p *FaultProxy) SetDelay(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.delay = d
}

// Requests is how many requests reached the proxy.
func (p *FaultProxy) Requests() int64 { return p.requests.Load() }

// Faults is how many requests got a fault instead of plain forwarding.
func (p *FaultProxy) Faults() int64 { return p.faults.Load() }

// Close stops the proxy.
func (p *FaultProxy) Close() {
	p.srv.CloseClientConnections()
	p.srv.Close()
}

// next picks the behaviour for one request.
func (p *FaultProxy) next() (FaultMode, int, time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	mode := p.mode
	if p.remain == 0 {
		mode = Pass
	} else if p.remain > 0 {
		p.remain--
	}
	return mode, p.status, p.delay
}

func (p *FaultProxy) serve(w http.ResponseWriter, r *http.Request) {
	p.requests.Add(1)
	mode, status, delay := p.next()
	if mode != Pass {
		p.faults.Add(1)
	}
	switch mode {
	case ServerError:
		http.Error(w, "fault proxy: injected server error", status)
	case TooManyRequests:
		w.Header().Set("Retry-After", "1")
		http.Error(w, "fault proxy: injected rate limit", http.StatusTooManyRequests)
	case Slow:
		select {
		case <-time.After(delay):
			p.proxy.ServeHTTP(w, r)
		case <-r.Context().Done():
		}
	case Reset:
		hj, ok := w.(http.Hijacker)
		if !ok {
			http.Error(w, "fault proxy: cannot hijack", http.StatusInternalServerError)
			return
		}
		conn, _, err := hj.Hijack()
		if err != nil {
			return
		}
		if tc, ok := conn.(*net.TCPConn); ok {
			_ = tc.SetLinger(0) // close sends RST instead of FIN
		}
		_ = conn.Close()
	default:
		p.proxy.ServeHTTP(w, r)
	}
}
