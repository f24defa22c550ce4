//go:build unix

package bench

import (
	"syscall"
	"time"
)

// cpuNow is the CPU time the process has used so far, user and system.
// Around a sequential call to an in-process emulator it counts the client's
// and the server's work for that call, and not the time the process spent
// waiting for a core: on a loaded machine it holds where wall time does not.
func cpuNow() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
