package verishaketest_test

import (
	"errors"
	"fmt"

	"github.com/verishake/verishake/engine"
	"github.com/verishake/verishake/verishaketest"
)

// lock is two processes sharing a lock. With a naive lock each process
// looks at the flag and, if it is free, takes it in a second step, so
// both may see it free and enter the critical section together; with an
// atomic one (test-and-set) looking and taking are one step.
type lock struct{ atomic bool }

// where a process is: away from the critical section, having seen the
// flag free (naive lock only), or inside.
const (
	away = iota
	sawFree
	inside
)

type lockState struct {
	pc    [2]uint8
	taken bool
}

// step moves one process on, by number; an action the state does not
// enable is never offered.
type step uint8

func (s step) String() string { return fmt.Sprintf("process %d moves", s) }

func (lock) Init(s *lockState) { *s = lockState{} }

func (m lock) Actions(s *lockState, dst []step) []step {
	for p := range s.pc {
		if s.pc[p] != away || !s.taken {
			dst = append(dst, step(p))
		}
	}
	return dst
}

func (m lock) Apply(s *lockState, a *step, next *lockState) {
	*next = *s
	p := int(*a)
	switch s.pc[p] {
	case away:
		next.pc[p] = sawFree
		if m.atomic {
			next.pc[p], next.taken = inside, true
		}
	case sawFree:
		next.pc[p], next.taken = inside, true
	case inside:
		next.pc[p], next.taken = away, false
	}
}

func (lock) Encode(dst []byte, s *lockState) []byte {
	taken := byte(0)
	if s.taken {
		taken = 1
	}
	return append(dst, s.pc[0], s.pc[1], taken)
}

func (lock) Decode(src []byte, s *lockState) error {
	if len(src) != 3 {
		return fmt.Errorf("lock: %d bytes, want 3", len(src))
	}
	*s = lockState{pc: [2]uint8{src[0], src[1]}, taken: src[2] == 1}
	return nil
}

func (lock) Properties() []engine.Property[lockState, step] {
	return []engine.Property[lockState, step]{{
		Name: "MUTEX",
		State: func(s *lockState) error {
			if s.pc[0] == inside && s.pc[1] == inside {
				return errors.New("both processes are in the critical section")
			}
			return nil
		},
	}}
}

// Explore fails the test with each property violated and the steps of its
// shortest counterexample; a test passes its *testing.T where this
// example passes a TB that prints. The naive lock lets both processes in,
// in four steps; the atomic one keeps MUTEX.
func ExampleExplore() {
	verishaketest.Explore(printAll{}, lock{atomic: false})
	rep := verishaketest.Explore(printAll{}, lock{atomic: true})
	fmt.Println("atomic:", rep.Verdict("MUTEX"), "over", rep.States, "states")
	// Output:
	// verishaketest: MUTEX violated: both processes are in the critical section
	// counterexample, 4 steps:
	//   1. process 0 moves
	//   2. process 1 moves
	//   3. process 0 moves
	//   4. process 1 moves
	// atomic: holds over 3 states
}

// printAll is a verishaketest.TB that prints what a test would fail or
// log with.
type printAll struct{}

func (printAll) Helper()                           {}
func (printAll) Errorf(format string, args ...any) { fmt.Printf(format+"\n", args...) }
func (printAll) Logf(format string, args ...any)   { fmt.Printf(format+"\n", args...) }
