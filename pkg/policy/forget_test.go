package policy_test

import (
	"context"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signetdev/signet/pkg/policy"
)

// collectUntil runs the collector until p's counts are what want says
// (the cleanups of dropped sets run after a collection, and their
// forgets are sent by a goroutine), failing after 20 s.
func collectUntil(t *testing.T, p *policy.Process, what string, want func(sets, held, forgets int) bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		runtime.GC()
		sets, held, forgets := p.SetsForTest()
		if want(sets, held, forgets) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: %d sets, %d holders, %d forgets", what, sets, held, forgets)
		}
		time.Sleep(5 * time.Millisecond) // for the cleanup and forget goroutines
	}
}

// compileChecked compiles srcs in p and checks stmt against them once.
func compileChecked(t *testing.T, p *policy.Process, srcs ...policy.Source) *policy.Set {
	t.Helper()
	set, err := policy.Compile(context.Background(), p, policy.CosignCLI, srcs...)
	if err != nil {
		t.Fatal(err)
	}
	if err := set.Evaluate(context.Background(), []byte(stmt)); err != nil {
		t.Fatal(err)
	}
	return set
}

var (
	okCUE  = src("ok.cue", "predicate: Data: \"foobar\"\n")
	okRego = src("ok.rego", "package signature\nallow { input.predicate.Data == \"foobar\" }\n")
)

// TestProcessForgetsDroppedSet: a set no Evaluator holds any more is
// forgotten in the engine (and by the Process); compiling its policies
// again gives a set that works.
func TestProcessForgetsDroppedSet(t *testing.T) {
	ctx := context.Background()
	p := newProcess(t, "serve")
	kept := compileChecked(t, p, okRego)     // set 1 in the engine
	func() { compileChecked(t, p, okCUE) }() // set 2, dropped at once
	if err := p.CheckSetForTest(ctx, 2, []byte(stmt)); err != nil {
		t.Fatalf("set 2 before it was dropped: %v", err)
	}
	collectUntil(t, p, "the dropped set's forget", func(_, _, forgets int) bool { return forgets == 1 })
	if sets, held, forgets := p.SetsForTest(); sets != 1 || held != 1 || forgets != 1 {
		t.Fatalf("after the forget: %d sets, %d holders, %d forgets; want 1, 1, 1", sets, held, forgets)
	}
	if err := p.CheckSetForTest(ctx, 2, []byte(stmt)); err == nil || !strings.Contains(err.Error(), "no compiled policy set 2") {
		t.Fatalf("set 2 after its forget: %v, want the engine to have none", err)
	}
	again := compileChecked(t, p, okCUE)
	if sets, held, _ := p.SetsForTest(); sets != 2 || held != 2 {
		t.Errorf("compiled again: %d sets, %d holders; want 2, 2", sets, held)
	}
	if err := kept.Evaluate(ctx, []byte(stmt)); err != nil {
		t.Errorf("the set kept: %v", err)
	}
	runtime.KeepAlive(again)
}

// TestProcessKeepsSharedSet: two Evaluators of the same policies share
// one set in the engine; dropping one keeps it for the other.
func TestProcessKeepsSharedSet(t *testing.T) {
	p := newProcess(t, "serve")
	kept := compileChecked(t, p, okCUE)
	func() { compileChecked(t, p, okCUE) }()
	if sets, held, _ := p.SetsForTest(); sets != 1 || held != 2 {
		t.Fatalf("two compiles of one content: %d sets, %d holders; want 1, 2", sets, held)
	}
	collectUntil(t, p, "one holder dropped", func(_, held, _ int) bool { return held < 2 })
	if sets, _, forgets := p.SetsForTest(); sets != 1 || forgets != 0 {
		t.Fatalf("one of two holders dropped: %d sets, %d forgets; want 1, 0", sets, forgets)
	}
	if err := kept.Evaluate(context.Background(), []byte(stmt)); err != nil {
		t.Fatalf("the holder left: %v", err)
	}
	// kept is not used past this point: the collector may take it.
	collectUntil(t, p, "the last holder's forget", func(sets, held, forgets int) bool { return sets == 0 && held == 0 && forgets == 1 })
}

// TestProcessForgetsNotInANewEngine: a set compiled in an engine that
// died is not forgotten in the next one, where its id names another set.
func TestProcessForgetsNotInANewEngine(t *testing.T) {
	p := newProcess(t, "serve")
	func() {
		compileChecked(t, p, okCUE) // set 1 in the first engine
		if err := p.KillForTest(); err != nil {
			t.Fatal(err)
		}
	}()
	kept := compileChecked(t, p, okRego) // set 1 in the second
	collectUntil(t, p, "the first engine's set dropped", func(_, held, _ int) bool { return held < 2 })
	if sets, _, forgets := p.SetsForTest(); sets != 1 || forgets != 0 {
		t.Fatalf("a dead engine's set dropped: %d sets, %d forgets; want 1, 0", sets, forgets)
	}
	if err := kept.Evaluate(context.Background(), []byte(stmt)); err != nil {
		t.Fatalf("the new engine's set after the old one's was dropped: %v", err)
	}
}

// TestProcessForgetRaces: compiles of one content, checks and drops from
// many goroutines while the collector runs: every check finds its set
// (a compile after the count reached zero gets the old set or a new one,
// never a forgotten one), and at the end nothing is left.
func TestProcessForgetRaces(t *testing.T) {
	p := newProcess(t, "serve")
	p.Concurrency = 2
	ctx := context.Background()
	stop := make(chan struct{})
	gcDone := make(chan struct{})
	go func() {
		defer close(gcDone)
		for {
			select {
			case <-stop:
				return
			default:
				runtime.GC()
				time.Sleep(time.Millisecond)
			}
		}
	}()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 25 {
				s := okRego
				if (g+i)%2 == 0 {
					s = okCUE
				}
				set, err := policy.Compile(ctx, p, policy.CosignCLI, s)
				if err != nil {
					t.Errorf("%d/%d: compile: %v", g, i, err)
					return
				}
				if err := set.Evaluate(ctx, []byte(stmt)); err != nil {
					t.Errorf("%d/%d: %v", g, i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	<-gcDone
	// A set leaves p's count before its forget is answered.
	collectUntil(t, p, "every set forgotten", func(sets, held, forgets int) bool { return sets == 0 && held == 0 && forgets > 0 })
}
