//go:build linux

package main

import "syscall"

// peakRSS is the process's peak resident set size in bytes (0: unknown).
func peakRSS() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Maxrss << 10 // Linux counts KiB
}
