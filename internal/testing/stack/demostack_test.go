package stack

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// fakeDriver is a hack/local-stack stand-in: status exits with the code in
// the file "status" (and up flips it to 0), up fails when the file
// "up-fails" exists, and every call is appended to "calls".
const fakeDriver = `#!/usr/bin/env bash
d=$(dirname "$0")
echo "$*" >>"$d/calls"
case "$1" in
status) exit "$(cat "$d/status")" ;;
up) [ -e "$d/up-fails" ] && { echo "port 5555 is already in use" >&2; exit 1; }; echo 0 >"$d/status"; echo SIGNET_STACK_MODE=minimal ;;
install) echo "local-stack: building fulcio@v1.8.8 ..." >&2 ;;
esac
exit 0
`

// runDemoStack sources hack/demo-stack.sh with the fake driver, runs
// stack_up then stack_down (as make demo does), and returns the driver's
// calls and the output.
func runDemoStack(t *testing.T, status string, upFails bool, env ...string) (calls, out string, err error) {
	t.Helper()
	dir := t.TempDir()
	drv := filepath.Join(dir, "local-stack")
	if err := os.WriteFile(drv, []byte(fakeDriver), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "status"), []byte(status), 0o644); err != nil {
		t.Fatal(err)
	}
	if upFails {
		if err := os.WriteFile(filepath.Join(dir, "up-fails"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	script, err := filepath.Abs("../../../hack/demo-stack.sh")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", "-c", `set -euo pipefail; . "$0"; trap stack_down EXIT; stack_up; echo DEMO-RAN`, script)
	cmd.Env = append(os.Environ(), append([]string{"DEMO_STACK=" + drv, "DEMO_KEEP_STACK="}, env...)...)
	b, err := cmd.CombinedOutput()
	c, _ := os.ReadFile(filepath.Join(dir, "calls"))
	return strings.TrimSpace(string(c)), string(b), err
}

func TestDemoStack(t *testing.T) {
	t.Run("a healthy stack is reused and never stopped", func(t *testing.T) {
		calls, out, err := runDemoStack(t, "0", false)
		if err != nil || calls != "status" || !strings.Contains(out, "already running") || !strings.Contains(out, "DEMO-RAN") {
			t.Errorf("err %v, calls %q, output:\n%s", err, calls, out)
		}
	})
	t.Run("none running: install, up minimal, down after", func(t *testing.T) {
		calls, out, err := runDemoStack(t, "3", false)
		want := "status\ninstall -minimal -no-tools\nup -minimal\ndown"
		if err != nil || calls != want || !strings.Contains(out, "about 3 minutes") ||
			!strings.Contains(out, "building fulcio") || !strings.Contains(out, "is stopped") {
			t.Errorf("err %v, calls %q (want %q), output:\n%s", err, calls, want, out)
		}
	})
	t.Run("kept when asked", func(t *testing.T) {
		calls, out, err := runDemoStack(t, "3", false, "DEMO_KEEP_STACK=1")
		if err != nil || strings.Contains(calls, "down") || !strings.Contains(out, "left running") {
			t.Errorf("err %v, calls %q, output:\n%s", err, calls, out)
		}
	})
	t.Run("an unhealthy stack is left alone", func(t *testing.T) {
		calls, out, err := runDemoStack(t, "1", false)
		if err == nil || calls != "status" || strings.Contains(out, "DEMO-RAN") || !strings.Contains(out, "left alone") {
			t.Errorf("err %v, calls %q, output:\n%s", err, calls, out)
		}
	})
	t.Run("up fails: not stopped, since not started", func(t *testing.T) {
		calls, out, err := runDemoStack(t, "3", true)
		if err == nil || strings.Contains(calls, "down") || !strings.Contains(out, "could not start") {
			t.Errorf("err %v, calls %q, output:\n%s", err, calls, out)
		}
	})
}
