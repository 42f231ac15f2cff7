package fileutil

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// A file of exactly the limit is read; one byte more is refused, from its
// size, before it is read.
func TestReadLimitAtAndPastTheLimit(t *testing.T) {
	dir := t.TempDir()
	const limit = 4096
	for _, n := range []int{0, limit, limit + 1} {
		p := filepath.Join(dir, "f")
		if err := os.WriteFile(p, []byte(strings.Repeat("x", n)), 0o600); err != nil {
			t.Fatal(err)
		}
		data, err := ReadLimit(p, limit)
		if n <= limit && (err != nil || len(data) != n) {
			t.Errorf("%d bytes: %d read, %v", n, len(data), err)
		}
		if n > limit && (err == nil || !strings.Contains(err.Error(), "4097 bytes, larger than the 4096 bytes allowed")) {
			t.Errorf("%d bytes: %v", n, err)
		}
	}
}

// A 300 MB file (sparse: no disk used) past a 128 MiB limit costs no
// memory: the size is checked before reading. Measured by the bytes
// allocated during the call.
func TestReadLimitHugeFileCostsNoMemory(t *testing.T) {
	p := filepath.Join(t.TempDir(), "huge.json")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(300 << 20); err != nil {
		t.Fatal(err)
	}
	f.Close()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err = ReadLimit(p, 128<<20)
	runtime.ReadMemStats(&after)
	if err == nil {
		t.Fatal("300 MB file accepted")
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
		t.Errorf("refusing a 300 MB file allocated %d bytes", alloc)
	}
}

// A pipe has no size: it is read up to the limit and one byte more.
func TestReadLimitPipe(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		w.Write([]byte(strings.Repeat("y", 5000)))
		w.Close()
	}()
	if _, err := ReadAllLimit(r, 4096); err == nil {
		t.Fatal("5000 bytes from a pipe accepted under a 4096-byte limit")
	}
}
