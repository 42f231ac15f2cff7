package admission

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/metrics"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/signetdev/signet/internal/testing/fakesigstore"
	"github.com/signetdev/signet/internal/testing/regtest"
	"github.com/signetdev/signet/pkg/admission"
)

// benchServer is the webhook's handler, in the HTTP server serve uses,
// over HTTPS on loopback, judging a Pod of three keylessly signed images
// held by an in-process registry.
func benchServer(b *testing.B, cache *admission.Cache) (*httptest.Server, []string) {
	host := regtest.Registry(b, true)
	fs := fakesigstore.New(b)
	subject := "https://gitlab.example/acme/app//.gitlab-ci.yml@refs/heads/main"
	var images []string
	for _, repo := range []string{"acme/api", "acme/worker", "acme/sidecar"} {
		images = append(images, signedImage(b, fs, host, repo, subject).String())
	}
	cips, err := admission.ParsePolicyFile([]byte(sprintfPolicy(host)))
	if err != nil {
		b.Fatal(err)
	}
	p, err := admission.Compile(context.Background(), cips[0], admission.LoadOptions{})
	if err != nil {
		b.Fatal(err)
	}
	policies := []*admission.Policy{p}
	reg := &admission.Registry{}
	tm := fs.TrustedMaterial()
	e := &admission.Engine{
		Policies:     func() []*admission.Policy { return policies },
		Source:       reg.Source,
		Resolve:      reg.Resolve,
		Trust:        func(context.Context, string) (root.TrustedMaterial, error) { return tm, nil },
		TrustVersion: func() string { return "1" },
		Cache:        cache,
		NoMatch:      admission.NoMatchDeny,
		Workers:      8,
	}
	s := &server{engine: e, ready: func() error { return nil }, timeout: 20 * time.Second, logf: func(string, ...any) {}}
	b.Cleanup(serveGC(os.Getenv)) // the collector as serve runs it
	srv := httptest.NewUnstartedServer(nil)
	srv.Config = httpServer(s.handler(), s.timeout)
	srv.EnableHTTP2 = false
	srv.StartTLS()
	b.Cleanup(srv.Close)
	return srv, images
}

// minimalReview is a review of a Pod with only its containers' images.
func minimalReview(_ *testing.B, images []string) []byte { return podReview("bench", images...) }

// apiServerReview is a review of a Pod as kube-apiserver sends it (7 KB:
// managedFields, env, probes, userInfo; pkg/admission's
// testdata/review-pod.json) with the bench's images.
func apiServerReview(b *testing.B, images []string) []byte {
	data, err := os.ReadFile("../../../pkg/admission/testdata/review-pod.json")
	if err != nil {
		b.Fatal(err)
	}
	var rv map[string]any
	if err := json.Unmarshal(data, &rv); err != nil {
		b.Fatal(err)
	}
	cs := rv["request"].(map[string]any)["object"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)
	if len(cs) != len(images) {
		b.Fatalf("%d containers for %d images", len(cs), len(images))
	}
	for i, c := range cs {
		c.(map[string]any)["image"] = images[i]
	}
	out, err := json.Marshal(rv)
	if err != nil {
		b.Fatal(err)
	}
	return out
}

func sprintfPolicy(host string) string { return fmt.Sprintf(testPolicy, host) }

// concurrency is the number of admissions in flight.
const concurrency = 20

// benchPath is what the API server posts to: it adds its own timeout.
const benchPath = "/validate?timeout=25s"

// sender sends one review and checks it was admitted; each concurrent
// client has its own.
type sender func() error

// connSender owns one keep-alive TLS connection: it writes the pre-built
// request and reads the response in the calling goroutine. An API server
// runs on other cores; net/http's Transport would add a read and a write
// goroutine per connection and hand every request across them, in this
// process and on these two cores, doubling the CPU an admission is
// charged with.
func connSender(b *testing.B, srv *httptest.Server, body []byte) sender {
	cfg := srv.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	cfg.NextProtos = []string{"http/1.1"}
	conn, err := tls.Dial("tcp", srv.Listener.Addr().String(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { conn.Close() })
	req := fmt.Appendf(nil, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nAccept: application/json\r\nContent-Length: %d\r\n\r\n",
		benchPath, srv.Listener.Addr(), len(body))
	req = append(req, body...)
	br := bufio.NewReader(conn)
	var out bytes.Buffer
	return func() error {
		if _, err := conn.Write(req); err != nil {
			return err
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			return err
		}
		out.Reset()
		_, err = out.ReadFrom(resp.Body)
		resp.Body.Close()
		return judge(resp, out.Bytes(), err)
	}
}

// netHTTPSender is a client of net/http, as the benchmark was first
// written (BenchmarkWebhookWarmNetHTTP compares the two).
func netHTTPSender(srv *httptest.Server, body []byte) sender {
	client := srv.Client()
	client.Transport.(*http.Transport).MaxIdleConnsPerHost = 32
	client.Transport.(*http.Transport).TLSClientConfig.ClientSessionCache = tls.NewLRUClientSessionCache(64)
	return func() error {
		resp, err := client.Post(srv.URL+benchPath, "application/json", bytes.NewReader(body))
		if err != nil {
			return err
		}
		out, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		return judge(resp, out, err)
	}
}

func judge(resp *http.Response, out []byte, err error) error {
	switch {
	case err != nil:
		return err
	case resp.StatusCode != http.StatusOK || resp.Close:
		return fmt.Errorf("%s (close %t): %s", resp.Status, resp.Close, out)
	case !bytes.Contains(out, []byte(`"allowed":true`)):
		return fmt.Errorf("denied: %s", out)
	}
	return nil
}

// benchAdmissions keeps 20 admissions in flight, each client timing
// every request, and reports admissions/s, p50/p99 latency, CPU per
// admission, garbage collections and the heap in use.
func benchAdmissions(b *testing.B, cache *admission.Cache, netHTTP bool, review func(*testing.B, []string) []byte) {
	srv, images := benchServer(b, cache)
	body := review(b, images)
	senders := make([]sender, concurrency)
	for i := range senders {
		if netHTTP {
			senders[i] = netHTTPSender(srv, body)
		} else {
			senders[i] = connSender(b, srv, body)
		}
		// Every connection is open and used once before the clock
		// starts (and the first fills a warm cache).
		if err := senders[i](); err != nil {
			b.Fatal(err)
		}
	}
	lat := make([][]time.Duration, concurrency)
	var next atomic.Int64
	var failed atomic.Pointer[error]
	var wg sync.WaitGroup
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	sched0 := schedLatencies()
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
	for i, send := range senders {
		wg.Go(func() {
			for next.Add(1) <= int64(b.N) && failed.Load() == nil {
				t := time.Now()
				if err := send(); err != nil {
					failed.CompareAndSwap(nil, &err)
					return
				}
				lat[i] = append(lat[i], time.Since(t))
			}
		})
	}
	wg.Wait()
	elapsed, cpu := time.Since(start), cpuTime()-cpu0
	b.StopTimer()
	if err := failed.Load(); err != nil {
		b.Fatal(*err)
	}
	runtime.ReadMemStats(&m1)
	sched := schedLatencies()
	all := slices.Sorted(slices.Values(slices.Concat(lat...)))
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "admissions/s")
	b.ReportMetric(ms(all[len(all)/2]), "p50-ms")
	b.ReportMetric(ms(all[len(all)*99/100]), "p99-ms")
	// The registry and the clients run in this process: their work is
	// counted too.
	b.ReportMetric(ms(cpu)/float64(len(all)), "cpu-ms/op")
	b.ReportMetric(float64(m1.NumGC-m0.NumGC), "GCs")
	// How long goroutines waited, runnable, for a processor: the queue a
	// closed loop of 20 on two cores builds, in this process.
	b.ReportMetric(histQuantile(sched, sched0, 0.99)*1000, "sched-p99-ms")
	b.ReportMetric(float64(m1.HeapInuse)/(1<<20), "heap-MiB")
}

// BenchmarkAdmissionCold: no result cache, every admission reads the
// registry (loopback) and verifies three images.
func BenchmarkAdmissionCold(b *testing.B) { benchAdmissions(b, nil, false, minimalReview) }

// BenchmarkAdmissionWarm: the verdicts are cached.
func BenchmarkAdmissionWarm(b *testing.B) {
	benchAdmissions(b, admission.NewCache(1000, time.Hour, nil), false, minimalReview)
}

// BenchmarkAdmissionWarmAPIServerReview is BenchmarkAdmissionWarm with
// the review a real API server sends for the same Pod, ten times longer.
func BenchmarkAdmissionWarmAPIServerReview(b *testing.B) {
	benchAdmissions(b, admission.NewCache(1000, time.Hour, nil), false, apiServerReview)
}

// BenchmarkWebhookWarmNetHTTP is BenchmarkAdmissionWarm with net/http's
// client (not in make bench, which runs the benchmarks named Admission).
func BenchmarkWebhookWarmNetHTTP(b *testing.B) {
	benchAdmissions(b, admission.NewCache(1000, time.Hour, nil), true, minimalReview)
}

func schedLatencies() *metrics.Float64Histogram {
	m := []metrics.Sample{{Name: "/sched/latencies:seconds"}}
	metrics.Read(m)
	if m[0].Value.Kind() != metrics.KindFloat64Histogram {
		return &metrics.Float64Histogram{}
	}
	return m[0].Value.Float64Histogram()
}

// histQuantile is the q quantile of what was added to a runtime/metrics
// histogram between before and after (the upper bound of its bucket).
func histQuantile(after, before *metrics.Float64Histogram, q float64) float64 {
	if len(after.Counts) == 0 || len(after.Counts) != len(before.Counts) {
		return 0
	}
	var total uint64
	for i := range after.Counts {
		total += after.Counts[i] - before.Counts[i]
	}
	var seen uint64
	for i := range after.Counts {
		seen += after.Counts[i] - before.Counts[i]
		if float64(seen) >= q*float64(total) {
			return min(after.Buckets[i+1], after.Buckets[i]*2) // the last bucket is unbounded
		}
	}
	return 0
}
