package trust

import (
	"context"
	"testing"
	"time"

	"github.com/signetdev/signet/internal/trust/trusttest"
)

// A failed refresh stands for a minute for the runs that waited on it:
// within that minute a stale cache falls back without a request; after
// it, the repository is tried again. With nothing to fall back to, the
// repository is tried at once.
func TestFailedRefreshIsNotRetriedForAMinute(t *testing.T) {
	f := newFixture(t, time.Now().Add(30*24*time.Hour))
	f.initialize(t)
	stale := time.Now().Add(25 * time.Hour)
	ft := &trusttest.FailingTransport{}
	if _, err := Load(context.Background(), f.opts(ft, stale)); err != nil {
		t.Fatal(err)
	}
	f.oneWarning(t, "unreachable")
	tried := ft.Requests()
	if tried == 0 {
		t.Fatal("no refresh attempted")
	}
	if _, err := Load(context.Background(), f.opts(ft, stale.Add(30*time.Second))); err != nil {
		t.Fatal(err)
	}
	f.oneWarning(t, "unreachable", "not retried until")
	if ft.Requests() != tried {
		t.Errorf("retried within the minute")
	}
	if _, err := Load(context.Background(), f.opts(ft, stale.Add(61*time.Second))); err != nil {
		t.Fatal(err)
	}
	f.oneWarning(t, "unreachable")
	if ft.Requests() == tried {
		t.Errorf("not retried after the minute")
	}
	// Back online a minute after the last failure: the refresh succeeds
	// and clears the record.
	if _, err := Load(context.Background(), f.opts(&trusttest.CountingTransport{}, stale.Add(122*time.Second))); err != nil {
		t.Fatal(err)
	}
	f.noWarning(t)
	c := &client{opts: &Options{}, src: &source{cacheDir: f.cache, mirror: f.srv.URL}}
	if _, ok := c.recentFailure(stale.Add(123 * time.Second)); ok {
		t.Error("the failure record outlived a successful refresh")
	}
}
