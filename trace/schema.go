package trace

import (
	"fmt"
	"time"

	"github.com/verishake/verishake/protocol"
)

// Schema is the version of the JSON Lines trace format written by
// `verishake sim --trace`, by the explorer's counterexamples and by
// package transport, and read by `verishake replay` and `verishake
// validate`. A reader rejects a trace whose header names another version
// rather than misread it. Bump it on any change that an old reader would
// misinterpret; adding an optional field is not such a change.
const Schema = 1

// Line types: the "type" field every trace line starts with.
const (
	LineHeader = "header" // first line of a run: what produced the trace
	LineStep   = "step"   // one step of one machine or of the network
	LineEnd    = "end"    // last line of a run: the outcome
	// LineRetract takes back a server slot's last step: package transport
	// traces a step before it stores it, and the store refused it.
	LineRetract = "retract"
)

// Trace sources: who wrote a trace.
const (
	SourceSim       = "sim"       // the random scheduler (verishake sim)
	SourceExplore   = "explore"   // the exhaustive explorer's counterexamples
	SourceTransport = "transport" // a real run over sockets, logged by package transport
)

// Token sources a header names.
const (
	TokensSeeded   = "seeded"   // protocol.NewSeededTokens(Header.Seed): the simulator
	TokensSymbolic = "symbolic" // protocol.SymbolicTokens: the explorer
	TokensCrypto   = "crypto"   // crypto/rand: a real run
)

// Header is the first line of a run. Profile is the full set of knobs, so
// a trace replays without the variant catalog knowing the variant; Config
// is the simulator's configuration (nil for a real run).
type Header struct {
	Type    string           `json:"type"`   // LineHeader
	Schema  int              `json:"schema"` // Schema
	Source  string           `json:"source"` // SourceSim, SourceExplore or SourceTransport
	Profile protocol.Profile `json:"profile"`
	Variant string           `json:"variant"`
	Seed    uint64           `json:"seed"`
	// Tokens says where fresh tokens came from: TokensSeeded,
	// TokensSymbolic or TokensCrypto; package transport leaves it empty.
	Tokens string     `json:"tokens"`
	Config *SimConfig `json:"config,omitempty"`
	// Target, on a counterexample, names the property it was written for:
	// replay then judges that property alone (see Target).
	Target *Target `json:"target,omitempty"`
}

// SimConfig is the simulator's configuration as a header records it: the
// JSON form of sim.Config, whose Profile, Variant and Seed are the
// header's own fields. Package sim converts between the two and tests
// that they encode alike, so that a field added to one and not the other
// fails a test rather than vanish from traces.
type SimConfig struct {
	Clients       int           `json:"clients"`
	Handshakes    int           `json:"handshakes"`
	Commands      int           `json:"commands"`
	CommandGap    time.Duration `json:"command_gap"`
	Rate          float64       `json:"rate"`
	Upstream      Channel       `json:"upstream"`
	Push          Channel       `json:"push"`
	Adversary     string        `json:"adversary"`
	AdversaryRate float64       `json:"adversary_rate"`
	Horizon       time.Duration `json:"horizon"`
}

// Channel is a simulated channel's fault model as a header records it
// (sim.Channel). Durations are nanoseconds in JSON.
type Channel struct {
	Loss     float64       `json:"loss"`
	Dup      float64       `json:"dup"`
	Corrupt  float64       `json:"corrupt"`
	DelayMin time.Duration `json:"delay_min"`
	DelayMax time.Duration `json:"delay_max"`
}

// Target names the one property a counterexample was written for. A trace
// with a target is judged for that property alone: every step is taken,
// whatever else breaks on the way, and the trace reproduces only if the
// target is violated where the trace says. Other properties broken on the
// way are reported beside it, never in its place.
type Target struct {
	// Property is the property's id (AUTH-C, AUTH-S, CMD, BOUNDED, LIVE,
	// AGREE).
	Property string `json:"property"`
	// Continuation is how many of the last steps are AGREE's fault-free
	// continuation, run from the state the path reaches; replay runs it
	// again and requires the same steps.
	Continuation int `json:"continuation,omitempty"`
	// RetriesCapped, for AGREE: the profile's Retries in the header are
	// the explorer's cap, below the profile's own, so a client at the cap
	// is excused as at a last try (sim.World.AgreeApplies).
	RetriesCapped bool `json:"retries_capped,omitempty"`
}

// Record is one step: what was done (Step and its operands), by or to whom
// (Machine, RegID), and what it produced (Sent, Claims, Err, State). A send
// and every receive of that message carry the same message id; a network
// duplicate keeps the id of the message it copies, so a message id can be
// received more than once.
type Record struct {
	Type string `json:"type"` // LineStep
	// N numbers the steps of a run from 1.
	N uint64 `json:"n"`
	// T is the virtual time of the step in nanoseconds (for a real run: the
	// driver's protocol.Time, i.e. what was passed to the machine).
	T protocol.Time `json:"t"`
	// Wall is the wall-clock time in RFC 3339 with nanoseconds; set by real
	// runs, never by the simulator (it would break byte-identical traces).
	Wall string `json:"wall,omitempty"`
	// Step is the step kind: one of StepNames.
	Step string `json:"step"`
	// Slot is the in-flight slot the step acts on (deliver, drop, dup,
	// corrupt); an inject's slot is its SentSlot. Simulator bookkeeping
	// that replay needs; real runs omit it.
	Slot *int32 `json:"slot,omitempty"`
	// Machine is MachineClient or MachineServer when a machine acted, empty
	// for a network step (drop, dup, corrupt, inject) or a delivery no
	// machine took.
	Machine string `json:"machine,omitempty"`
	// RegID is the acting client's RegID, or the RegID of the server slot
	// that acted. A delivery to the server names the claimed sender's RegID.
	RegID uint64 `json:"regid,omitempty"`
	// HS is the number (from 1, across the run) of the handshake the acting
	// client is in, for client steps; for "start" it is the handshake begun.
	HS uint64 `json:"hs,omitempty"`
	// Recv is the message the step took from the network: delivered,
	// dropped, duplicated or corrupted (as it was before).
	Recv *Msg `json:"recv,omitempty"`
	// Sent is the message the step put on the network: a machine's
	// answer, a network duplicate (same id as Recv), a corrupted frame
	// that still decoded (same id, changed fields), or an injection.
	Sent *Msg `json:"sent,omitempty"`
	// SentSlot is the slot Sent went into (simulator only).
	SentSlot *int32 `json:"sent_slot,omitempty"`
	// Claims made by the machine in this step, in order.
	Claims []Claim `json:"claims,omitempty"`
	// Err is the machine's reason for rejecting the input, or for a corrupt
	// step the decoder's; empty when accepted.
	Err string `json:"err,omitempty"`
	// State is the acting machine's control state after the step: a
	// protocol.ClientState or protocol.SessionState name.
	State string `json:"state,omitempty"`
	// Pos and Mask say which frame byte a corrupt step flipped (b[Pos] ^= Mask).
	Pos  *int  `json:"pos,omitempty"`
	Mask uint8 `json:"mask,omitempty"`
	// Count is how many Hellos a flood sent.
	Count int32 `json:"count,omitempty"`
	// Lost marks a message that left the network without reaching a
	// machine: a corrupted frame that failed to decode, or a push to a
	// RegID no simulated device holds (the adversary's own, say).
	Lost bool `json:"lost,omitempty"`
}

// Machines a Record names.
const (
	MachineClient = "client"
	MachineServer = "server"
)

// Msg is a handshake message in a trace. Tokens print as protocol.Token's
// String: 32 hex digits, or #k for a symbolic token.
type Msg struct {
	ID uint64 `json:"id"`
	// From is who put it on the network: "client", "server" or "adversary".
	From string `json:"from,omitempty"`
	// Guess marks an adversary's message carrying a guessed token: FORGE
	// counts its delivery. Optional: absent is false, so older traces read
	// the same.
	Guess   bool   `json:"guess,omitempty"`
	Kind    string `json:"kind"`
	RegID   uint64 `json:"regid"`
	Tc      string `json:"tc,omitempty"`
	Ts      string `json:"ts,omitempty"`
	Seq     uint32 `json:"seq,omitempty"`
	Payload string `json:"payload,omitempty"`
}

// Claim is a protocol.Claim in a trace.
type Claim struct {
	Kind  string `json:"kind"` // Running, Commit, Issued, Executed
	Role  string `json:"role"` // client, server
	RegID uint64 `json:"regid"`
	Tc    string `json:"tc,omitempty"`
	Ts    string `json:"ts,omitempty"`
	Seq   uint32 `json:"seq,omitempty"`
}

// Retract is a line that takes back the last step of a server slot in its
// run: package transport writes a step before it stores the slot (so that
// a process killed between the two leaves the trace ahead of the store,
// never behind), and writes this when the store then refused the slot, so
// that the step did not happen. It names the step by its slot, time and
// kind; validation undoes it, and refuses a retraction that names no such
// step. A real run's traces only: the simulator never writes one.
type Retract struct {
	Type    string        `json:"type"` // LineRetract
	T       protocol.Time `json:"t"`
	Machine string        `json:"machine"` // MachineServer
	RegID   uint64        `json:"regid"`
	Step    string        `json:"step"`
}

// End is the last line of a run: how it stopped and what it found.
// Replay checks that re-running the steps gives the same violations.
type End struct {
	Type       string        `json:"type"` // LineEnd
	Steps      uint64        `json:"steps"`
	T          protocol.Time `json:"t"`
	Stopped    string        `json:"stopped"`
	Violations []Violation   `json:"violations"`
}

// Violation is a property broken in a run, as the simulator's monitors
// report it and an End line records it.
type Violation struct {
	// Property is a protocol property id: AUTH-C, AUTH-S, CMD, FORGE,
	// LIVE, BOUNDED, DELIVER.
	Property string `json:"property"`
	// Step is the number of the step that broke it; for a LIVE violation
	// found by the clock, the last step taken before.
	Step uint64 `json:"step"`
	// T is the virtual time, in nanoseconds, at which it was found.
	T protocol.Time `json:"t"`
	// RegID is the client concerned, when there is one.
	RegID uint64 `json:"regid,omitempty"`
	// Claim is the claim that completed the violation (AUTH-C, AUTH-S,
	// CMD), or the Issued claim of the command lost (DELIVER).
	Claim *Claim `json:"claim,omitempty"`
	// Reason says what went wrong, in words.
	Reason string `json:"reason"`
}

func (v Violation) String() string {
	return fmt.Sprintf("%s violated at step %d (t=%v): %s", v.Property, v.Step, time.Duration(v.T), v.Reason)
}
