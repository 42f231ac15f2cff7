//go:build unix

package admission

import (
	"syscall"
	"time"
)

// cpuTime is the process's user + system CPU time: on a loaded machine
// it measures the work of an admission where wall time measures the queue.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
