package flags

import (
	"fmt"
	"io"

	"github.com/spf13/pflag"

	"github.com/signetdev/signet/internal/atomicfile"
)

// Deprecated hides a flag and makes using it print cosign's deprecation
// notice, as cosign does for the same flags.
func Deprecated(fs *pflag.FlagSet, name, msg string) { deprecated(fs, name, msg) }

// Outputs are the files a signing run writes, each with the line that
// reports it. They are written together at the end: a run that fails
// leaves none of them.
type Outputs struct {
	files []atomicfile.Output
	notes []string
}

// Add queues a file.
func (o *Outputs) Add(path string, data []byte, note string) {
	o.files = append(o.files, atomicfile.Output{Path: path, Data: data})
	o.notes = append(o.notes, note)
}

// outputMode is cosign's mode for bundles, signatures and certificates.
const outputMode = 0o600

// Write writes every file, then reports each on w.
func (o *Outputs) Write(w io.Writer) error {
	if err := atomicfile.WriteAll(o.files, outputMode); err != nil {
		return fmt.Errorf("writing the output: %w", err)
	}
	for _, n := range o.notes {
		fmt.Fprintln(w, n)
	}
	return nil
}
