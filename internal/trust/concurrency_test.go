package trust

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signetdev/signet/internal/trust/trusttest"
)

// Environment of the helper process (a re-exec of this test binary).
const (
	helperEnv      = "SIGNET_TRUST_TEST_HELPER"
	helperCache    = "SIGNET_TRUST_TEST_CACHE"
	helperOffset   = "SIGNET_TRUST_TEST_DAYS"
	helperRounds   = "SIGNET_TRUST_TEST_ROUNDS"
	helperBaseTime = "SIGNET_TRUST_TEST_BASE"
)

// Many refreshes of one cache, in goroutines and in other processes, while
// the repository keeps publishing and readers keep reading: no refresh
// fails, and no reader ever sees a cache that does not verify (an offline
// reader would warn and fall back) or a trusted root that was never
// published (cosign #2576).
func TestConcurrentRefreshesAndReads(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	base := time.Now()
	f := newFixture(t, base.Add(10*365*24*time.Hour))
	f.initialize(t)
	names := []string{"alpha", "beta", "gamma"}
	roots := map[string][]byte{}
	for _, n := range names {
		roots[n] = trusttest.TrustedRootJSON(t, n)
	}
	published := map[string]bool{"https://rekor.alpha.test": true}
	for _, n := range names {
		published["https://rekor."+n+".test"] = true
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 1000)

	// The repository publishes a new version every few milliseconds.
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ctx.Err() == nil; i++ {
			f.repo.Publish(map[string][]byte{TrustedRootTarget: roots[names[i%len(names)]]})
			time.Sleep(3 * time.Millisecond)
		}
	}()

	// Writers: each Load is a day past any recorded refresh, so it refreshes.
	var day atomic.Int64
	const writers, rounds = 3, 8
	var writersDone sync.WaitGroup
	for w := 0; w < writers; w++ {
		writersDone.Add(1)
		go func() {
			defer writersDone.Done()
			for i := 0; i < rounds; i++ {
				var warn bytes.Buffer
				o := f.opts(http.DefaultTransport, base.Add(time.Duration(day.Add(1))*25*time.Hour))
				o.Warn = &warn
				tr, err := Load(ctx, o)
				switch {
				case err != nil:
					errs <- fmt.Errorf("refresh: %w", err)
				case warn.Len() > 0:
					errs <- fmt.Errorf("refresh warned: %s", warn.String())
				case !published[trusttest.RekorURL(tr)]:
					errs <- fmt.Errorf("refresh returned an unknown trusted root %q", trusttest.RekorURL(tr))
				}
			}
		}()
	}

	// Other processes refresh the same cache.
	var procs []*exec.Cmd
	var outs []*bytes.Buffer
	for p := 0; p < 3; p++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(),
			helperEnv+"=1", helperCache+"="+f.cache,
			helperOffset+"="+strconv.Itoa(100*(p+1)), helperRounds+"="+strconv.Itoa(rounds),
			helperBaseTime+"="+base.Format(time.RFC3339Nano))
		out := &bytes.Buffer{}
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		procs, outs = append(procs, cmd), append(outs, out)
	}

	// Readers, offline: never a warning, always a published root.
	var reads atomic.Int64
	for r := 0; r < 4; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				var warn bytes.Buffer
				o := f.opts(&trusttest.FailingTransport{}, base)
				o.Offline, o.Warn = true, &warn
				tr, err := Load(ctx, o)
				if ctx.Err() != nil {
					return
				}
				switch {
				case err != nil:
					errs <- fmt.Errorf("read: %w", err)
				case warn.Len() > 0:
					errs <- fmt.Errorf("read saw a cache that does not verify: %s", warn.String())
				case !published[trusttest.RekorURL(tr)]:
					errs <- fmt.Errorf("read returned an unknown trusted root %q", trusttest.RekorURL(tr))
				}
				reads.Add(1)
			}
		}()
	}

	writersDone.Wait()
	for i, cmd := range procs {
		if err := cmd.Wait(); err != nil {
			t.Errorf("helper process %d: %v\n%s", i, err, outs[i])
		}
	}
	cancel()
	wg.Wait()
	close(errs)
	n := 0
	for err := range errs {
		if n++; n <= 10 {
			t.Error(err)
		}
	}
	if n > 10 {
		t.Errorf("… and %d more errors", n-10)
	}
	t.Logf("%d refreshes in goroutines, %d in 3 processes, %d offline reads", writers*rounds, 3*rounds, reads.Load())

	// The cache left behind verifies, and holds no temporary files.
	c := &client{opts: &Options{}, src: &source{cacheDir: f.cache, mirror: f.srv.URL, root: f.repo.Root1}}
	if _, err := c.readCache(TrustedRootTarget, base); err != nil {
		t.Errorf("final cache: %v", err)
	}
	filepath.Walk(f.cache, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() && (bytes.Contains([]byte(fi.Name()), []byte(".tmp-")) || bytes.HasPrefix([]byte(fi.Name()), []byte("tuf_tmp"))) {
			t.Errorf("temporary file left: %s", p)
		}
		return nil
	})
}

// TestHelperProcess is the body of the processes TestConcurrentRefreshesAndReads
// starts; it does nothing in a normal run.
func TestHelperProcess(t *testing.T) {
	if os.Getenv(helperEnv) != "1" {
		t.Skip("helper process only")
	}
	base, err := time.Parse(time.RFC3339Nano, os.Getenv(helperBaseTime))
	if err != nil {
		t.Fatal(err)
	}
	offset, _ := strconv.Atoi(os.Getenv(helperOffset))
	rounds, _ := strconv.Atoi(os.Getenv(helperRounds))
	for i := 0; i < rounds; i++ {
		var warn bytes.Buffer
		now := base.Add(time.Duration(offset+i) * 25 * time.Hour)
		tr, err := Load(context.Background(), Options{
			Getenv: trusttest.Env(EnvTUFRoot, os.Getenv(helperCache)),
			Warn:   &warn,
			Now:    func() time.Time { return now },
		})
		if err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
		if warn.Len() > 0 {
			t.Fatalf("round %d warned: %s", i, warn.String())
		}
		if trusttest.RekorURL(tr) == "" {
			t.Fatalf("round %d: empty trusted root", i)
		}
	}
}
