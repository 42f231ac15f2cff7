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
func benchServer(b *testing.B, cache *admission.Cache, floor bool) (*httptest.Server, []string, *handlerTimes) {
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
	h := s.handler()
	if floor {
		h = floorHandler()
	}
	times := &handlerTimes{}
	srv := httptest.NewUnstartedServer(nil)
	srv.Config = httpServer(times.wrap(h), s.timeout)
	srv.EnableHTTP2 = false
	srv.StartTLS()
	b.Cleanup(srv.Close)
	return srv, images, times
}

// floorHandler reads the review as the webhook does (bounded) and
// answers an allowed AdmissionReview that never changes: what is left is
// the floor under the webhook, TLS, HTTP/1.1, the loopback and the two
// cores' scheduling, on which signet's warm path stands.
func floorHandler() http.Handler {
	answer := []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"floor","allowed":true}}`)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.Copy(io.Discard, http.MaxBytesReader(w, r.Body, admission.MaxReviewSize)); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(answer)
	})
}

// handlerTimes records how long the handler held each request, from its
// headers read to its response handed to net/http (whose final flush
// comes after): the part of the latency that is the webhook's code, not
// the transport's or the queue's.
type handlerTimes struct {
	mu sync.Mutex
	d  []time.Duration
}

func (t *handlerTimes) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		h.ServeHTTP(w, r)
		d := time.Since(start)
		t.mu.Lock()
		t.d = append(t.d, d)
		t.mu.Unlock()
	})
}

func (t *handlerTimes) reset() {
	t.mu.Lock()
	t.d = t.d[:0]
	t.mu.Unlock()
}

func (t *handlerTimes) sorted() []time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Sorted(slices.Values(t.d))
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
	benchLoad(b, cache, false, netHTTP, review)
}

func benchLoad(b *testing.B, cache *admission.Cache, floor, netHTTP bool, review func(*testing.B, []string) []byte) {
	srv, images, times := benchServer(b, cache, floor)
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
	times.reset()
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
	if len(all) >= 1000 { // not go test's first run of one
		pooled := pool(fmt.Sprintf("%s/%d", b.Name(), b.N), all)
		b.ReportMetric(ms(pooled[len(pooled)*99/100]), "pooled-p99-ms")
	}
	if held := times.sorted(); len(held) > 0 {
		b.ReportMetric(ms(held[len(held)*99/100]), "handler-p99-ms")
	}
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

// BenchmarkAdmissionWarmFloor is BenchmarkAdmissionWarm with a handler
// that only reads the review and answers a constant: the latency of the
// transport and the machine alone, beside which the warm path's is read.
func BenchmarkAdmissionWarmFloor(b *testing.B) { benchLoad(b, nil, true, false, minimalReview) }

// BenchmarkWebhookWarmNetHTTP is BenchmarkAdmissionWarm with net/http's
// client (not in make bench, which runs the benchmarks named Admission).
func BenchmarkWebhookWarmNetHTTP(b *testing.B) {
	benchAdmissions(b, admission.NewCache(1000, time.Hour, nil), true, minimalReview)
}

// pooled holds the latencies of every run of each benchmark at each b.N
// in this process (-count N; a -benchtime in seconds ramps b.N up, and
// those runs are not pooled with the final ones): the p99 of one run of
// 20,000 admissions at 20 in flight is decided by a few stalls of the
// machine; over N runs it is the distribution's. The k-th run reports
// the pool of runs 1 to k, so the last line of -count N is the whole.
var pooled = struct {
	sync.Mutex
	by map[string][]time.Duration
}{by: map[string][]time.Duration{}}

// pool adds a run's latencies to the benchmark's and returns them all,
// sorted.
func pool(name string, run []time.Duration) []time.Duration {
	pooled.Lock()
	defer pooled.Unlock()
	all := slices.Concat(pooled.by[name], run)
	slices.Sort(all)
	pooled.by[name] = all
	return all
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

// BenchmarkAdmissionWarmFloorAPIServerReview is the floor under
// BenchmarkAdmissionWarmAPIServerReview: the same 7 KB review, answered
// with a constant.
func BenchmarkAdmissionWarmFloorAPIServerReview(b *testing.B) {
	benchLoad(b, nil, true, false, apiServerReview)
}
