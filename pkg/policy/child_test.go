package policy

import (
	"bytes"
	"context"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"
)

// slowReader is a child that reads nothing of its input for wait
// seconds, then all of it (or, with wait "never", nothing), and never
// answers: what a signet-policy busy compiling looks like to a request
// being written. One process in the end (exec), so killing it leaves
// nothing holding its output.
func slowReader(t *testing.T, wait string, grace time.Duration) *child {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("needs sh")
	}
	script := "sleep " + wait + "; exec cat >/dev/null"
	if wait == "never" {
		script = "exec sleep 60"
	}
	c, err := startChild(exec.Command("sh", "-c", script), grace)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.fail(errDied); <-c.exited })
	return c
}

// bigCheck is a check larger than a pipe holds, so its write waits for
// the child to read.
func bigCheck() *Request {
	return &Request{Op: OpCheck, ID: 1, Set: 1, Statement: bytes.Repeat([]byte("x"), 4<<20)}
}

// TestWriteOutlivesItsDeadline: a request whose deadline passes while it
// is written is finished when the child reads it within the grace period,
// and the child lives on (it was killed at once, with every check beside
// the request).
func TestWriteOutlivesItsDeadline(t *testing.T) {
	c := slowReader(t, "0.5", 10*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := c.write(ctx, bigCheck()); err != nil {
		t.Fatalf("write: %v", err)
	}
	if ctx.Err() == nil {
		t.Fatal("the write ended before its deadline: the child read it at once")
	}
	if c.dead() {
		t.Fatalf("the child was killed: %v", c.err)
	}
}

// TestWriteKilledAfterGrace: a child that does not read a request within
// the grace period after its deadline is killed, which ends the write,
// saying why.
func TestWriteKilledAfterGrace(t *testing.T) {
	c := slowReader(t, "never", 200*time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := c.write(ctx, bigCheck())
	if err == nil || !strings.Contains(err.Error(), "did not read it within 200ms") {
		t.Fatalf("write: %v", err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("the write took %v", took)
	}
	if !c.dead() {
		t.Error("the child lives")
	}
}
