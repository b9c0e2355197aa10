// Package isolated runs a test binary in a network namespace of its own,
// where the only interface is loopback: Prism's job server (v2.77.0)
// listens on a port of every interface, with no choice of address, and
// the tests must listen on 127.0.0.1 alone. In the namespace, every
// interface is loopback.
package isolated

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// inside marks the re-executed test binary.
const inside = "VERISHAKE_BEAM_NETNS"

// why is the reason the tests could not be isolated, if they could not.
var why error

// Main runs the tests: in a child of this binary in a namespace of its own
// where the system allows one (this process then exits with the child's
// status), else here, where Require skips them, saying why. Inside, setup
// runs before the tests.
func Main(m *testing.M, setup func()) {
	if os.Getenv(inside) == "1" {
		if err := loopbackUp(); err != nil {
			fmt.Fprintf(os.Stderr, "isolated: bringing up loopback in the namespace: %v\n", err)
			os.Exit(1)
		}
		setup()
		os.Exit(m.Run())
	}
	cmd := exec.Command(os.Args[0], os.Args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), inside+"=1")
	if err := namespaced(cmd); err != nil {
		why = err
	} else {
		err := cmd.Run()
		var exit *exec.ExitError
		switch {
		case err == nil:
			os.Exit(0)
		case errors.As(err, &exit) && exit.ExitCode() >= 0:
			os.Exit(exit.ExitCode())
		}
		why = fmt.Errorf("starting the tests in a network namespace: %w", err)
	}
	setup()
	os.Exit(m.Run())
}

// Require skips t unless the tests run in a namespace of their own.
func Require(t testing.TB) {
	t.Helper()
	if os.Getenv(inside) != "1" {
		t.Skipf("Prism's job server listens on every interface, and no network namespace isolates it here: %v", why)
	}
}
