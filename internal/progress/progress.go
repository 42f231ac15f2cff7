// Package progress draws a progress bar on stderr for long work (hashing
// a large blob, signing many files or images) — only when stderr is a
// terminal and the output is not JSON, so CI logs and scripts never see
// one. Every method is safe on a nil *Bar, which is what callers get when
// no bar is to be drawn; they need no conditions of their own.
//
// The bar is github.com/schollz/progressbar/v3: one aggregate bar is all
// signet needs (concurrent workers advance one count), it is thread-safe,
// and it adds two small modules and nothing measurable to start-up.
package progress

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/signetdev/signet/internal/iostreams"
)

// Work shorter than this gets no bar: it would only flash.
const (
	MinBytes = 64 << 20 // bytes hashed
	MinItems = 10       // files or images signed
)

// Enabled reports whether a bar may be drawn at all.
func Enabled(ios *iostreams.IOStreams, jsonOutput bool) bool {
	return ios != nil && ios.IsStderrTTY() && !jsonOutput
}

// Bar is one progress bar on stderr.
type Bar struct {
	pb *progressbar.ProgressBar
	w  io.Writer
}

// Bytes returns a bar for total bytes, or nil when no bar is to be drawn
// (not a terminal, JSON output, or less than MinBytes).
func Bytes(ios *iostreams.IOStreams, jsonOutput bool, total int64, what string) *Bar {
	if !Enabled(ios, jsonOutput) || total < MinBytes {
		return nil
	}
	return newBar(ios.ErrOut, total, what, progressbar.OptionShowBytes(true))
}

// Count returns a bar for total items, or nil when no bar is to be drawn
// (not a terminal, JSON output, or fewer than MinItems).
func Count(ios *iostreams.IOStreams, jsonOutput bool, total int, what string) *Bar {
	if !Enabled(ios, jsonOutput) || total < MinItems {
		return nil
	}
	return newBar(ios.ErrOut, int64(total), what, progressbar.OptionShowCount())
}

func newBar(w io.Writer, total int64, what string, opts ...progressbar.Option) *Bar {
	opts = append(opts,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(what),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionUseANSICodes(true),
	)
	return &Bar{pb: progressbar.NewOptions64(total, opts...), w: w}
}

// Add counts n more bytes or items done.
func (b *Bar) Add(n int) {
	if b != nil {
		b.pb.Add(n)
	}
}

// Println prints a line above the bar: the bar is cleared, the line
// printed, and the bar drawn again on its next step.
func (b *Bar) Println(w io.Writer, line string) {
	if b != nil {
		b.pb.Clear()
	}
	fmt.Fprintln(w, line)
}

// Finish clears the bar from the terminal.
func (b *Bar) Finish() {
	if b != nil {
		b.pb.Finish()
	}
}

// Reader counts what is read through r on the bar.
func (b *Bar) Reader(r io.Reader) io.Reader {
	if b == nil {
		return r
	}
	return &reader{r: r, b: b}
}

type reader struct {
	r io.Reader
	b *Bar
}

func (r *reader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.b.Add(n)
	return n, err
}

// File returns a bar for hashing the regular file at path, or nil (see
// Bytes; standard input and non-regular files get none: their size is
// unknown).
func File(ios *iostreams.IOStreams, jsonOutput bool, path string) *Bar {
	if !Enabled(ios, jsonOutput) || path == "-" {
		return nil
	}
	fi, err := os.Stat(path)
	if err != nil || !fi.Mode().IsRegular() {
		return nil
	}
	return Bytes(ios, jsonOutput, fi.Size(), "hashing "+filepath.Base(path))
}

// Open wraps an opener so that what is read from the files it opens is
// counted on the bar, and the bar cleared when the file is closed.
func (b *Bar) Open(open func() (io.ReadCloser, error)) func() (io.ReadCloser, error) {
	if b == nil || open == nil {
		return open
	}
	return func() (io.ReadCloser, error) {
		rc, err := open()
		if err != nil {
			return nil, err
		}
		return struct {
			io.Reader
			io.Closer
		}{b.Reader(rc), finishing{rc, b}}, nil
	}
}

type finishing struct {
	c io.Closer
	b *Bar
}

func (f finishing) Close() error {
	f.b.Finish()
	return f.c.Close()
}
