package fsm_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/verishake/verishake/fsm"
)

type dupName int

func (dupName) String() string { return "Same" }

func TestValidateAcceptsHandshake(t *testing.T) {
	require.NoError(t, handshakeSpec().Validate())
	require.NoError(t, sessionSpec().Validate())
}

func TestValidateRejects(t *testing.T) {
	edit := func(f func(sp *fsm.Spec[hsState, hsEvent])) fsm.Spec[hsState, hsEvent] {
		sp := handshakeSpec()
		f(&sp)
		return sp
	}
	tests := []struct {
		name string
		spec fsm.Spec[hsState, hsEvent]
		kind fsm.SpecErrorKind
		msg  string // exact problem text after the `fsm: machine "client": ` prefix
	}{
		{"duplicate transition", edit(func(sp *fsm.Spec[hsState, hsEvent]) {
			sp.Transitions = append(sp.Transitions, hsRow{AwaitValidation, Timeout, AwaitConfirm2})
		}), fsm.DuplicateTransition, "duplicate transition from AwaitValidation on Timeout"},
		{"undeclared from", edit(func(sp *fsm.Spec[hsState, hsEvent]) {
			sp.Transitions = append(sp.Transitions, hsRow{hsState(9), Start, Idle})
		}), fsm.UndeclaredState, "transition hsState(9) --Start--> Idle: state hsState(9) is not declared"},
		{"undeclared to", edit(func(sp *fsm.Spec[hsState, hsEvent]) {
			sp.Transitions = append(sp.Transitions, hsRow{AwaitConfirm2, Command, hsState(7)})
		}), fsm.UndeclaredState, "transition AwaitConfirm2 --Command--> hsState(7): state hsState(7) is not declared"},
		{"undeclared event", edit(func(sp *fsm.Spec[hsState, hsEvent]) {
			sp.Transitions = append(sp.Transitions, hsRow{AwaitConfirm2, hsEvent(42), Failed})
		}), fsm.UndeclaredEvent, "transition AwaitConfirm2 --hsEvent(42)--> Failed: event hsEvent(42) is not declared"},
		{"duplicate state", edit(func(sp *fsm.Spec[hsState, hsEvent]) {
			sp.States = append(sp.States, AwaitConfirm2)
		}), fsm.DuplicateState, "duplicate state AwaitConfirm2"},
		{"duplicate event", edit(func(sp *fsm.Spec[hsState, hsEvent]) {
			sp.Events = append(sp.Events, Retry)
		}), fsm.DuplicateEvent, "duplicate event Retry"},
		{"undeclared initial", edit(func(sp *fsm.Spec[hsState, hsEvent]) {
			sp.States = sp.States[1:]
			sp.Transitions = sp.Transitions[1:]
		}), fsm.UndeclaredInitial, "initial state Idle is not declared"},
		{"undeclared terminal", edit(func(sp *fsm.Spec[hsState, hsEvent]) {
			sp.Terminal = append(sp.Terminal, hsState(5))
		}), fsm.UndeclaredTerminal, "terminal state hsState(5) is not declared"},
		{"duplicate terminal", edit(func(sp *fsm.Spec[hsState, hsEvent]) {
			sp.Terminal = append(sp.Terminal, Failed)
		}), fsm.DuplicateTerminal, "terminal state Failed listed twice"},
		{"unreachable", edit(func(sp *fsm.Spec[hsState, hsEvent]) {
			sp.Transitions = slicesDelete(sp.Transitions, hsRow{AwaitConfirm2, Confirm2, Verified})
		}), fsm.Unreachable, "state Verified is unreachable from initial state Idle"},
		{"no way out", edit(func(sp *fsm.Spec[hsState, hsEvent]) {
			sp.Terminal = []hsState{Failed}
		}), fsm.NoWayOut, "state Verified is not terminal but has no transition to another state"},
		{"only self-loops is no way out", edit(func(sp *fsm.Spec[hsState, hsEvent]) {
			sp.Terminal = []hsState{Verified}
			sp.Transitions = append(sp.Transitions, hsRow{Failed, Retry, Failed})
		}), fsm.NoWayOut, "state Failed is not terminal but has no transition to another state"},
		{"transition out of terminal", edit(func(sp *fsm.Spec[hsState, hsEvent]) {
			sp.Transitions = append(sp.Transitions, hsRow{Failed, Reset, Idle})
		}), fsm.TerminalExit, "transition out of terminal state Failed on Reset (to Idle)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.spec.Validate()
			require.Error(t, err)
			var se *fsm.SpecError
			require.True(t, errors.As(err, &se))
			assert.Equal(t, "client", se.Machine)
			found := false
			for _, e := range unjoin(err) {
				if errors.As(e, &se) && se.Kind == tt.kind {
					assert.Equal(t, `fsm: machine "client": `+tt.msg, se.Error())
					found = true
				}
			}
			assert.True(t, found, "no %v in %v", tt.kind, err)

			m, cerr := fsm.Compile(tt.spec)
			assert.Nil(t, m)
			assert.Equal(t, err.Error(), cerr.Error())
			assert.Panics(t, func() { fsm.MustCompile(tt.spec) })
		})
	}
}

func TestValidateRejectsDuplicateNames(t *testing.T) {
	sp := fsm.Spec[dupName, string]{
		Name:        "names",
		Initial:     1,
		States:      []dupName{1, 2},
		Events:      []string{"go"},
		Terminal:    []dupName{2},
		Transitions: []fsm.Transition[dupName, string]{{1, "go", 2}},
	}
	err := sp.Validate()
	var se *fsm.SpecError
	require.True(t, errors.As(err, &se))
	assert.Equal(t, fsm.DuplicateName, se.Kind)
	assert.Equal(t, `fsm: machine "names": states 1 and 2 both print as "Same"`, se.Error())

	// Events too, and fmt.Sprint rather than the Go value decides.
	ev := fsm.Spec[string, any]{
		Name:        "events",
		Initial:     "a",
		States:      []string{"a", "b"},
		Events:      []any{1, "1"},
		Terminal:    []string{"b"},
		Transitions: []fsm.Transition[string, any]{{"a", 1, "b"}},
	}
	err = ev.Validate()
	require.True(t, errors.As(err, &se))
	assert.Equal(t, fsm.DuplicateName, se.Kind)
	assert.Contains(t, se.Error(), `both print as "1"`)
}

func TestValidateReportsEveryProblem(t *testing.T) {
	sp := handshakeSpec()
	sp.Initial = hsState(8)
	sp.Events = append(sp.Events, Start)
	sp.Transitions = append(sp.Transitions, hsRow{Idle, Start, Failed}, hsRow{Verified, Reset, Idle})
	errs := unjoin(sp.Validate())
	var kinds []fsm.SpecErrorKind
	for _, e := range errs {
		var se *fsm.SpecError
		require.True(t, errors.As(e, &se))
		kinds = append(kinds, se.Kind)
	}
	// In the order Validate checks, and no unreachable-state noise without
	// a valid initial state.
	assert.Equal(t, []fsm.SpecErrorKind{fsm.DuplicateEvent, fsm.UndeclaredInitial, fsm.DuplicateTransition, fsm.TerminalExit}, kinds)
	assert.Equal(t, "duplicate transition", fsm.DuplicateTransition.String())
}

func TestValidateAllowsUnusedEventsAndTerminalSelfLoops(t *testing.T) {
	sp := handshakeSpec()
	sp.Events = append(sp.Events, hsEvent(99)) // unused
	sp.Transitions = append(sp.Transitions, hsRow{Failed, Retry, Failed})
	require.NoError(t, sp.Validate())
}

func TestSingleTerminalState(t *testing.T) {
	m, err := fsm.Compile(fsm.Spec[string, string]{Name: "x", Initial: "done", States: []string{"done"}, Terminal: []string{"done"}})
	require.NoError(t, err)
	in := m.Start()
	assert.True(t, m.IsTerminal(in.State()))
	assert.Empty(t, in.Permitted())
	assert.ErrorIs(t, in.Fire("anything"), fsm.ErrUnknownEvent)
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func slicesDelete[T comparable](s []T, v T) []T {
	var out []T
	for _, x := range s {
		if x != v {
			out = append(out, x)
		}
	}
	return out
}
