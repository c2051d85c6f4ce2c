//go:build unix

package model

import (
	"syscall"
	"time"
)

// processCPU returns the CPU time (user + system) the process has used so
// far. Benchmarks report it per sentence: on a shared machine it varies
// much less than wall time, which includes waiting for a core.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
