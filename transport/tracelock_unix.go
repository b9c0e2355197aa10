//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package transport

import (
	"errors"
	"os"
	"syscall"
)

// lockTraceFile takes an exclusive advisory lock on f, held until f is
// closed, so that two processes never append their runs to one trace in
// turns that no validator could tell apart.
func lockTraceFile(f *os.File) error {
	err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return errors.New("in use by another process (it holds the file's lock)")
	}
	return err
}
