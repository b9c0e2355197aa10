package protocol

import (
	"fmt"

	"github.com/verishake/verishake/fsm"
)

// NoTransitionError reports an event the machine's transition table has no
// row for in the machine's current state. The machines decide an input's
// event in code (which checks passed) and then look the event up in the
// table; a refusal names the row that is missing, so a table that has
// drifted from the code is loud rather than a bare ErrUnexpected. The same
// error reports an input the table itself refuses, such as Start while a
// handshake is in progress.
//
// It matches ErrUnexpected under errors.Is, which is what callers that
// predate it test for. It is returned as a value, shared between the steps
// that refuse the same row, so match it with
//
//	var nt protocol.NoTransitionError
//	errors.As(err, &nt)
type NoTransitionError struct {
	Machine string       // the table's name: "client" or "server"
	State   fmt.Stringer // a ClientState or a SessionState
	Event   fmt.Stringer // a ClientEvent or a ServerEvent
}

// Error names the table, the state and the event.
func (e NoTransitionError) Error() string {
	return fmt.Sprintf("%v: the %s table has no transition from %v on %v", ErrUnexpected, e.Machine, e.State, e.Event)
}

// Unwrap returns ErrUnexpected.
func (e NoTransitionError) Unwrap() error { return ErrUnexpected }

// enum is what the machines' state and event types are: small integers
// with names.
type enum interface {
	~uint8
	fmt.Stringer
}

// refusals holds the NoTransitionError of every (state, event) pair that a
// table has no row for, built with the table: the explorer tries refused
// events on its hot path, and boxing a fresh error each time would
// allocate.
type refusals[S, E enum] struct {
	machine string
	nS, nE  int
	errs    []error // [state*nE+event]; nil where the table has a row
}

// newRefusals covers the states and events below nS and nE, the declared
// ones; any other value gets its error when refused.
func newRefusals[S, E enum](m *fsm.Machine[S, E], nS, nE int) refusals[S, E] {
	r := refusals[S, E]{machine: m.Name(), nS: nS, nE: nE, errs: make([]error, nS*nE)}
	for s := range nS {
		for e := range nE {
			if !m.Can(S(s), E(e)) {
				r.errs[s*nE+e] = NoTransitionError{Machine: r.machine, State: S(s), Event: E(e)}
			}
		}
	}
	return r
}

// of returns the error for refusing ev in state s.
func (r *refusals[S, E]) of(s S, ev E) error {
	if int(s) < r.nS && int(ev) < r.nE {
		if err := r.errs[int(s)*r.nE+int(ev)]; err != nil {
			return err
		}
	}
	return NoTransitionError{Machine: r.machine, State: s, Event: ev}
}
