// Package fileutil reads files without trusting their size.
package fileutil

import (
	"fmt"
	"io"
	"os"
)

// ReadLimit reads the whole file at path, refusing one larger than limit
// bytes: inputs are untrusted, and a "certificate" of 10 GiB must fail
// fast instead of exhausting memory.
func ReadLimit(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadAllLimit(f, limit)
}

// ReadAllLimit reads r to the end, refusing more than limit bytes.
func ReadAllLimit(r io.Reader, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("larger than the %d bytes allowed", limit)
	}
	return data, nil
}
