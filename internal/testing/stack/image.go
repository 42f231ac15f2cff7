package stack

import (
	"archive/tar"
	"crypto/rand"
	"os"
	"time"
)

// writeRandomLayer writes a tarball holding one file of random bytes, so
// every pushed image has a new digest.
func writeRandomLayer(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	content := make([]byte, 1024)
	if _, err := rand.Read(content); err != nil {
		return err
	}
	tw := tar.NewWriter(f)
	if err := tw.WriteHeader(&tar.Header{Name: "random.bin", Mode: 0o644, Size: int64(len(content)), ModTime: time.Unix(0, 0)}); err != nil {
		return err
	}
	if _, err := tw.Write(content); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return f.Close()
}
