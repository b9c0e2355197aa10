// Package fsmtest is the handshake-shaped table the tests and benchmarks
// of fsm and fsm/looplab share (a test file cannot be imported): the same
// table under both engines.
package fsmtest

import "github.com/verishake/verishake/fsm"

// State is a client handshake state.
type State uint8

// The states.
const (
	Idle State = iota
	AwaitValidation
	AwaitConfirm2
	Verified
	Failed
)

var hsStateNames = [...]string{"Idle", "AwaitValidation", "AwaitConfirm2", "Verified", "Failed"}

// String names the state (hsState(n) for one not declared).
func (s State) String() string {
	if int(s) < len(hsStateNames) {
		return hsStateNames[s]
	}
	return "hsState(" + itoa(int(s)) + ")"
}

// Event is a client handshake event.
type Event uint8

// The events.
const (
	Start Event = iota
	Validation
	Retry
	Confirm2
	GiveUp
	Command
	Timeout
	Reset
)

var hsEventNames = [...]string{"Start", "Validation", "Retry", "Confirm2", "GiveUp", "Command", "Timeout", "Reset"}

// String names the event (hsEvent(n) for one not declared).
func (e Event) String() string {
	if int(e) < len(hsEventNames) {
		return hsEventNames[e]
	}
	return "hsEvent(" + itoa(int(e)) + ")"
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + itoa(i%10)
}

// Row is one row of the table.
type Row = fsm.Transition[State, Event]

// row keeps the table one row a line; vet wants keyed fields for a struct
// from another package.
func row(from State, ev Event, to State) Row {
	return Row{From: from, Event: ev, To: to}
}

// HandshakeSpec is a single handshake: it ends in Verified or Failed.
// Verified absorbs further Commands with a self-loop.
func HandshakeSpec() fsm.Spec[State, Event] {
	return fsm.Spec[State, Event]{
		Name:     "client",
		Initial:  Idle,
		States:   []State{Idle, AwaitValidation, AwaitConfirm2, Verified, Failed},
		Events:   []Event{Start, Validation, Retry, Confirm2, GiveUp, Command, Timeout, Reset},
		Terminal: []State{Verified, Failed},
		Transitions: []Row{
			row(Idle, Start, AwaitValidation),
			row(AwaitValidation, Validation, AwaitConfirm2),
			row(AwaitValidation, Retry, AwaitValidation),
			row(AwaitValidation, Timeout, Failed),
			row(AwaitValidation, GiveUp, Failed),
			row(AwaitConfirm2, Confirm2, Verified),
			row(AwaitConfirm2, Retry, AwaitConfirm2),
			row(AwaitConfirm2, Timeout, Failed),
			row(AwaitConfirm2, GiveUp, Failed),
			row(Verified, Command, Verified),
		},
	}
}

// SessionSpec is the handshake as a long-lived session: Reset returns from
// Verified and Failed to Idle, so an event sequence can cycle forever (the
// benchmark table).
func SessionSpec() fsm.Spec[State, Event] {
	sp := HandshakeSpec()
	sp.Name = "session"
	sp.Terminal = nil
	sp.Transitions = append(sp.Transitions, row(Verified, Reset, Idle), row(Failed, Reset, Idle))
	return sp
}

// SessionCycle is always valid from Idle and returns to Idle; its length is
// a power of two so the benchmark loop can index it with a mask.
var SessionCycle = [16]Event{
	Start, Retry, Validation, Retry, Confirm2, Command, Command, Reset,
	Start, GiveUp, Reset,
	Start, Retry, Validation, Timeout, Reset,
}
