package looplab

import (
	"context"
	"errors"
	"fmt"

	lfsm "github.com/looplab/fsm"

	"github.com/verishake/verishake/fsm"
)

// New builds a github.com/looplab/fsm FSM with m's table, starting at
// initial. Drive it with [Fire] to get package fsm's semantics; see the
// package documentation for how looplab's own Event differs. An initial
// state m does not declare gives an error wrapping [fsm.ErrUnknownState].
func New[S, E comparable](m *fsm.Machine[S, E], initial S) (*lfsm.FSM, error) {
	// Names are injective over the declared states, so a name lookup that
	// comes back with initial itself is a declaration check.
	if s, ok := m.StateByName(fmt.Sprint(initial)); !ok || s != initial {
		return nil, fmt.Errorf("looplab: machine %q: initial state %v: %w", m.Name(), initial, fsm.ErrUnknownState)
	}
	sp := m.Spec()
	// Built from the spec's rows, not the compiled table, so the
	// differential test checks fsm.Compile too. looplab groups sources by
	// (event, destination): one EventDesc per pair, in spec order.
	type key struct {
		ev E
		to S
	}
	var descs lfsm.Events
	at := map[key]int{}
	for _, ev := range sp.Events {
		for _, t := range sp.Transitions {
			if t.Event != ev {
				continue
			}
			k, ok := at[key{ev, t.To}]
			if !ok {
				k = len(descs)
				at[key{ev, t.To}] = k
				descs = append(descs, lfsm.EventDesc{Name: fmt.Sprint(ev), Dst: fmt.Sprint(t.To)})
			}
			descs[k].Src = append(descs[k].Src, fmt.Sprint(t.From))
		}
	}
	return lfsm.NewFSM(fmt.Sprint(initial), descs, nil), nil
}

// Fire fires ev on f, an FSM built by [New] from m, and reports the outcome
// as [fsm.Instance.Fire] would: accepted is true iff the event had a
// transition (self-loops included, which looplab reports as
// fsm.NoTransitionError), and a rejected event gives the same
// *[fsm.NoTransitionError] as Fire. An FSM whose current state is not a
// declared name (after SetState) gives an error wrapping
// [fsm.ErrUnknownState]; an event looplab rejects but m's table allows (an
// FSM not built from m) gives an error saying so; errors looplab raises for
// its own reasons are wrapped.
func Fire[S, E comparable](m *fsm.Machine[S, E], f *lfsm.FSM, ev E) (accepted bool, err error) {
	cur, ok := m.StateByName(f.Current())
	if !ok {
		return false, fmt.Errorf("looplab: machine %q: state %q: %w", m.Name(), f.Current(), fsm.ErrUnknownState)
	}
	// The table's verdict supplies the rejection error, so it is the very
	// value Instance.Fire returns. An undeclared event may print like a
	// declared one; reject it before looplab, which only sees names, could
	// accept it.
	_, tableErr := m.Next(cur, ev)
	if errors.Is(tableErr, fsm.ErrUnknownEvent) {
		return false, tableErr
	}
	err = f.Event(context.Background(), fmt.Sprint(ev))
	var (
		noTrans lfsm.NoTransitionError
		invalid lfsm.InvalidEventError
		unknown lfsm.UnknownEventError
	)
	switch {
	case err == nil, errors.As(err, &noTrans) && noTrans.Err == nil:
		return true, nil
	case errors.As(err, &invalid), errors.As(err, &unknown):
		if tableErr == nil {
			return false, fmt.Errorf("looplab: machine %q: %v in state %v is in the table but looplab refused it: %w", m.Name(), ev, cur, err)
		}
		return false, tableErr
	}
	return false, fmt.Errorf("looplab: machine %q: %w", m.Name(), err)
}
