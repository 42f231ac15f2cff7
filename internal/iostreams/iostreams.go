// Package iostreams carries the process's standard streams and the facts
// about them (is this a terminal?) so that commands never touch os.Std*.
package iostreams

import (
	"bytes"
	"io"
	"os"

	"golang.org/x/term"
)

// IOStreams is what a command may read from and write to.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	stdinTTY  bool
	stdoutTTY bool
	stderrTTY bool
}

// System returns the process's streams.
func System() *IOStreams { return Files(os.Stdin, os.Stdout, os.Stderr) }

// Files returns streams over these files, each a terminal or not as it
// is (tests pass a pseudo-terminal or a pipe).
func Files(in, out, errOut *os.File) *IOStreams {
	return &IOStreams{
		In:        in,
		Out:       out,
		ErrOut:    errOut,
		stdinTTY:  isTerminal(in),
		stdoutTTY: isTerminal(out),
		stderrTTY: isTerminal(errOut),
	}
}

// Test returns streams backed by buffers, none of them a terminal.
func Test() (ios *IOStreams, in *bytes.Buffer, out *bytes.Buffer, errOut *bytes.Buffer) {
	in, out, errOut = &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: in, Out: out, ErrOut: errOut}, in, out, errOut
}

// IsStdinTTY reports whether stdin is an interactive terminal.
func (s *IOStreams) IsStdinTTY() bool { return s.stdinTTY }

// IsStdoutTTY reports whether stdout is an interactive terminal.
func (s *IOStreams) IsStdoutTTY() bool { return s.stdoutTTY }

// IsStderrTTY reports whether stderr is an interactive terminal.
func (s *IOStreams) IsStderrTTY() bool { return s.stderrTTY }

// SetTTY overrides the terminal facts (tests of interactive paths).
func (s *IOStreams) SetTTY(stdin, stdout, stderr bool) {
	s.stdinTTY, s.stdoutTTY, s.stderrTTY = stdin, stdout, stderr
}

// isTerminal reports whether f is a terminal (an ioctl, not the file
// mode: /dev/null is a character device too, and `2>/dev/null` is no
// place for a progress bar or a prompt).
func isTerminal(f *os.File) bool {
	return term.IsTerminal(int(f.Fd()))
}
