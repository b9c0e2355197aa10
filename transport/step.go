package transport

import (
	"github.com/verishake/verishake/protocol"
)

// Input is what made a machine take a step.
type Input uint8

// The inputs of a step. Client machines take Start, Recv and Timeout;
// server slots take Recv, Issue, Expire and Evict.
const (
	InputStart   Input = iota + 1 // the app started a handshake
	InputRecv                     // a message arrived
	InputTimeout                  // the client's timer fired
	InputIssue                    // the service sent a command
	InputExpire                   // the slot's timer fired
	InputEvict                    // the slot's pending session was evicted at the half-open cap
)

var inputNames = [...]string{"Input(0)", "start", "recv", "timeout", "issue", "expire", "evict"}

// String returns the input's name as traces print it.
func (in Input) String() string {
	if int(in) < len(inputNames) {
		return inputNames[in]
	}
	return "Input(?)"
}

// Step is one step a machine took, as this package observes it: the input,
// the time the machine was told, what it sent and claimed, and why it
// rejected the input if it did. Steps of one machine are observed in the
// order the machine took them (they are reported under its lock).
type Step struct {
	// Role is the machine's side: RoleClient for a device, RoleServer for a
	// server slot.
	Role  protocol.Role
	RegID protocol.RegID
	// Time is the machine's clock, wall-clock Unix nanoseconds.
	Time  protocol.Time
	Input Input
	// Recv is the message received (InputRecv) and RecvID the sender's id
	// for it; zero when the message came without one.
	Recv   protocol.Message
	RecvID uint64
	// Payload is the command's payload (InputIssue).
	Payload string
	// Send is the message sent, Kind zero if none, and SendID its id.
	Send   protocol.Message
	SendID uint64
	Claims []protocol.Claim
	// State is the machine's control state after the step: a
	// protocol.ClientState for a client, a protocol.SessionState for a slot.
	State uint8
	// Err is the machine's reason for rejecting the input; nil if accepted.
	Err error
}

// Tracer observes steps. Implementations must be safe for concurrent use;
// Step is called with the machine's lock held, so it should be quick.
type Tracer interface {
	Step(Step)
}

// Retracter is a Tracer that can take a step back. A Server traces each
// step of a slot before it stores the slot (so that a kill between the two
// leaves the trace ahead of the store, never behind); when the store then
// refuses the slot, the step did not happen, and the Server retracts it.
// A Tracer that is not a Retracter has seen the step and sees no
// retraction: the Server's error says the step failed.
type Retracter interface {
	// Retract takes back st, the last step traced for its RegID's slot.
	Retract(st Step)
}

// TracerFunc adapts a function to Tracer.
type TracerFunc func(Step)

// Step calls f.
func (f TracerFunc) Step(s Step) { f(s) }
