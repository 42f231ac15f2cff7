package trust

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// lockName is the advisory lock file in the cache directory. Refreshes take
// it exclusively, readers shared, so that no signet process reads a cache
// another is half-way through updating (cosign #2576). Every file a refresh
// writes is also replaced atomically (temporary file + rename), so a
// process that ignores the lock (cosign) never sees a torn file either.
const lockName = ".signet.lock"

// lockPoll is how often a waiting process tries the lock again; polling
// rather than blocking lets ctx cancel the wait.
const lockPoll = 15 * time.Millisecond

// lockCache takes the cache lock of dir, waiting for it until ctx is done.
// A reader of a directory it cannot create a lock file in (a read-only
// cache baked into an image) proceeds without one: nobody can be writing.
func lockCache(ctx context.Context, dir string, exclusive bool) (unlock func(), err error) {
	p := filepath.Join(dir, lockName)
	if exclusive {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, err
		}
	}
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil && !exclusive {
		if f, err = os.Open(p); err != nil {
			if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
				return func() {}, nil
			}
			return nil, err
		}
	}
	if err != nil {
		return nil, err
	}
	for {
		ok, err := tryLock(f, exclusive)
		if err != nil {
			f.Close()
			return nil, err
		}
		if ok {
			return func() {
				_ = unlockFile(f) // closing the file releases it too
				f.Close()
			}, nil
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(lockPoll):
		}
	}
}
