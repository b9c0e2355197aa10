//go:build linux

package main

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// peakRSS is the process's peak resident set size in bytes (0: unknown):
// VmHWM of /proc/self/status, the high-water mark of this program's own
// memory. getrusage's ru_maxrss is the fallback only: Linux carries into
// it, across the exec that started the program, the resident peak of
// the parent that spawned it (Go's os/exec shares the parent's memory
// until the exec), so that a child of a big process reports the
// parent's peak.
func peakRSS() int64 {
	if f, err := os.Open("/proc/self/status"); err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
				kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
				if err == nil {
					return kb << 10
				}
			}
		}
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Maxrss << 10 // Linux counts KiB
}
