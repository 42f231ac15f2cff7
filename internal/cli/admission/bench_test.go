package admission

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/signetdev/signet/internal/testing/fakesigstore"
	"github.com/signetdev/signet/internal/testing/regtest"
	"github.com/signetdev/signet/pkg/admission"
)

// benchServer is the webhook's handler over HTTPS on loopback, judging a
// Pod of three keylessly signed images held by an in-process registry.
func benchServer(b *testing.B, cache *admission.Cache) (*httptest.Server, []byte) {
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
	srv := httptest.NewUnstartedServer(s.handler())
	srv.EnableHTTP2 = false
	srv.StartTLS()
	b.Cleanup(srv.Close)
	return srv, podReview("bench", images...)
}

func sprintfPolicy(host string) string { return fmt.Sprintf(testPolicy, host) }

// benchAdmissions sends the review from 20 concurrent clients and reports
// admissions/s, p50/p99 latency and the heap in use.
func benchAdmissions(b *testing.B, cache *admission.Cache, warm bool) {
	srv, body := benchServer(b, cache)
	client := srv.Client()
	client.Transport.(*http.Transport).MaxIdleConnsPerHost = 32
	client.Transport.(*http.Transport).TLSClientConfig.ClientSessionCache = tls.NewLRUClientSessionCache(64)
	send := func() time.Duration {
		start := time.Now()
		resp, err := client.Post(srv.URL+"/validate", "application/json", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !bytes.Contains(out, []byte(`"allowed":true`)) {
			b.Fatalf("denied: %s", out)
		}
		return time.Since(start)
	}
	if warm {
		send()
	}
	var mu sync.Mutex
	var lat []time.Duration
	b.ReportAllocs()
	b.SetParallelism(max(1, 20/runtime.GOMAXPROCS(0)))
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		for pb.Next() {
			mine = append(mine, send())
		}
		mu.Lock()
		lat = append(lat, mine...)
		mu.Unlock()
	})
	elapsed, cpu := time.Since(start), cpuTime()-cpu0
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "admissions/s")
	b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
	b.ReportMetric(ms(lat[len(lat)*99/100]), "p99-ms")
	// The registry runs in this process: its work is counted too.
	b.ReportMetric(ms(cpu)/float64(len(lat)), "cpu-ms/op")
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	b.ReportMetric(float64(m.HeapInuse)/(1<<20), "heap-MiB")
}

// BenchmarkAdmissionCold: no result cache, every admission reads the
// registry (loopback) and verifies three images.
func BenchmarkAdmissionCold(b *testing.B) { benchAdmissions(b, nil, false) }

// BenchmarkAdmissionWarm: the verdicts are cached.
func BenchmarkAdmissionWarm(b *testing.B) {
	benchAdmissions(b, admission.NewCache(1000, time.Hour, nil), true)
}
