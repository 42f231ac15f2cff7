package cli

import (
	"fmt"

	"github.com/signetdev/signet/internal/atomicfile"
)

// WriteOut writes a command's document to path (whole or not at all,
// mode 0600 as cosign) or, with no path, to stdout with a newline.
func WriteOut(f *Factory, path string, data []byte) error {
	if path == "" {
		_, err := fmt.Fprintln(f.IOStreams.Out, string(data))
		return err
	}
	if err := atomicfile.WriteFile(path, data, 0o600); err != nil {
		return fmt.Errorf("writing --out %s: %w", path, err)
	}
	return nil
}
