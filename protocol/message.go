package protocol

import (
	"fmt"
	"time"
)

// RegID names a device registered with the push platform. Push messages are
// addressed to it; upstream messages claim to come from it. RegIDs are not
// secret. Services whose platform hands out string RegIDs map them to these
// numbers at their edge.
type RegID uint64

// Time is a point on the driver's clock, in nanoseconds. The machines never
// read a clock; whoever drives them (a simulator, a service) says what time
// it is.
type Time int64

// Never is the deadline of a machine that waits for no timer.
const Never Time = 1<<63 - 1

// Add returns t+d, or Never when d is zero (the knob is off) or the sum
// would overflow.
func (t Time) Add(d time.Duration) Time {
	if d <= 0 || t > Never-Time(d) {
		return Never
	}
	return t + Time(d)
}

// Kind is the type of a handshake message.
type Kind uint8

// The messages of the handshake, in the order of the patent's steps.
const (
	Hello      Kind = iota + 1 // step 1, client → server: RegID, Tc
	Validation                 // step 2, server → client: Tc, Ts
	Confirm1                   // step 3, client → server: RegID, Ts
	Confirm2                   // step 4, server → client: Ts
	Command                    // after the handshake, server → client: Ts, Seq, Payload
)

var kindNames = [...]string{"Kind(0)", "Hello", "Validation", "Confirm1", "Confirm2", "Command"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Valid reports whether k is one of the five message kinds.
func (k Kind) Valid() bool { return k >= Hello && k <= Command }

// Upstream reports whether messages of kind k travel client → server
// (directly, HTTPS in a deployment) rather than through the push platform.
func (k Kind) Upstream() bool { return k == Hello || k == Confirm1 }

// Message is one handshake message. It is comparable, so a channel can hold
// messages as a multiset and the explorer can fingerprint them.
type Message struct {
	Kind Kind
	// RegID is the claimed sender of an upstream message and the
	// destination device of a push message.
	RegID RegID
	Tc    Token  // Hello, Validation
	Ts    Token  // Validation, Confirm1, Confirm2, Command
	Seq   uint32 // Command; 0 when the profile carries no sequence numbers
	// Payload is a command's content; opaque to the handshake.
	Payload string
}

func (m Message) String() string {
	switch m.Kind {
	case Hello:
		return fmt.Sprintf("Hello{RegID:%d Tc:%v}", m.RegID, m.Tc)
	case Validation:
		return fmt.Sprintf("Validation{RegID:%d Tc:%v Ts:%v}", m.RegID, m.Tc, m.Ts)
	case Confirm1, Confirm2:
		return fmt.Sprintf("%v{RegID:%d Ts:%v}", m.Kind, m.RegID, m.Ts)
	case Command:
		return fmt.Sprintf("Command{RegID:%d Ts:%v Seq:%d Payload:%q}", m.RegID, m.Ts, m.Seq, m.Payload)
	}
	return fmt.Sprintf("%v{}", m.Kind)
}
