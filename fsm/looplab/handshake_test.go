package looplab_test

import "github.com/verishake/verishake/fsm"

// A client-handshake-shaped table shared by tests and benchmarks: the table
// of package fsm's tests (test files cannot be imported), so the benchmarks
// here run on the table of fsm's BenchmarkFire.

type hsState uint8

const (
	Idle hsState = iota
	AwaitValidation
	AwaitConfirm2
	Verified
	Failed
)

var hsStateNames = [...]string{"Idle", "AwaitValidation", "AwaitConfirm2", "Verified", "Failed"}

func (s hsState) String() string {
	if int(s) < len(hsStateNames) {
		return hsStateNames[s]
	}
	return "hsState(" + itoa(int(s)) + ")"
}

type hsEvent uint8

const (
	Start hsEvent = iota
	Validation
	Retry
	Confirm2
	GiveUp
	Command
	Timeout
	Reset
)

var hsEventNames = [...]string{"Start", "Validation", "Retry", "Confirm2", "GiveUp", "Command", "Timeout", "Reset"}

func (e hsEvent) String() string {
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

type hsRow = fsm.Transition[hsState, hsEvent]

// row keeps the table one row a line; vet wants keyed fields for a struct
// from another package.
func row(from hsState, ev hsEvent, to hsState) hsRow {
	return hsRow{From: from, Event: ev, To: to}
}

// handshakeSpec is a single handshake: it ends in Verified or Failed.
// Verified absorbs further Commands with a self-loop.
func handshakeSpec() fsm.Spec[hsState, hsEvent] {
	return fsm.Spec[hsState, hsEvent]{
		Name:     "client",
		Initial:  Idle,
		States:   []hsState{Idle, AwaitValidation, AwaitConfirm2, Verified, Failed},
		Events:   []hsEvent{Start, Validation, Retry, Confirm2, GiveUp, Command, Timeout, Reset},
		Terminal: []hsState{Verified, Failed},
		Transitions: []hsRow{
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

// sessionSpec is the handshake as a long-lived session: Reset returns from
// Verified and Failed to Idle, so an event sequence can cycle forever (the
// benchmark table).
func sessionSpec() fsm.Spec[hsState, hsEvent] {
	sp := handshakeSpec()
	sp.Name = "session"
	sp.Terminal = nil
	sp.Transitions = append(sp.Transitions, row(Verified, Reset, Idle), row(Failed, Reset, Idle))
	return sp
}

// sessionCycle is always valid from Idle and returns to Idle; its length is
// a power of two so the benchmark loop can index it with a mask.
var sessionCycle = [16]hsEvent{
	Start, Retry, Validation, Retry, Confirm2, Command, Command, Reset,
	Start, GiveUp, Reset,
	Start, Retry, Validation, Timeout, Reset,
}
