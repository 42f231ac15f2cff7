package signblob_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/signetdev/signet/internal/cli"
	"github.com/signetdev/signet/internal/cli/commands"
	"github.com/signetdev/signet/internal/iostreams"
	"github.com/signetdev/signet/internal/testing/clitest"
	"github.com/signetdev/signet/internal/testing/regtest"
)

// runWithStderr runs signet with stderr on the given file (a
// pseudo-terminal or a pipe) and returns what reached it, read from
// drain.
func runWithStderr(t *testing.T, errOut, drainEnd *os.File, args ...string) (int, string) {
	t.Helper()
	var buf bytes.Buffer
	done := make(chan struct{})
	go func() { io.Copy(&buf, drainEnd); close(done) }()
	stdout, err := os.CreateTemp(t.TempDir(), "stdout")
	if err != nil {
		t.Fatal(err)
	}
	defer stdout.Close()
	f := cli.NewFactory(iostreams.Files(os.Stdin, stdout, errOut))
	env := map[string]string{"COSIGN_PASSWORD": ""}
	f.Getenv = func(k string) string { return env[k] }
	f.LookupEnv = func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	home := t.TempDir()
	f.HomeDir = func() (string, error) { return home, nil }
	f.Transport = &clitest.NoNetwork{}
	code := cli.Run(context.Background(), args, f, commands.All()...)
	errOut.Close()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("stderr was not drained")
	}
	return code, buf.String()
}

// TestProgressOnTerminalOnly: signing twelve files draws a bar when
// stderr is a (pseudo-)terminal, and nothing but cosign's lines when it
// is a pipe or the output is JSON.
func TestProgressOnTerminalOnly(t *testing.T) {
	dir := t.TempDir()
	key, _ := regtest.KeyPair(t, dir, "cosign")
	args := []string{"sign-blob", "--yes", "--key", key, "--use-signing-config=false", "--tlog-upload=false"}
	for i := 1; i <= 12; i++ {
		p := filepath.Join(dir, fmt.Sprintf("f%d", i))
		if err := os.WriteFile(p, []byte(p), 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, p)
	}

	master, slave, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal here: %v", err)
	}
	defer master.Close()
	code, out := runWithStderr(t, slave, master, args...)
	if code != 0 || !strings.Contains(out, "signing") || !strings.Contains(out, "/12)") || strings.Count(out, "Wrote bundle to file") != 12 {
		t.Errorf("terminal: exit %d, no bar or lines lost:\n%q", code, out)
	}

	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	code, out = runWithStderr(t, w, r, args...)
	if code != 0 || strings.Contains(out, "\r") || strings.Contains(out, "/12)") || strings.Count(out, "Wrote bundle to file") != 12 {
		t.Errorf("pipe: exit %d, a bar was drawn or lines lost:\n%q", code, out)
	}

	master, slave, err = pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer master.Close()
	code, out = runWithStderr(t, slave, master, append(args, "--output-format", "json")...)
	if code != 0 || strings.Contains(out, "/12)") {
		t.Errorf("terminal with JSON output: exit %d, a bar was drawn:\n%q", code, out)
	}
}
