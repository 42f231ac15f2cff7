// Package atomicfile writes files so that a reader (or a failed run) never
// sees a partial one: data goes to a temporary file in the same directory,
// which is renamed over the target only on Commit.
package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
)

// File is a pending write to Path.
type File struct {
	*os.File
	path string
	done bool
}

// Create starts a write to path with mode 0644.
func Create(path string) (*File, error) { return CreateMode(path, 0o644) }

// CreateMode starts a write to path with the given mode, set before any
// data is written (a private key is never readable by others, even
// briefly). The temporary file is created beside the target so the final
// rename stays on one file system.
func CreateMode(path string, mode os.FileMode) (*File, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return nil, err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, err
	}
	return &File{File: tmp, path: path}, nil
}

// Commit flushes the data and moves it into place.
func (f *File) Commit() error {
	if f.done {
		return errors.New("atomicfile: already committed or aborted")
	}
	f.done = true
	if err := f.File.Sync(); err != nil {
		f.cleanup()
		return err
	}
	if err := f.File.Close(); err != nil {
		os.Remove(f.File.Name())
		return err
	}
	if err := os.Rename(f.File.Name(), f.path); err != nil {
		os.Remove(f.File.Name())
		return err
	}
	return nil
}

// Abort discards the pending write. It is safe to call after Commit.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.cleanup()
}

func (f *File) cleanup() {
	f.File.Close()
	os.Remove(f.File.Name())
}

// WriteFile writes data to path atomically with the given mode.
func WriteFile(path string, data []byte, mode os.FileMode) error {
	f, err := CreateMode(path, mode)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Abort()
		return err
	}
	return f.Commit()
}

// Output is one file a command writes.
type Output struct {
	Path string
	Data []byte
}

// WriteAll writes every output to a temporary file first and moves them
// into place only once all are written, so a failure leaves none of them
// behind (short of a failed rename, which leaves the earlier ones).
func WriteAll(outs []Output, mode os.FileMode) error {
	pending := make([]*File, 0, len(outs))
	abort := func() {
		for _, p := range pending {
			p.Abort()
		}
	}
	for _, o := range outs {
		f, err := CreateMode(o.Path, mode)
		if err != nil {
			abort()
			return err
		}
		pending = append(pending, f)
		if _, err := f.Write(o.Data); err != nil {
			abort()
			return err
		}
	}
	for i, f := range pending {
		if err := f.Commit(); err != nil {
			for _, rest := range pending[i+1:] {
				rest.Abort()
			}
			return err
		}
	}
	return nil
}

// WriteDir fills a directory that does not exist yet so that a failed run
// leaves none behind: fill writes into a temporary directory beside path,
// which is renamed to path once fill succeeds. An existing directory is
// filled in place (it may hold other files, which must not be lost).
func WriteDir(path string, fill func(dir string) error) error {
	if _, err := os.Stat(path); err == nil {
		return fill(path)
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(path), "."+filepath.Base(path)+".partial-*")
	if err != nil {
		return err
	}
	if err := fill(tmp); err != nil {
		os.RemoveAll(tmp)
		return err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		os.RemoveAll(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.RemoveAll(tmp)
		return err
	}
	return nil
}
