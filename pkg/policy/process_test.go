package policy_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signetdev/signet/pkg/policy"
	"github.com/signetdev/signet/pkg/policy/engine"
)

// TestMain lets this test binary be the engine program: the Process under
// test runs it again with engineEnv set, and it serves the real engines.
func TestMain(m *testing.M) {
	if filepath.Base(os.Args[0]) == envDumpName {
		// Run by name (a symlink), as its environment is not ours to
		// choose: it writes that environment beside itself, then serves.
		env := strings.Join(os.Environ(), "\n")
		if err := os.WriteFile(filepath.Join(filepath.Dir(os.Args[0]), "environ"), []byte(env), 0o600); err != nil {
			os.Exit(1)
		}
		if err := engine.Serve(context.Background(), os.Stdin, os.Stdout); err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
	switch os.Getenv(engineEnv) {
	case "serve-counted":
		// Counts the engines started, one line each.
		f, err := os.OpenFile(os.Getenv(engineEnv+"_COUNT"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
		if err != nil {
			os.Exit(1)
		}
		_, _ = f.WriteString("started\n")
		_ = f.Close()
		fallthrough
	case "serve":
		if err := engine.Serve(context.Background(), os.Stdin, os.Stdout); err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	case "other-protocol":
		// A signet-policy of another release answers hello differently.
		var req policy.Request
		_ = json.NewDecoder(os.Stdin).Decode(&req)
		_ = json.NewEncoder(os.Stdout).Encode(policy.Response{Version: policy.ProtocolVersion + 1})
		os.Exit(0)
	case "crash":
		os.Stderr.WriteString("engine: out of memory\n")
		os.Exit(3)
	}
	os.Exit(m.Run())
}

const (
	engineEnv   = "SIGNET_POLICY_TEST_ENGINE"
	envDumpName = "signet-policy-environ"
)

// newProcess runs this test binary as the engine, with the environment
// signet gives the real one (and the variable that says what to be).
func newProcess(t *testing.T, mode string) *policy.Process {
	t.Helper()
	p := &policy.Process{Path: os.Args[0], Env: append(policy.EngineEnv(os.Environ(), 0), engineEnv+"="+mode)}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

const stmt = `{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://cosign.sigstore.dev/attestation/v1","subject":[],"predicate":{"Data":"foobar","size":12345678901234567891}}`

func src(name, text string) policy.Source {
	lang, err := policy.LangOf(name)
	if err != nil {
		panic(err)
	}
	return policy.Source{Name: name, Lang: lang, Data: []byte(text)}
}

// TestProcessJudgesAsInProcess: the pipe changes nothing: verdicts, the
// engines' messages, violations, warnings and compile errors are the ones
// the engines give in-process.
func TestProcessJudgesAsInProcess(t *testing.T) {
	ctx := context.Background()
	p := newProcess(t, "serve")
	for _, tc := range []struct {
		conv policy.Convention
		srcs []policy.Source
	}{
		{policy.CosignCLI, []policy.Source{src("ok.cue", "predicate: Data: \"foobar\"\n")}},
		{policy.CosignCLI, []policy.Source{src("bad.cue", "predicateType: \"other\"\n")}},
		{policy.CosignCLI, []policy.Source{src("exact.cue", "predicate: size: 12345678901234567890\n")}},
		{policy.CosignCLI, []policy.Source{src("p.rego", "package signature\nallow { input.predicate.Data == \"foobar\" }\n")}},
		{policy.CosignCLI, []policy.Source{src("p.rego", "package signature\ndefault allow = false\n")}},
		{policy.PolicyController, []policy.Source{src("w.rego", "package sigstore\nisCompliant[r] { r := {\"result\": true, \"warning\": \"old builder\"} }\n")}},
		{policy.PolicyController, []policy.Source{src("e.rego", "package sigstore\nisCompliant[r] { r := {\"result\": false, \"error\": \"no SBOM\"} }\n")}},
		{policy.CosignCLI, []policy.Source{src("syntax.cue", "predicate: {\n")}},
		{policy.CosignCLI, []policy.Source{src("v1.rego", "package signature\nallow if { true }\n")}},
	} {
		name := tc.srcs[0].Name
		local, lerr := policy.Compile(ctx, engine.Local{}, tc.conv, tc.srcs...)
		remote, rerr := policy.Compile(ctx, p, tc.conv, tc.srcs...)
		if (lerr == nil) != (rerr == nil) || (lerr != nil && lerr.Error() != rerr.Error()) {
			t.Fatalf("%s: compile: in-process %v, through the pipe %v", name, lerr, rerr)
		}
		if lerr != nil {
			continue
		}
		want, err := local.Check(ctx, []byte(stmt))
		if err != nil {
			t.Fatal(err)
		}
		got, err := remote.Check(ctx, []byte(stmt))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		w, _ := json.Marshal(want)
		g, _ := json.Marshal(got)
		if string(w) != string(g) {
			t.Errorf("%s:\n pipe:       %s\n in-process: %s", name, g, w)
		}
	}
	// A statement that cannot be evaluated is an error, as in-process.
	set, err := policy.Compile(ctx, p, policy.CosignCLI, src("ok.cue", "x?: int\n"))
	if err != nil {
		t.Fatal(err)
	}
	var f *policy.Failure
	if err := set.Evaluate(ctx, []byte(`{"a":`)); err == nil || errors.As(err, &f) || !strings.Contains(err.Error(), "not valid JSON") {
		t.Errorf("not JSON: %v, want the engine's error", err)
	}
}

// TestProcessRestartsADeadEngine: an engine that died (killed, crashed)
// is started again by the next check, which compiles the set again.
func TestProcessRestartsADeadEngine(t *testing.T) {
	ctx := context.Background()
	p := newProcess(t, "serve")
	set, err := policy.Compile(ctx, p, policy.CosignCLI, src("bad.cue", "predicateType: \"other\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := set.Evaluate(ctx, []byte(stmt)); err == nil {
		t.Fatal("want a failure before the restart")
	}
	_ = p.Close() // the engine is gone
	if err := set.Evaluate(ctx, []byte(stmt)); err == nil || !strings.Contains(err.Error(), "conflicting values") {
		t.Fatalf("after the engine died: %v, want the policy's failure again", err)
	}
}

// TestProcessCancel: a context that ends stops a long evaluation at once
// (Rego's is cancelled in the engine), and the next call works.
func TestProcessCancel(t *testing.T) {
	p := newProcess(t, "serve")
	slow, err := policy.Compile(context.Background(), p, policy.CosignCLI, src("slow.rego", regoPassesSlow))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := slow.Evaluate(ctx, []byte(stmt)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("slow policy: %v, want the deadline", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("cancelled evaluation took %v", d)
	}
	ok, err := policy.Compile(context.Background(), p, policy.CosignCLI, src("ok.cue", "predicate: Data: \"foobar\"\n"))
	if err != nil {
		t.Fatalf("after a cancelled evaluation: %v", err)
	}
	if err := ok.Evaluate(context.Background(), []byte(stmt)); err != nil {
		t.Fatalf("after a cancelled evaluation: %v", err)
	}
}

// TestProcessConcurrent: the webhook checks from many goroutines at once.
func TestProcessConcurrent(t *testing.T) {
	ctx := context.Background()
	p := newProcess(t, "serve")
	pass, err := policy.Compile(ctx, p, policy.CosignCLI, src("ok.rego", "package signature\nallow { input.predicate.Data == \"foobar\" }\n"))
	if err != nil {
		t.Fatal(err)
	}
	fail, err := policy.Compile(ctx, p, policy.CosignCLI, src("bad.cue", "predicateType: \"other\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := pass.Evaluate(ctx, []byte(stmt)); err != nil {
				t.Errorf("%d: pass: %v", i, err)
			}
			if err := fail.Evaluate(ctx, []byte(stmt)); err == nil {
				t.Errorf("%d: fail passed", i)
			}
		}()
	}
	wg.Wait()
}

// TestProcessRefusals: an engine of another protocol, one that crashes,
// and one that is not there each fail in one line that says so.
func TestProcessRefusals(t *testing.T) {
	ctx := context.Background()
	c := []policy.Source{src("ok.cue", "x?: int\n")}
	if _, err := policy.Compile(ctx, newProcess(t, "other-protocol"), policy.CosignCLI, c...); err == nil || !strings.Contains(err.Error(), "speaks protocol") {
		t.Errorf("other protocol: %v", err)
	}
	if _, err := policy.Compile(ctx, newProcess(t, "crash"), policy.CosignCLI, c...); err == nil || !strings.Contains(err.Error(), "engine: out of memory") || strings.Contains(err.Error(), "\n") {
		t.Errorf("crash: %v, want one line with the engine's last words", err)
	}
	missing := &policy.Process{Path: t.TempDir() + "/signet-policy"}
	if _, err := policy.Compile(ctx, missing, policy.CosignCLI, c...); err == nil || !strings.Contains(err.Error(), "starting the policy engine") {
		t.Errorf("missing: %v", err)
	}
	if _, err := policy.FindEngine(t.TempDir()); err == nil || !strings.Contains(err.Error(), "not an executable file") {
		t.Errorf("FindEngine(a directory): %v", err)
	}
}

func TestLangOf(t *testing.T) {
	for in, want := range map[string]policy.Lang{"a.cue": policy.CUE, "dir/b.REGO": policy.Rego, "c.rego": policy.Rego} {
		if got, err := policy.LangOf(in); err != nil || got != want {
			t.Errorf("LangOf(%q) = %q, %v", in, got, err)
		}
	}
	for _, in := range []string{"a.json", "cue", "a.cue.txt", ""} {
		if _, err := policy.LangOf(in); err == nil || err.Error() != "invalid policy format, expected .cue or .rego" {
			t.Errorf("LangOf(%q): %v", in, err)
		}
	}
}

// newCountedProcess is newProcess whose engines count themselves.
func newCountedProcess(t *testing.T, p *policy.Process) (started func() int) {
	count := filepath.Join(t.TempDir(), "count")
	p.Path = os.Args[0]
	p.Env = append(policy.EngineEnv(os.Environ(), 0), engineEnv+"=serve-counted", engineEnv+"_COUNT="+count)
	t.Cleanup(func() { _ = p.Close() })
	return func() int {
		b, _ := os.ReadFile(count)
		return strings.Count(string(b), "started")
	}
}

// Policies that take long over slowStmt(n): CUE cannot be stopped once
// evaluating (n*n iterations of ~7 µs here), Rego can. Their work
// depends on the statement, so compiling them is quick.
const (
	cueSlow        = "import \"list\"\npredicate: n: int\nx: [for i in list.Range(0, predicate.n, 1) for j in list.Range(0, predicate.n, 1) if i*j < 0 {i}]\n"
	regoSlow       = "package signature\nallow { r := numbers.range(1, input.predicate.n); r[_] * r[_] * r[_] < 0 }\n"
	regoPassesSlow = "package signature\nallow { count(numbers.range(1, 100000000)) > 0 }\n"
)

// slowStmt is a statement for cueSlow and regoSlow: n = 500 takes cueSlow
// about 1.7 s, n = 5000 far longer than any test.
func slowStmt(n int) []byte {
	return []byte(fmt.Sprintf(`{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"x","subject":[],"predicate":{"n":%d}}`, n))
}

// TestProcessRestartsOnce: after the engine is killed (a deadline), the
// sets compiled in it are compiled again in one new engine, not each in
// its own; compiling the same policy again reuses its set; an engine that
// dies between calls is replaced without failing the next check.
func TestProcessRestartsOnce(t *testing.T) {
	p := &policy.Process{CancelGrace: 50 * time.Millisecond}
	started := newCountedProcess(t, p)
	ctx := context.Background()
	a, err := policy.Compile(ctx, p, policy.CosignCLI, src("a.cue", "predicate: Data: \"foobar\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := policy.Compile(ctx, p, policy.CosignCLI, src("b.rego", "package signature\nallow { input.predicate.Data == \"foobar\" }\n"))
	if err != nil {
		t.Fatal(err)
	}
	slow, err := policy.Compile(ctx, p, policy.CosignCLI, src("slow.cue", cueSlow))
	if err != nil {
		t.Fatal(err)
	}
	dctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if err := slow.Evaluate(dctx, slowStmt(5000)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("slow policy: %v", err)
	}
	p.SettleForTest() // CUE does not stop: the engine is killed at the grace period
	for range 3 {
		for _, set := range []*policy.Set{a, b} {
			if err := set.Evaluate(ctx, []byte(stmt)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n := started(); n != 2 {
		t.Errorf("%d engines started, want 2 (the first, and one after the kill)", n)
	}
	if _, err := policy.Compile(ctx, p, policy.CosignCLI, src("a.cue", "predicate: Data: \"foobar\"\n")); err != nil {
		t.Fatal(err)
	}
	// An engine that dies on its own between calls.
	if err := p.KillForTest(); err != nil {
		t.Fatal(err)
	}
	if err := a.Evaluate(ctx, []byte(stmt)); err != nil {
		t.Fatalf("after the engine died between calls: %v", err)
	}
	if n := started(); n != 3 {
		t.Errorf("%d engines started, want 3", n)
	}
}

// TestEngineEnvironment: the engine gets only the variables it needs from
// signet's environment; passwords, tokens and proxies do not reach it.
func TestEngineEnvironment(t *testing.T) {
	secrets := map[string]string{
		"COSIGN_PASSWORD":       "pw-not-for-the-engine",
		"SIGSTORE_ID_TOKEN":     "token-not-for-the-engine",
		"AWS_SECRET_ACCESS_KEY": "aws-not-for-the-engine",
		"HTTPS_PROXY":           "http://user:proxy-not-for-the-engine@proxy:3128",
		"HOME":                  "/home-not-for-the-engine",
	}
	for k, v := range secrets {
		t.Setenv(k, v)
	}
	t.Setenv("TZ", "Europe/Paris")
	t.Setenv("GOGC", "150")
	t.Setenv("GOMEMLIMIT", "300MiB")
	got := engineEnviron(t, &policy.Process{})
	for k, v := range secrets {
		if strings.Contains(got, v) || strings.Contains(got, k+"=") {
			t.Errorf("%s reached the engine", k)
		}
	}
	for _, kv := range []string{"TZ=Europe/Paris", "GOGC=150", "GOMEMLIMIT=300MiB"} {
		if !strings.Contains("\n"+got+"\n", "\n"+kv+"\n") {
			t.Errorf("%s did not reach the engine; it got %q", kv, got)
		}
	}
}

// TestEngineMemoryLimitScales: without a GOMEMLIMIT, the engine's soft
// limit grows with the checks it runs at once, within bounds.
func TestEngineMemoryLimitScales(t *testing.T) {
	for n, want := range map[int]int64{-1: 512 << 20, 0: 512 << 20, 1: 512 << 20, 4: 1280 << 20, policy.MaxConcurrency: 4352 << 20, 1000: 4352 << 20} {
		if got := policy.EngineMemoryLimit(n); got != want {
			t.Errorf("EngineMemoryLimit(%d) = %d, want %d", n, got, want)
		}
	}
	t.Setenv("GOMEMLIMIT", "")
	if err := os.Unsetenv("GOMEMLIMIT"); err != nil {
		t.Fatal(err)
	}
	got := engineEnviron(t, &policy.Process{Concurrency: 3})
	if want := "GOMEMLIMIT=1073741824"; !strings.Contains("\n"+got+"\n", "\n"+want+"\n") {
		t.Errorf("three checks at once: the engine got %q, want %s", got, want)
	}
	got = engineEnviron(t, &policy.Process{Concurrency: 3, MemoryLimit: 100 << 20})
	if want := "GOMEMLIMIT=104857600"; !strings.Contains("\n"+got+"\n", "\n"+want+"\n") || strings.Count(got, "GOMEMLIMIT=") != 1 {
		t.Errorf("a MemoryLimit: the engine got %q, want only %s", got, want)
	}
}

// engineEnviron runs p's engine as this test binary under a name that
// has it write its environment, has it judge a statement, and returns
// that environment.
func engineEnviron(t *testing.T, p *policy.Process) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	link := filepath.Join(dir, envDumpName)
	if err := os.Symlink(exe, link); err != nil {
		t.Skipf("no symlinks here: %v", err)
	}
	p.Path = link
	t.Cleanup(func() { _ = p.Close() })
	set, err := policy.Compile(context.Background(), p, policy.CosignCLI, src("ok.rego", "package signature\nallow { input.predicate.Data == \"foobar\" }\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := set.Evaluate(context.Background(), []byte(stmt)); err != nil {
		t.Fatalf("under its own environment: %v", err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "environ"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestEngineEnv(t *testing.T) {
	parent := []string{"PATH=/bin", "GOGC=50", "GOMEMLIMIT=1GiB", "COSIGN_PASSWORD=x", "TZ=UTC", "noequals"}
	if got, want := strings.Join(policy.EngineEnv(parent, 0), " "), "GOGC=50 GOMEMLIMIT=1GiB TZ=UTC"; got != want {
		t.Errorf("EngineEnv: %q, want %q", got, want)
	}
	if got, want := strings.Join(policy.EngineEnv(parent, 200<<20), " "), "GOGC=50 TZ=UTC GOMEMLIMIT=209715200"; got != want {
		t.Errorf("EngineEnv with a limit: %q, want %q", got, want)
	}
	if env := policy.EngineEnv([]string{"COSIGN_PASSWORD=x"}, 0); env == nil || len(env) != 0 {
		t.Errorf("EngineEnv of nothing to keep: %#v, want empty and not nil (nil inherits all)", env)
	}
}

// evaluateAsync runs set.Evaluate in a goroutine; its error comes on the
// channel.
func evaluateAsync(ctx context.Context, set *policy.Set, statement []byte) <-chan error {
	done := make(chan error, 1)
	go func() { done <- set.Evaluate(ctx, statement) }()
	return done
}

// TestProcessChecksOverlap: one engine runs checks beside each other: a
// quick one and a slow one are answered while an endless one runs, and a
// deadline on another stops that one alone (Rego is cancelled in the
// engine, nothing is killed).
func TestProcessChecksOverlap(t *testing.T) {
	// A long grace, so that only a check the engine failed to cancel
	// could kill it, however loaded the machine.
	p := &policy.Process{Concurrency: 4, CancelGrace: time.Minute}
	started := newCountedProcess(t, p)
	ctx := context.Background()
	compile := func(s policy.Source) *policy.Set {
		set, err := policy.Compile(ctx, p, policy.CosignCLI, s)
		if err != nil {
			t.Fatal(err)
		}
		return set
	}
	endless, slow, quick := compile(src("endless.rego", regoSlow)), compile(src("slow.cue", cueSlow)), compile(src("ok.cue", "predicate: Data: \"foobar\"\n"))

	ectx, stopEndless := context.WithCancel(ctx)
	defer stopEndless()
	endlessDone := evaluateAsync(ectx, endless, slowStmt(5000))
	dctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	deadlineDone := evaluateAsync(dctx, endless, slowStmt(5000))
	slowDone := evaluateAsync(ctx, slow, slowStmt(200))

	if err := quick.Evaluate(ctx, []byte(stmt)); err != nil {
		t.Fatalf("quick check beside slow ones: %v", err)
	}
	if err := <-deadlineDone; !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("check past its deadline: %v, want the deadline", err)
	}
	if err := <-slowDone; err != nil {
		t.Fatalf("slow check beside one past its deadline: %v", err)
	}
	select {
	case err := <-endlessDone:
		t.Fatalf("the endless check ended by itself: %v", err)
	default:
	}
	if err := quick.Evaluate(ctx, []byte(stmt)); err != nil {
		t.Fatalf("quick check after: %v", err)
	}
	stopEndless()
	if err := <-endlessDone; !errors.Is(err, context.Canceled) {
		t.Fatalf("endless check: %v, want cancelled", err)
	}
	p.SettleForTest()
	if n := started(); n != 1 {
		t.Errorf("%d engines started, want 1: a cancelled Rego check kills nothing", n)
	}
}

// TestProcessKillRetriesOthers: a check that will not stop (CUE) is
// killed with its engine at the grace period; the check running beside
// it is answered by a new engine, once.
func TestProcessKillRetriesOthers(t *testing.T) {
	p := &policy.Process{Concurrency: 2, CancelGrace: 100 * time.Millisecond}
	started := newCountedProcess(t, p)
	ctx := context.Background()
	stuck, err := policy.Compile(ctx, p, policy.CosignCLI, src("stuck.cue", cueSlow))
	if err != nil {
		t.Fatal(err)
	}
	other, err := policy.Compile(ctx, p, policy.CosignCLI, src("other.cue", cueSlow+"y: 1\n"))
	if err != nil {
		t.Fatal(err)
	}
	otherDone := evaluateAsync(ctx, other, slowStmt(500))
	dctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := stuck.Evaluate(dctx, slowStmt(5000)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("stuck check: %v, want the deadline", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the stuck check returned after %v", d)
	}
	if err := <-otherDone; err != nil {
		t.Fatalf("the check beside the killed one: %v, want it answered by a new engine", err)
	}
	if n := started(); n != 2 {
		t.Errorf("%d engines started, want 2 (the killed one, the one that answered the retry)", n)
	}
}

// TestProcessAnswersMatched: many checks at once, of different sizes,
// each gets the answer to its own statement.
func TestProcessAnswersMatched(t *testing.T) {
	p := newProcess(t, "serve")
	p.Concurrency = 4
	ctx := context.Background()
	echo, err := policy.Compile(ctx, p, policy.PolicyController, src("echo.rego", "package sigstore\nisCompliant[r] { r := {\"result\": false, \"error\": input.predicate.Data} }\n"))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			want := fmt.Sprintf("request-%d-", i)
			st := fmt.Sprintf(`{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"x","subject":[],"predicate":{"Data":%q,"pad":%q}}`, want, strings.Repeat("x", (i%7)*100000))
			r, err := echo.Check(ctx, []byte(st))
			if err != nil {
				t.Errorf("%d: %v", i, err)
				return
			}
			if len(r.Messages) != 1 || !strings.Contains(r.Messages[0], want) {
				t.Errorf("%d: answered %q, want %q", i, r.Messages, want)
			}
		}()
	}
	wg.Wait()
}
