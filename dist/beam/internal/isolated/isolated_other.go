//go:build !linux

package isolated

import (
	"errors"
	"os/exec"
)

var errUnsupported = errors.New("network namespaces are Linux's")

func namespaced(*exec.Cmd) error { return errUnsupported }

func loopbackUp() error { return errUnsupported }
