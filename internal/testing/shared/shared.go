// Package shared locates the real-world test vectors kept beside the
// repository in ../shared/testdata (see its README). Tests that need them
// skip, with a message, when the directory is absent.
package shared

import (
	"os"
	"path/filepath"
	"testing"
)

// EnvDir overrides where the shared test data lives.
const EnvDir = "SIGNET_SHARED_TESTDATA"

// Dir returns the shared testdata directory, or skips the test.
func Dir(t testing.TB) string {
	t.Helper()
	d, err := find()
	if err != nil {
		t.Skipf("shared test data not found (%v): clone with ../shared beside the repository, or set %s", err, EnvDir)
	}
	return d
}

// Path joins elements under the shared testdata directory, or skips.
func Path(t testing.TB, elem ...string) string {
	t.Helper()
	return filepath.Join(append([]string{Dir(t)}, elem...)...)
}

// Find returns the shared testdata directory, or an error when absent
// (for code that seeds fuzzers and must not skip).
func Find() (string, error) { return find() }

func find() (string, error) {
	if d := os.Getenv(EnvDir); d != "" {
		if _, err := os.Stat(d); err != nil {
			return "", err
		}
		return d, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	// Walk up to the module root (the directory holding go.mod).
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			d := filepath.Join(dir, "..", "shared", "testdata")
			if _, err := os.Stat(d); err != nil {
				return "", err
			}
			return filepath.Clean(d), nil
		}
		if filepath.Dir(dir) == dir {
			return "", os.ErrNotExist
		}
	}
}
