package sim

import (
	"fmt"
	"strconv"

	"github.com/verishake/verishake/protocol"
	"github.com/verishake/verishake/trace"
)

// MsgID names one send. A network duplicate keeps the id of the message it
// copies, so that a trace shows both receipts as answers to the one send.
type MsgID uint64

// Envelope is a message on the network, with who put it there.
type Envelope struct {
	ID   MsgID
	From Origin
	// Guess marks an adversary's message that carries a guessed token
	// (Step.Guess): its delivery is a forgery attempt that FORGE counts.
	Guess bool
	Msg   protocol.Message
}

// StepKind is what a step does.
type StepKind uint8

// The steps a world can take. The network steps (deliver, drop, duplicate,
// corrupt) act on one in-flight message; the timer steps fire a machine's
// timer; Start and Issue are the application asking for a handshake or a
// command; Inject, Flood and Insider are the adversary's moves.
const (
	StepDeliver     StepKind = iota + 1 // hand in-flight message Slot to its receiver
	StepDrop                            // lose in-flight message Slot
	StepDup                             // copy in-flight message Slot into a new slot
	StepCorrupt                         // flip frame byte Pos of message Slot by Mask
	StepClientTimer                     // fire client Client's timer
	StepServerTimer                     // fire the server's timer for RegID
	StepStart                           // client Client starts a handshake
	StepIssue                           // the server issues a command to RegID
	StepInject                          // the adversary puts Msg on the network
	StepFlood                           // the adversary sends Count Hellos from fresh forged RegIDs at once
	StepInsider                         // the insider's own handshake puts Msg on the network
	numStepKinds
)

// stepNames are the trace's names for the step kinds, in StepKind order
// (TestStepNamesAreTheTraces checks it).
var stepNames = [...]string{"", trace.StepDeliver, trace.StepDrop, trace.StepDup, trace.StepCorrupt, trace.StepClientTimer,
	trace.StepServerTimer, trace.StepStart, trace.StepIssue, trace.StepInject, trace.StepFlood, trace.StepInsider}

func (k StepKind) String() string {
	if int(k) < len(stepNames) && k > 0 {
		return stepNames[k]
	}
	return "StepKind(" + strconv.Itoa(int(k)) + ")"
}

// ParseStepKind parses a step kind name as String prints it.
func ParseStepKind(s string) (StepKind, error) {
	for k := StepDeliver; k < numStepKinds; k++ {
		if stepNames[k] == s {
			return k, nil
		}
	}
	return 0, fmt.Errorf("unknown step %q", s)
}

// StepKinds lists every step kind, in order.
func StepKinds() []StepKind {
	ks := make([]StepKind, 0, numStepKinds-1)
	for k := StepDeliver; k < numStepKinds; k++ {
		ks = append(ks, k)
	}
	return ks
}

// Step is one move of a world. Only the fields of its Kind are meaningful;
// a Step is a plain value, so a list of them is a counterexample that
// replays through Apply.
type Step struct {
	Kind StepKind
	// At is the virtual time the step happens at. Apply moves the world's
	// clock forward to it and refuses a step in the past. Enabled sets it
	// to Now, or for a timer to its deadline when that is later.
	At protocol.Time
	// Slot and ID name an in-flight message (deliver, drop, dup, corrupt):
	// Slot finds it, ID checks it is still the one meant.
	Slot int32
	ID   MsgID
	// Client is the client's index (RegID-1) for StepClientTimer and StepStart.
	Client int32
	// RegID is the server slot for StepServerTimer and StepIssue.
	RegID protocol.RegID
	// Pos and Mask corrupt the frame: byte Pos (modulo the frame length)
	// is XORed with Mask (0 counts as 0xFF, so that a corrupt step always
	// changes a byte).
	Pos  uint16
	Mask uint8
	// Msg is the adversary's message for StepInject and StepInsider.
	Msg protocol.Message
	// Count is how many Hellos a StepFlood sends.
	Count int32
	// Guess says Msg carries a token the adversary guessed (StepInject):
	// its delivery counts as a forgery attempt (FORGE). It is part of the
	// step, not read from the adversary, so that a trace replays without
	// the adversary that made it.
	Guess bool
}

func (s Step) String() string {
	switch s.Kind {
	case StepDeliver, StepDrop, StepDup:
		return fmt.Sprintf("%v slot %d (msg %d) at %v", s.Kind, s.Slot, s.ID, s.At)
	case StepCorrupt:
		return fmt.Sprintf("corrupt slot %d (msg %d) byte %d ^ %#x at %v", s.Slot, s.ID, s.Pos, s.Mask, s.At)
	case StepClientTimer, StepStart:
		return fmt.Sprintf("%v client %d at %v", s.Kind, s.Client, s.At)
	case StepServerTimer, StepIssue:
		return fmt.Sprintf("%v RegID %d at %v", s.Kind, s.RegID, s.At)
	case StepInject:
		if s.Guess {
			return fmt.Sprintf("inject %v (guessed token) at %v", s.Msg, s.At)
		}
		return fmt.Sprintf("inject %v at %v", s.Msg, s.At)
	case StepFlood:
		return fmt.Sprintf("flood %d Hellos from forged RegIDs at %v", s.Count, s.At)
	case StepInsider:
		return fmt.Sprintf("insider sends %v at %v", s.Msg, s.At)
	}
	return s.Kind.String()
}

// Outcome is how a client's handshake ended.
type Outcome uint8

// Handshake outcomes.
const (
	Pending  Outcome = iota // not ended (or not a client step)
	Verified                // the client accepted Confirm2
	Failed                  // the client gave up
)

// Result is what one applied step did. It is a value with fixed-size
// arrays, so reporting it allocates nothing.
type Result struct {
	Kind StepKind
	// Role is who acted: protocol.RoleClient, protocol.RoleServer, or zero
	// for a step only the network took (drop, dup, corrupt, inject, or a
	// push to a RegID no client holds).
	Role protocol.Role
	// RegID is the acting client's RegID or the server slot's.
	RegID protocol.RegID
	// HS is the acting client's handshake number (from 1 across the run).
	HS uint64
	// Recv is the in-flight message the step took (deliver, drop, dup,
	// corrupt: as it was before the step).
	Recv Envelope
	// Sent is the message the step put in flight (Sent.Msg.Kind zero: none)
	// and SentSlot its slot: a machine's answer, a duplicate, a corrupted
	// frame that still decoded, or an injection.
	Sent     Envelope
	SentSlot int32
	// Claims made, in order; see ClaimList.
	Claims  [2]protocol.Claim
	NClaims uint8
	// Err is why the machine (or, for corrupt, the decoder) rejected the
	// input; nil when it was accepted. A rejection is an outcome, not a
	// failure of Apply.
	Err error
	// Deadline is the acting machine's next timer (Never: none); for the
	// server, that of slot RegID.
	Deadline protocol.Time
	// Before and After are the acting client's control state around the step.
	Before, After protocol.ClientState
	// Ended is set when the acting client's handshake ended in this step;
	// Began is when that handshake started.
	Ended Outcome
	Began protocol.Time
	// Lost: a corrupted frame failed to decode, or a push reached no device.
	Lost bool
}

// ClaimList returns the claims made, in order.
func (r *Result) ClaimList() []protocol.Claim { return r.Claims[:r.NClaims] }
