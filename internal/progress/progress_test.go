package progress

import (
	"bytes"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/signetdev/signet/internal/iostreams"
)

// onTerminal returns streams whose stderr is the slave side of a real
// pseudo-terminal, and a function returning what was drawn on it.
func onTerminal(t *testing.T) (*iostreams.IOStreams, func() string) {
	t.Helper()
	master, slave, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal here: %v", err)
	}
	t.Cleanup(func() { master.Close(); slave.Close() })
	var buf bytes.Buffer
	done := make(chan struct{})
	go func() { io.Copy(&buf, master); close(done) }()
	return iostreams.Files(os.Stdin, os.Stdout, slave), func() string {
		slave.Close()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("the terminal was not drained")
		}
		return buf.String()
	}
}

// onPipe returns streams whose stderr is a pipe, as in CI.
func onPipe(t *testing.T) (*iostreams.IOStreams, func() string) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	var buf bytes.Buffer
	done := make(chan struct{})
	go func() { io.Copy(&buf, r); close(done) }()
	return iostreams.Files(os.Stdin, os.Stdout, w), func() string {
		w.Close()
		<-done
		return buf.String()
	}
}

func hashAll(b *Bar, size int) {
	io.Copy(io.Discard, b.Reader(bytes.NewReader(make([]byte, size))))
	b.Finish()
}

// TestTerminalDraws: on a pseudo-terminal a large hash draws a bar with
// its description and percentage, and a count bar its count; a line
// printed meanwhile gets through whole. (The bar is throttled, so which
// percentages are drawn is not fixed.)
func TestTerminalDraws(t *testing.T) {
	ios, drawn := onTerminal(t)
	if !ios.IsStderrTTY() {
		t.Fatal("a pseudo-terminal is not seen as a terminal")
	}
	b := Bytes(ios, false, MinBytes, "hashing big.iso")
	if b == nil {
		t.Fatal("no bar on a terminal")
	}
	hashAll(b, MinBytes)
	out := drawn()
	if !strings.Contains(out, "hashing big.iso") || !strings.Contains(out, "% |") {
		t.Errorf("the terminal shows no bar:\n%q", out)
	}

	ios, drawn = onTerminal(t)
	c := Count(ios, false, 12, "signing")
	for i := 0; i < 12; i++ {
		c.Add(1)
	}
	c.Println(ios.ErrOut, "Wrote bundle to file f1.sigstore.json")
	c.Finish()
	if out := drawn(); !strings.Contains(out, "signing") || !strings.Contains(out, "/12)") || !strings.Contains(out, "Wrote bundle to file f1.sigstore.json\r\n") {
		t.Errorf("the terminal shows no count bar or lost the line:\n%q", out)
	}
}

// TestNoBar: a pipe, JSON output, or short work draw nothing at all.
func TestNoBar(t *testing.T) {
	ios, written := onPipe(t)
	if ios.IsStderrTTY() {
		t.Fatal("a pipe is seen as a terminal")
	}
	b := Bytes(ios, false, MinBytes, "hashing big.iso")
	if b != nil {
		t.Error("a bar on a pipe")
	}
	hashAll(b, MinBytes)
	Count(ios, false, 100, "signing").Add(100)
	if out := written(); out != "" {
		t.Errorf("written to a pipe: %q", out)
	}

	ios, drawn := onTerminal(t)
	if Bytes(ios, true, MinBytes, "x") != nil || Count(ios, true, 100, "x") != nil {
		t.Error("a bar with JSON output")
	}
	if Bytes(ios, false, MinBytes-1, "x") != nil || Count(ios, false, MinItems-1, "x") != nil {
		t.Error("a bar for short work")
	}
	if out := drawn(); out != "" {
		t.Errorf("drawn with JSON output or for short work: %q", out)
	}

	// /dev/null is a character device, not a terminal.
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	if iostreams.Files(os.Stdin, os.Stdout, null).IsStderrTTY() {
		t.Error("/dev/null is seen as a terminal")
	}
}
