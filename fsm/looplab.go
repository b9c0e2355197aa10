package fsm

import (
	"context"
	"errors"
	"fmt"

	lfsm "github.com/looplab/fsm"
)

// Looplab builds a github.com/looplab/fsm FSM with the same table, starting
// at initial. States and events are named by fmt.Sprint. Drive it with
// [Machine.LooplabFire] to get this package's semantics; see the package
// documentation for how looplab's own Event differs.
func (m *Machine[S, E]) Looplab(initial S) (*lfsm.FSM, error) {
	if m.sIdx.find(initial) < 0 {
		return nil, fmt.Errorf("fsm %q: looplab initial state %s: %w", m.spec.Name, name(initial), ErrUnknownState)
	}
	// Built from the spec's rows, not the compiled table, so the
	// differential test checks Compile too. looplab groups sources by
	// (event, destination): one EventDesc per pair, in spec order.
	type key struct {
		ev E
		to S
	}
	var descs lfsm.Events
	at := map[key]int{}
	for _, ev := range m.spec.Events {
		for _, t := range m.spec.Transitions {
			if t.Event != ev {
				continue
			}
			k, ok := at[key{ev, t.To}]
			if !ok {
				k = len(descs)
				at[key{ev, t.To}] = k
				descs = append(descs, lfsm.EventDesc{Name: name(ev), Dst: name(t.To)})
			}
			descs[k].Src = append(descs[k].Src, name(t.From))
		}
	}
	return lfsm.NewFSM(name(initial), descs, nil), nil
}

// LooplabFire fires ev on f, an FSM built by [Machine.Looplab], and reports
// the outcome as [Instance.Fire] would: accepted is true iff the event had a
// transition (self-loops included, which looplab reports as
// fsm.NoTransitionError), and a rejected event gives the same
// *NoTransitionError as Fire. An FSM whose current state is not a declared
// name (after SetState) gives an error wrapping ErrUnknownState; errors
// looplab raises for its own reasons are wrapped.
func (m *Machine[S, E]) LooplabFire(f *lfsm.FSM, ev E) (accepted bool, err error) {
	cur, ok := m.StateByName(f.Current())
	if !ok {
		return false, fmt.Errorf("fsm %q: looplab state %q: %w", m.spec.Name, f.Current(), ErrUnknownState)
	}
	// An undeclared event may print like a declared one; reject it before
	// looplab, which only sees names, could accept it.
	if m.eIdx.find(ev) < 0 {
		return false, m.reject(cur, ev)
	}
	err = f.Event(context.Background(), name(ev))
	var (
		noTrans lfsm.NoTransitionError
		invalid lfsm.InvalidEventError
		unknown lfsm.UnknownEventError
	)
	switch {
	case err == nil, errors.As(err, &noTrans) && noTrans.Err == nil:
		return true, nil
	case errors.As(err, &invalid), errors.As(err, &unknown):
		return false, m.reject(cur, ev)
	}
	return false, fmt.Errorf("fsm %q: looplab: %w", m.spec.Name, err)
}
