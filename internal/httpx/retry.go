// Package httpx holds the HTTP plumbing every service call shares.
package httpx

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"
)

// Retry is a RoundTripper that retries transient failures — 5xx and 429
// answers, reset or refused connections — with exponential backoff, within
// the request's context (the command's --timeout). Requests with a body
// are retried only if the body can be replayed (http.NewRequest sets
// GetBody for the usual body types).
type Retry struct {
	Base http.RoundTripper
	// Attempts is the total number of tries (default 5).
	Attempts int
	// MinBackoff and MaxBackoff bound the wait between tries (defaults
	// 250ms and 8s); a Retry-After header is honoured up to MaxBackoff.
	MinBackoff, MaxBackoff time.Duration
	// Sleep waits (tests replace it); it returns early with ctx's error.
	Sleep func(ctx context.Context, d time.Duration) error
}

// NewRetry wraps base with the default policy.
func NewRetry(base http.RoundTripper) *Retry { return &Retry{Base: base} }

func (r *Retry) attempts() int {
	if r.Attempts <= 0 {
		return 5
	}
	return r.Attempts
}

func (r *Retry) backoff(attempt int, resp *http.Response) time.Duration {
	minB, maxB := r.MinBackoff, r.MaxBackoff
	if minB <= 0 {
		minB = 250 * time.Millisecond
	}
	if maxB <= 0 {
		maxB = 8 * time.Second
	}
	d := minB << (attempt - 1)
	if resp != nil {
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s >= 0 {
			d = time.Duration(s) * time.Second
		}
	}
	return min(d, maxB)
}

func (r *Retry) sleep(ctx context.Context, d time.Duration) error {
	if r.Sleep != nil {
		return r.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// RoundTrip implements http.RoundTripper.
func (r *Retry) RoundTrip(req *http.Request) (*http.Response, error) {
	base := r.Base
	if base == nil {
		base = http.DefaultTransport
	}
	replayable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	for attempt := 1; ; attempt++ {
		try := req
		if attempt > 1 && req.GetBody != nil {
			body, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			try = req.Clone(req.Context())
			try.Body = body
		}
		resp, err := base.RoundTrip(try)
		last := attempt >= r.attempts() || !replayable
		if last || !transient(resp, err) || req.Context().Err() != nil {
			return resp, err
		}
		d := r.backoff(attempt, resp)
		if resp != nil {
			io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
			resp.Body.Close()
		}
		if serr := r.sleep(req.Context(), d); serr != nil {
			if err == nil {
				err = serr
			}
			return nil, err
		}
	}
}

// transient reports whether trying again could help.
func transient(resp *http.Response, err error) bool {
	if err != nil {
		var dnsErr *net.DNSError
		if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
			return false // an unknown host stays unknown
		}
		if wrongProtocolOrCertificate(err) {
			return false
		}
		return !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
	}
	return resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 && resp.StatusCode != http.StatusNotImplemented
}

// wrongProtocolOrCertificate: a server that speaks plain HTTP, or whose
// certificate does not verify, answers the same way every time. Retrying
// only delays the caller; go-containerregistry, for one, falls back from
// HTTPS to HTTP on exactly this error for local registries.
func wrongProtocolOrCertificate(err error) bool {
	var certErr *tls.CertificateVerificationError
	var hostErr x509.HostnameError
	var authErr x509.UnknownAuthorityError
	var invalidErr x509.CertificateInvalidError
	var recErr tls.RecordHeaderError // net/http turns it into ErrSchemeMismatch after the transport
	return errors.As(err, &certErr) || errors.As(err, &hostErr) || errors.As(err, &authErr) || errors.As(err, &invalidErr) ||
		errors.As(err, &recErr) || errors.Is(err, http.ErrSchemeMismatch)
}

// BindContext returns a RoundTripper that runs every request under ctx,
// for clients that build requests without one (sigstore-go's Fulcio and
// TSA clients): the command's --timeout and Ctrl-C then reach them.
func BindContext(ctx context.Context, rt http.RoundTripper) http.RoundTripper {
	return ctxTransport{ctx: ctx, base: rt}
}

type ctxTransport struct {
	ctx  context.Context
	base http.RoundTripper
}

func (t ctxTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Context() == context.Background() || req.Context() == context.TODO() {
		req = req.WithContext(t.ctx)
	}
	return t.base.RoundTrip(req)
}
