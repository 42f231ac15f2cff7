package progress

import (
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// TestTransfer: go-containerregistry's updates draw a bar on a terminal
// once the total is large; a pipe gets no channel at all; a write that
// never closed the channel does not hang the caller.
func TestTransfer(t *testing.T) {
	ios, drawn := onTerminal(t)
	updates, wait := Transfer(ios, false, "copying")
	if updates == nil {
		t.Fatal("no channel on a terminal")
	}
	for c := int64(0); c <= 4*MinBytes; c += MinBytes {
		updates <- v1.Update{Total: 4 * MinBytes, Complete: c}
	}
	close(updates)
	wait()
	if out := drawn(); !strings.Contains(out, "copying") || !strings.Contains(out, "% |") {
		t.Errorf("no bar drawn: %q", out)
	}

	ios, drawn = onTerminal(t)
	updates, wait = Transfer(ios, false, "copying")
	updates <- v1.Update{Total: 1 << 20, Complete: 1 << 19}
	wait() // not closed: the write failed early
	if out := drawn(); out != "" {
		t.Errorf("a bar for a small transfer: %q", out)
	}

	pipe, written := onPipe(t)
	if updates, wait := Transfer(pipe, false, "copying"); updates != nil {
		t.Error("a progress channel on a pipe")
	} else {
		wait()
	}
	if tty, _ := onTerminal(t); tty != nil {
		if updates, _ := Transfer(tty, true, "copying"); updates != nil {
			t.Error("a progress channel with JSON output")
		}
	}
	if out := written(); out != "" {
		t.Errorf("written to a pipe: %q", out)
	}
}
