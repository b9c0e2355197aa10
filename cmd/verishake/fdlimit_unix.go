//go:build unix

package main

import "syscall"

// openFileLimit returns the process's soft limit on open descriptors
// (ulimit -n), or 0 when it cannot be read.
func openFileLimit() uint64 {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0
	}
	return rl.Cur
}
