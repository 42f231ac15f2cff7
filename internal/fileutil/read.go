// Package fileutil reads files without trusting their size.
package fileutil

import (
	"fmt"
	"io"
	"os"
)

// ReadLimit reads the whole file at path, refusing one larger than limit
// bytes: inputs are untrusted, and a "certificate" of 10 GiB must fail
// fast instead of exhausting memory. A regular file's size is checked
// before anything is read, so a file over the limit costs no memory; a
// pipe or device is read up to limit+1 bytes.
func ReadLimit(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		if fi.Size() > limit {
			return nil, tooLarge(fi.Size(), limit)
		}
		// Sized to the file: no doubling of the buffer as it grows.
		buf := make([]byte, 0, fi.Size()+1)
		data, err := readInto(buf, io.LimitReader(f, limit+1))
		if err != nil {
			return nil, err
		}
		if int64(len(data)) > limit { // the file grew while read
			return nil, fmt.Errorf("larger than the %d bytes allowed", limit)
		}
		return data, nil
	}
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

func tooLarge(size, limit int64) error {
	return fmt.Errorf("%d bytes, larger than the %d bytes allowed", size, limit)
}

// readInto appends r's content to buf until EOF.
func readInto(buf []byte, r io.Reader) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}
