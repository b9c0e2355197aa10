package sim

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/verishake/verishake/protocol"
)

// TraceSchema is the version of the JSON Lines trace format written by
// `verishake sim --trace` and read by `verishake replay`. A reader rejects a
// trace whose header names another version rather than misread it. Bump it
// on any change that an old reader would misinterpret; adding an optional
// field is not such a change.
const TraceSchema = 1

// Line types: the "type" field every trace line starts with.
const (
	LineHeader = "header" // first line: what produced the trace
	LineStep   = "step"   // one step of one machine or of the network
	LineEnd    = "end"    // last line: the outcome
)

// Trace sources: who wrote a trace.
const (
	SourceSim       = "sim"       // the random scheduler (verishake sim)
	SourceExplore   = "explore"   // the exhaustive explorer's counterexamples
	SourceTransport = "transport" // a real run over sockets, logged by package transport
)

// Header is the first line of a trace. Profile is the full set of knobs, so
// a trace replays without the variant catalog knowing the variant; Config is
// the simulator's configuration (nil for a real run).
type Header struct {
	Type    string           `json:"type"`   // LineHeader
	Schema  int              `json:"schema"` // TraceSchema
	Source  string           `json:"source"` // SourceSim, SourceExplore or SourceTransport
	Profile protocol.Profile `json:"profile"`
	Variant string           `json:"variant"`
	Seed    uint64           `json:"seed"`
	// Tokens says where fresh tokens came from: TokensSeeded (the
	// simulator: protocol.NewSeededTokens(Seed)), TokensSymbolic (the
	// explorer) or TokensCrypto (a real run).
	Tokens string  `json:"tokens"`
	Config *Config `json:"config,omitempty"`
	// Target, on a counterexample, names the property it was written for:
	// replay then judges that property alone (see Target).
	Target *Target `json:"target,omitempty"`
}

// Token sources a header names.
const (
	TokensSeeded   = "seeded"
	TokensSymbolic = "symbolic"
	TokensCrypto   = "crypto"
)

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
	// Step is the step kind: one of the StepKind names ("deliver", "drop",
	// "dup", "corrupt", "client_timer", "server_timer", "start", "issue",
	// "inject").
	Step string `json:"step"`
	// Slot is the in-flight slot the step acts on (deliver, drop, dup,
	// corrupt); an inject's slot is its SentSlot. Simulator bookkeeping
	// that replay needs; real runs omit it.
	Slot *int32 `json:"slot,omitempty"`
	// Machine is "client" or "server" when a machine acted, empty for a
	// network step (drop, dup, corrupt, inject) or a delivery no machine took.
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

// Msg is a handshake message in a trace. Tokens print as protocol.Token's
// String: 32 hex digits, or #k for a symbolic token.
type Msg struct {
	ID uint64 `json:"id"`
	// From is who put it on the network: "client", "server" or "adversary".
	From string `json:"from,omitempty"`
	// Guess marks an adversary's message carrying a guessed token
	// (Envelope.Guess): FORGE counts its delivery. Optional: absent is
	// false, so older traces read the same.
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

// End is the last line of a trace: how the run stopped and what it found.
// Replay checks that re-running the steps gives the same violations.
type End struct {
	Type       string        `json:"type"` // LineEnd
	Steps      uint64        `json:"steps"`
	T          protocol.Time `json:"t"`
	Stopped    string        `json:"stopped"`
	Violations []Violation   `json:"violations"`
}

// Origin says who put a message on the network.
type Origin uint8

// Origins of in-flight messages.
const (
	FromClient Origin = iota + 1
	FromServer
	FromAdversary
)

var originNames = [...]string{"", "client", "server", "adversary"}

func (o Origin) String() string {
	if int(o) < len(originNames) {
		return originNames[o]
	}
	return "Origin(" + strconv.Itoa(int(o)) + ")"
}

func parseOrigin(s string) (Origin, error) {
	for i, n := range originNames {
		if i > 0 && n == s {
			return Origin(i), nil
		}
	}
	return 0, fmt.Errorf("unknown sender %q", s)
}

// MsgOf renders an envelope for a trace.
func MsgOf(e Envelope) *Msg {
	m := e.Msg
	t := &Msg{ID: uint64(e.ID), From: e.From.String(), Guess: e.Guess, Kind: m.Kind.String(), RegID: uint64(m.RegID), Seq: m.Seq, Payload: m.Payload}
	if !m.Tc.IsZero() {
		t.Tc = m.Tc.String()
	}
	if !m.Ts.IsZero() {
		t.Ts = m.Ts.String()
	}
	return t
}

// Envelope parses a trace message back.
func (t *Msg) Envelope() (Envelope, error) {
	k, err := ParseKind(t.Kind)
	if err != nil {
		return Envelope{}, err
	}
	e := Envelope{ID: MsgID(t.ID), Guess: t.Guess, Msg: protocol.Message{Kind: k, RegID: protocol.RegID(t.RegID), Seq: t.Seq, Payload: t.Payload}}
	if t.From != "" {
		if e.From, err = parseOrigin(t.From); err != nil {
			return Envelope{}, err
		}
	}
	if e.Msg.Tc, err = ParseToken(t.Tc); err != nil {
		return Envelope{}, fmt.Errorf("tc: %w", err)
	}
	if e.Msg.Ts, err = ParseToken(t.Ts); err != nil {
		return Envelope{}, fmt.Errorf("ts: %w", err)
	}
	return e, nil
}

// ClaimOf renders a claim for a trace.
func ClaimOf(c protocol.Claim) Claim {
	t := Claim{Kind: c.Kind.String(), Role: c.Role.String(), RegID: uint64(c.RegID), Seq: c.Seq}
	if !c.Tc.IsZero() {
		t.Tc = c.Tc.String()
	}
	if !c.Ts.IsZero() {
		t.Ts = c.Ts.String()
	}
	return t
}

// Claim parses a trace claim back.
func (t Claim) Claim() (protocol.Claim, error) {
	c := protocol.Claim{RegID: protocol.RegID(t.RegID), Seq: t.Seq}
	switch t.Kind {
	case "Running":
		c.Kind = protocol.Running
	case "Commit":
		c.Kind = protocol.Commit
	case "Issued":
		c.Kind = protocol.Issued
	case "Executed":
		c.Kind = protocol.Executed
	default:
		return c, fmt.Errorf("unknown claim kind %q", t.Kind)
	}
	switch t.Role {
	case "client":
		c.Role = protocol.RoleClient
	case "server":
		c.Role = protocol.RoleServer
	default:
		return c, fmt.Errorf("unknown role %q", t.Role)
	}
	var err error
	if c.Tc, err = ParseToken(t.Tc); err != nil {
		return c, fmt.Errorf("tc: %w", err)
	}
	if c.Ts, err = ParseToken(t.Ts); err != nil {
		return c, fmt.Errorf("ts: %w", err)
	}
	return c, nil
}

// ParseKind parses a message kind name ("Hello" .. "Command").
func ParseKind(s string) (protocol.Kind, error) {
	for k := protocol.Hello; k <= protocol.Command; k++ {
		if k.String() == s {
			return k, nil
		}
	}
	return 0, fmt.Errorf("unknown message kind %q", s)
}

// ErrToken marks a token string that is neither 32 hex digits nor #k.
var ErrToken = errors.New("malformed token")

// ParseToken parses what protocol.Token's String prints: 32 hex digits, or
// #k for a symbolic token. The empty string is the zero token.
func ParseToken(s string) (protocol.Token, error) {
	var t protocol.Token
	switch {
	case s == "":
		return t, nil
	case strings.HasPrefix(s, "#"):
		k, err := strconv.ParseUint(s[1:], 10, 64)
		if err != nil {
			return t, fmt.Errorf("%w %q: %w", ErrToken, s, err)
		}
		return protocol.Symbolic(k), nil
	case len(s) != 2*protocol.TokenBytes:
		return t, fmt.Errorf("%w %q: want %d hex digits", ErrToken, s, 2*protocol.TokenBytes)
	}
	if _, err := hex.Decode(t[:], []byte(s)); err != nil {
		return t, fmt.Errorf("%w %q: %w", ErrToken, s, err)
	}
	return t, nil
}

// RecordOf renders step n, which w took with result r, as a trace record.
// Call it right after Apply: the machine's State is read from w.
func RecordOf(n uint64, s Step, r *Result, w *World) Record {
	rec := Record{Type: LineStep, N: n, T: s.At, Step: s.Kind.String(), HS: r.HS}
	switch s.Kind {
	case StepDeliver, StepDrop, StepDup, StepCorrupt:
		slot := s.Slot
		rec.Slot = &slot
		rec.Recv = MsgOf(r.Recv)
	}
	if s.Kind == StepCorrupt {
		pos := int(s.Pos)
		rec.Pos, rec.Mask = &pos, s.Mask
	}
	if s.Kind == StepFlood {
		rec.Count = s.Count
	}
	if s.Kind == StepInsider {
		rec.Recv = MsgOf(r.Recv) // the insider's message, taken by the server at once
	}
	switch r.Role {
	case protocol.RoleClient:
		rec.Machine, rec.RegID, rec.State = "client", uint64(r.RegID), r.After.String()
	case protocol.RoleServer:
		rec.Machine, rec.RegID = "server", uint64(r.RegID)
		sl, _ := w.Server.Slot(r.RegID)
		rec.State = sl.State.String()
	}
	if r.Sent.Msg.Kind != 0 {
		rec.Sent = MsgOf(r.Sent)
		slot := r.SentSlot
		rec.SentSlot = &slot
	}
	for _, c := range r.ClaimList() {
		rec.Claims = append(rec.Claims, ClaimOf(c))
	}
	if r.Err != nil {
		rec.Err = r.Err.Error()
	}
	rec.Lost = r.Lost
	return rec
}

// ParseStep rebuilds the step a simulator record was written for.
func (rec *Record) ParseStep() (Step, error) {
	k, err := ParseStepKind(rec.Step)
	if err != nil {
		return Step{}, err
	}
	s := Step{Kind: k, At: rec.T}
	switch k {
	case StepDeliver, StepDrop, StepDup, StepCorrupt:
		if rec.Slot == nil || rec.Recv == nil {
			return s, fmt.Errorf("%v step without slot or recv", k)
		}
		s.Slot, s.ID = *rec.Slot, MsgID(rec.Recv.ID)
		if k == StepCorrupt {
			if rec.Pos == nil || *rec.Pos < 0 || *rec.Pos > 0xffff {
				return s, errors.New("corrupt step without a pos in 0..65535")
			}
			s.Pos, s.Mask = uint16(*rec.Pos), rec.Mask
		}
	case StepClientTimer, StepStart:
		if rec.RegID == 0 {
			return s, fmt.Errorf("%v step without regid", k)
		}
		s.Client = int32(rec.RegID - 1)
	case StepServerTimer, StepIssue:
		s.RegID = protocol.RegID(rec.RegID)
	case StepFlood:
		if rec.Count < 1 {
			return s, errors.New("flood step without a count of at least 1")
		}
		s.Count = rec.Count
	case StepInsider:
		if rec.Recv == nil {
			return s, errors.New("insider step without recv")
		}
		e, err := rec.Recv.Envelope()
		if err != nil {
			return s, fmt.Errorf("recv: %w", err)
		}
		s.Msg = e.Msg
	case StepInject:
		if rec.Sent == nil {
			return s, fmt.Errorf("%v step without sent", k)
		}
		e, err := rec.Sent.Envelope()
		if err != nil {
			return s, fmt.Errorf("sent: %w", err)
		}
		s.Msg, s.Guess = e.Msg, e.Guess
	}
	return s, nil
}

// TraceWriter writes a JSON Lines trace: a Header, Records, an End.
// Encoding is deterministic (struct fields in order, no maps), so the same
// run writes the same bytes.
type TraceWriter struct {
	bw  *bufio.Writer
	enc *json.Encoder
}

// NewTraceWriter returns a writer to w, buffered; End flushes it.
func NewTraceWriter(w io.Writer) *TraceWriter {
	bw := bufio.NewWriterSize(w, 1<<16)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	return &TraceWriter{bw: bw, enc: enc}
}

// Header writes the first line.
func (t *TraceWriter) Header(h Header) error { return t.write(h) }

// Step writes one record.
func (t *TraceWriter) Step(r Record) error { return t.write(r) }

// End writes the last line and flushes.
func (t *TraceWriter) End(e End) error {
	if e.Violations == nil {
		e.Violations = []Violation{}
	}
	if err := t.write(e); err != nil {
		return err
	}
	return t.Flush()
}

// Flush writes out what is buffered.
func (t *TraceWriter) Flush() error {
	if err := t.bw.Flush(); err != nil {
		return fmt.Errorf("trace: %w", err)
	}
	return nil
}

func (t *TraceWriter) write(v any) error {
	if err := t.enc.Encode(v); err != nil {
		return fmt.Errorf("trace: %w", err)
	}
	return nil
}
