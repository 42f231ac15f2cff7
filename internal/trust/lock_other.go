//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd || windows)

package trust

import "os"

// On systems without flock or LockFileEx the lock is a no-op; the atomic
// writes still keep readers from torn files.
func tryLock(*os.File, bool) (bool, error) { return true, nil }

func unlockFile(*os.File) error { return nil }
