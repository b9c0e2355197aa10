package sim

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"strconv"
	"time"

	"github.com/verishake/verishake/adversary"
	"github.com/verishake/verishake/protocol"
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
// command; Inject is the adversary's move.
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
	numStepKinds
)

var stepNames = [...]string{"", "deliver", "drop", "dup", "corrupt", "client_timer", "server_timer", "start", "issue", "inject"}

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
	// Msg is the adversary's message for StepInject.
	Msg protocol.Message
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

// Limits bound the nondeterministic steps Enabled offers, so that an
// exhaustive search stays finite. A limit counts steps of that kind already
// taken (Counters.Steps); zero offers none. The random scheduler does not
// call Enabled and ignores them.
type Limits struct {
	Drops, Dups, Corrupts, Injects int
	// StartsPerClient bounds the handshakes Enabled lets one client start
	// (zero: only the world's Handshakes budget bounds them).
	StartsPerClient int
}

// Unlimited is a Limits value meaning "no bound".
const Unlimited = int(^uint(0) >> 1)

// WorldOptions configure a world.
type WorldOptions struct {
	// Clients is the number of honest clients; client i has RegID i+1, and
	// RegID 0 stays unused.
	Clients int
	// Handshakes is the number of Start steps Enabled offers in all.
	Handshakes int
	// Commands is how many commands the server issues per verified
	// session (Enabled offers that many StepIssue).
	Commands int
	// Tokens makes every fresh token; nil means symbolic tokens (#1, #2...).
	Tokens protocol.TokenSource
	// Adversary is told what the network carries and proposes injections;
	// nil means NoAdversary.
	Adversary Adversary
	// Limits bound what Enabled offers.
	Limits Limits
}

// Counters are the per-run tallies a world keeps. The explorer's budgets
// read them; the simulator's report is built from them.
type Counters struct {
	// Steps counts applied steps by kind.
	Steps [numStepKinds]uint64
	// Started, Verified, Failed count client handshakes; HalfVerified
	// those that Failed on the client while the server verified their session.
	Started, Verified, Failed, HalfVerified uint64
	// Sent counts messages honest machines sent; Retransmits the client
	// re-sends among them.
	Sent, Retransmits uint64
	// Rejected counts inputs a machine refused.
	Rejected uint64
	// Lost counts corrupted frames that failed to decode and pushes to
	// RegIDs no client holds.
	Lost uint64
	// Issued and Executed count commands.
	Issued, Executed uint64
	// ForgeGuesses counts deliveries of adversary messages carrying a
	// guessed token (Envelope.Guess), ForgeAccepted those the receiving
	// machine accepted: the FORGE statistic.
	ForgeGuesses, ForgeAccepted uint64
}

// book is what the world keeps per client besides the machine: handshake
// accounting and the server's command budget for the client's session.
type book struct {
	hs      uint64        // the client's current handshake number, 0 before its first
	began   protocol.Time // when it started
	cmdLeft uint32        // commands the server still issues to the current server session
	nstart  uint32        // handshakes the client has started
	srvOK   bool          // the server verified the current handshake's session
	leaked  bool          // the session's tokens were handed to the adversary
}

// CommandPayload is the payload of every simulated command: constant, so
// issuing one allocates nothing.
const CommandPayload = "cmd"

// World is the whole simulated system as one value: the clients, the
// server, the messages in flight, the clock, per-run counters and the
// adversary. Both schedulers drive it the same way: Enabled lists what may
// happen next, Apply makes one of those things happen. Clone and
// Fingerprint let an exhaustive search copy and deduplicate worlds.
//
// A World is not safe for concurrent use; clone it instead.
type World struct {
	h    *protocol.Handshake
	opts WorldOptions

	// Clients are the honest clients, indexed by client number; client i
	// has RegID i+1. Read them; change them only through Apply.
	Clients []protocol.Client
	// Server is the one server. Read it; change it only through Apply.
	Server *protocol.Server
	// Now is the virtual time of the last step.
	Now protocol.Time
	// Counters are the run's tallies.
	Counters Counters

	flight []Envelope // in-flight slots; Msg.Kind zero marks a free one
	// fhash holds the messageHash of each occupied flight[i] while msumOK.
	fhash []uint64
	// The parts of Fingerprint kept up to date step by step once it has
	// run, so that a step that touches one message or one slot rehashes
	// only that: msum is the sum of fhash over the occupied slots (with
	// msumOK, every occupied slot's fhash is known), ssum the sum of the
	// server's slot hashes, valid with ssumOK while Now is ssumAt (slot
	// hashes count time relative to Now). Clone drops them; CopyFrom
	// keeps them.
	msum, ssum     uint64
	ssumAt         protocol.Time
	msumOK, ssumOK bool

	free   []int32 // free slots, reused last-freed first (deterministic)
	live   int     // occupied slots
	books  []book
	nextID MsgID
	tokens protocol.TokenSource
	adv    Adversary

	frame  []byte             // scratch: a corrupt or inject step's frame
	moves  []protocol.Message // scratch: Enabled's adversary moves
	shares []uint64           // scratch: SymmetricFingerprint's client shares
}

// ErrStep marks a step Apply cannot take: it names no in-flight message,
// no client, a time in the past, or a message that has no wire form.
var ErrStep = errors.New("invalid step")

// NewWorld returns a world at time 0 with every client idle.
func NewWorld(h *protocol.Handshake, o WorldOptions) (*World, error) {
	if h == nil {
		return nil, errors.New("sim: nil handshake")
	}
	if o.Clients < 0 || o.Handshakes < 0 || o.Commands < 0 {
		return nil, fmt.Errorf("sim: negative option in %+v", o)
	}
	if o.Tokens == nil {
		o.Tokens = &protocol.SymbolicTokens{}
	}
	if o.Adversary == nil {
		o.Adversary = NoAdversary{}
	}
	w := &World{
		h:       h,
		opts:    o,
		Clients: make([]protocol.Client, o.Clients),
		Server:  protocol.NewServer(),
		books:   make([]book, o.Clients),
		tokens:  o.Tokens,
		adv:     o.Adversary,
	}
	for i := range w.Clients {
		w.Clients[i] = protocol.NewClient(protocol.RegID(i + 1))
	}
	return w, nil
}

// Handshake returns the compiled profile the world runs.
func (w *World) Handshake() *protocol.Handshake { return w.h }

// Options returns the options the world was made with.
func (w *World) Options() WorldOptions { return w.opts }

// Adversary returns the world's adversary.
func (w *World) Adversary() Adversary { return w.adv }

// Honest reports whether id is an honest client's RegID.
func (w *World) Honest(id protocol.RegID) bool {
	return id >= 1 && id <= protocol.RegID(len(w.Clients))
}

// InFlight returns the number of messages on the network.
func (w *World) InFlight() int { return w.live }

// Slots returns the number of in-flight slots, used or free; Envelope
// takes indexes below it.
func (w *World) Slots() int { return len(w.flight) }

// Envelope returns the message in flight in slot i, if any.
func (w *World) Envelope(i int32) (Envelope, bool) {
	if i < 0 || int(i) >= len(w.flight) || w.flight[i].Msg.Kind == 0 {
		return Envelope{}, false
	}
	return w.flight[i], true
}

// Message returns the message in flight in slot i, nil if there is none.
// It points into the world: read it before the next step.
func (w *World) Message(i int32) *protocol.Message {
	if i < 0 || int(i) >= len(w.flight) || w.flight[i].Msg.Kind == 0 {
		return nil
	}
	return &w.flight[i].Msg
}

// HandshakeOf returns client c's current handshake number (0: none yet).
func (w *World) HandshakeOf(c int) uint64 { return w.books[c].hs }

// ServerVerified reports whether the server has verified client c's
// current handshake: it claimed Commit on the session the client holds
// (same Ts) since the client started it. A later expiry of the server's
// session does not undo it. A client that Failed while this holds is a
// half-verified handshake (DESIGN.md §3, AGREE).
func (w *World) ServerVerified(c int) bool { return w.books[c].srvOK }

// CommandsLeft returns how many more commands Enabled offers for client
// c's server session.
func (w *World) CommandsLeft(c int) int { return int(w.books[c].cmdLeft) }

// Clone returns an independent copy of w. The token source is copied when
// it is one of protocol's (or has a Clone() protocol.TokenSource method)
// and shared otherwise; the adversary is copied through its Clone.
func (w *World) Clone() *World {
	c := *w
	c.Clients = slices.Clone(w.Clients)
	c.Server = w.Server.Clone()
	c.flight = slices.Clone(w.flight)
	c.fhash = slices.Clone(w.fhash)
	c.free = slices.Clone(w.free)
	c.books = slices.Clone(w.books)
	c.tokens = cloneTokens(w.tokens)
	c.adv = cloneAdversary(w.adv)
	c.frame, c.moves, c.shares = nil, nil, nil
	c.msumOK, c.ssumOK = false, false
	return &c
}

// CopyFrom makes w a copy of src that behaves as src.Clone() would, reusing
// w's storage: the exhaustive explorer copies a world for every transition
// it tries, and copying into the same few worlds allocates nothing. w must
// be a world of its own (from NewWorld, Clone or CopyFrom: those never
// share storage). A symbolic or seeded token source and an
// *adversary.Explorer are copied into w's own when it has one of the same
// type; the explorer adversary's knowledge is shared with src copy-on-write
// (it only ever grows by inserting into a fresh array); any other token
// source or adversary is cloned.
func (w *World) CopyFrom(src *World) {
	if w == src {
		return
	}
	clients, server, flight, fhash, free, books := w.Clients, w.Server, w.flight, w.fhash, w.free, w.books
	tokens, adv, frame, moves, shares := w.tokens, w.adv, w.frame, w.moves, w.shares
	*w = *src
	w.Clients = append(clients[:0], src.Clients...)
	if server == nil || server == src.Server {
		server = new(protocol.Server)
	}
	server.CopyFrom(src.Server)
	w.Server = server
	w.flight = append(flight[:0], src.flight...)
	w.fhash = append(fhash[:0], src.fhash...)
	w.free = append(free[:0], src.free...)
	w.books = append(books[:0], src.books...)
	w.tokens = copyTokens(tokens, src.tokens)
	w.adv = copyAdversary(adv, src.adv)
	w.frame, w.moves, w.shares = frame, moves, shares
}

func cloneTokens(t protocol.TokenSource) protocol.TokenSource {
	switch v := t.(type) {
	case *protocol.SeededTokens:
		c := *v
		return &c
	case *protocol.SymbolicTokens:
		c := *v
		return &c
	case interface{ Clone() protocol.TokenSource }:
		return v.Clone()
	}
	return t
}

// copyTokens copies src into dst when both are protocol's token sources of
// the same type (and not the same object), else clones src.
func copyTokens(dst, src protocol.TokenSource) protocol.TokenSource {
	switch s := src.(type) {
	case *protocol.SymbolicTokens:
		if d, ok := dst.(*protocol.SymbolicTokens); ok && d != s {
			*d = *s
			return d
		}
	case *protocol.SeededTokens:
		if d, ok := dst.(*protocol.SeededTokens); ok && d != s {
			*d = *s
			return d
		}
	}
	return cloneTokens(src)
}

// copyAdversary copies src into dst when both are explorer adversaries
// (and not the same object), sharing the knowledge's arrays clipped to
// their length, so that the first insertion into either copies them; a
// bounded window (MaxCaptured > 0), which overwrites in place, is cloned.
func copyAdversary(dst, src Adversary) Adversary {
	switch s := src.(type) {
	case NoAdversary:
		return s
	case *adversary.Explorer:
		if d, ok := dst.(*adversary.Explorer); ok && d != s && s.Knowledge.MaxCaptured == 0 {
			*d = *s
			d.Knowledge.Tokens = slices.Clip(s.Knowledge.Tokens)
			d.Knowledge.Captured = slices.Clip(s.Knowledge.Captured)
			return d
		}
	}
	return cloneAdversary(src)
}

// Enabled appends to dst every step the world may take now and returns
// the extended slice, in a fixed order: per in-flight slot deliver, drop,
// duplicate, corrupt; client timers; server timers by RegID; starts;
// issues; adversary injections. Drops, duplicates, corruptions and
// injections are offered while WorldOptions.Limits allow; a corruption is
// offered as one canonical byte flip (the version byte), since every flip
// is caught the same way by the frame's checksum.
func (w *World) Enabled(dst []Step) []Step {
	lim, n := &w.opts.Limits, &w.Counters.Steps
	for i, e := range w.flight {
		if e.Msg.Kind == 0 {
			continue
		}
		s := Step{At: w.Now, Slot: int32(i), ID: e.ID}
		s.Kind = StepDeliver
		dst = append(dst, s)
		if n[StepDrop] < uint64(lim.Drops) {
			s.Kind = StepDrop
			dst = append(dst, s)
		}
		if n[StepDup] < uint64(lim.Dups) {
			s.Kind = StepDup
			dst = append(dst, s)
		}
		if n[StepCorrupt] < uint64(lim.Corrupts) {
			s.Kind, s.Mask = StepCorrupt, 0xff
			dst = append(dst, s)
		}
	}
	for i := range w.Clients {
		c := &w.Clients[i]
		if awaiting(c.State) && c.Deadline != protocol.Never {
			dst = append(dst, Step{Kind: StepClientTimer, At: max(w.Now, c.Deadline), Client: int32(i)})
		}
	}
	w.Server.EachSlot(func(sl *protocol.Slot) {
		if d := sl.Deadline(); d != protocol.Never {
			dst = append(dst, Step{Kind: StepServerTimer, At: max(w.Now, d), RegID: sl.RegID})
		}
	})
	if w.Counters.Started < uint64(w.opts.Handshakes) {
		for i := range w.Clients {
			per := w.opts.Limits.StartsPerClient
			if !awaiting(w.Clients[i].State) && (per == 0 || w.startsOf(i) < per) {
				dst = append(dst, Step{Kind: StepStart, At: w.Now, Client: int32(i)})
			}
		}
	}
	for i := range w.Clients {
		id := protocol.RegID(i + 1)
		if w.books[i].cmdLeft == 0 {
			continue
		}
		if sl, ok := w.Server.Slot(id); ok && sl.Verified() {
			dst = append(dst, Step{Kind: StepIssue, At: w.Now, RegID: id})
		}
	}
	if ex, ok := w.adv.(Explorable); ok && n[StepInject] < uint64(lim.Injects) {
		w.moves = ex.Moves(w.moves[:0])
		for _, m := range w.moves {
			dst = append(dst, Step{Kind: StepInject, At: w.Now, Msg: m})
		}
	}
	return dst
}

// startsOf counts client i's handshakes.
func (w *World) startsOf(i int) int { return int(w.books[i].nstart) }

func awaiting(s protocol.ClientState) bool {
	return s == protocol.AwaitValidation || s == protocol.AwaitConfirm2
}

// Apply takes one step and reports what happened. A step the world cannot
// take (see ErrStep) returns an error and leaves the world unchanged; a
// step a machine rejects is applied (the clock moves, the input is
// consumed) and the reason is in Result.Err.
func (w *World) Apply(s Step) (Result, error) {
	var r Result
	err := w.ApplyInto(&s, &r)
	return r, err
}

// ApplyInto is Apply writing its Result into *r, which it overwrites: the
// schedulers reuse one Result rather than copy one per step.
func (w *World) ApplyInto(s *Step, r *Result) error {
	*r = Result{Kind: s.Kind, SentSlot: -1, Deadline: protocol.Never}
	if s.At < w.Now {
		return fmt.Errorf("%w: %v is before the world's time %d", ErrStep, *s, w.Now)
	}
	switch s.Kind {
	case StepDeliver, StepDrop, StepDup, StepCorrupt:
		if err := w.check(s); err != nil {
			return err
		}
	case StepClientTimer, StepStart:
		if s.Client < 0 || int(s.Client) >= len(w.Clients) {
			return fmt.Errorf("%w: %v: no client %d (have %d)", ErrStep, *s, s.Client, len(w.Clients))
		}
	case StepServerTimer, StepIssue:
	case StepInject:
		if !s.Msg.Kind.Valid() {
			return fmt.Errorf("%w: inject: message kind %v", ErrStep, s.Msg.Kind)
		}
		// The network carries frames: a message without one (a zero
		// token, a field its kind lacks) cannot be sent by anyone.
		frame, err := protocol.AppendMessage(w.frame[:0], s.Msg)
		if err != nil {
			return fmt.Errorf("%w: inject %v: %w", ErrStep, s.Msg, err)
		}
		w.frame = frame

	default:
		return fmt.Errorf("%w: unknown kind %v", ErrStep, s.Kind)
	}
	w.Now = s.At
	w.Counters.Steps[s.Kind]++
	switch s.Kind {
	case StepDeliver:
		w.deliver(r, w.take(s.Slot))
	case StepDrop:
		r.Recv = w.take(s.Slot)
	case StepDup:
		r.Recv = w.flight[s.Slot]
		r.Sent, r.SentSlot = r.Recv, w.put(r.Recv)
	case StepCorrupt:
		w.corrupt(r, *s)
	case StepClientTimer:
		w.clientTimer(r, int(s.Client))
	case StepServerTimer:
		r.Role, r.RegID = protocol.RoleServer, s.RegID
		kept := w.unhashSlot(s.RegID)
		out := w.Server.Expire(w.h, w.Now, s.RegID)
		w.rehashSlot(s.RegID, kept)
		w.serverDone(r, s.RegID, out)
	case StepStart:
		w.start(r, int(s.Client))
	case StepIssue:
		r.Role, r.RegID = protocol.RoleServer, s.RegID
		if w.Honest(s.RegID) && w.books[s.RegID-1].cmdLeft > 0 {
			w.books[s.RegID-1].cmdLeft--
		}
		kept := w.unhashSlot(s.RegID)
		out := w.Server.Issue(w.h, w.Now, s.RegID, CommandPayload)
		w.rehashSlot(s.RegID, kept)
		w.serverDone(r, s.RegID, out)
	case StepInject:
		w.nextID++
		r.Sent = Envelope{ID: w.nextID, From: FromAdversary, Guess: s.Guess, Msg: s.Msg}
		r.SentSlot = w.put(r.Sent)
	}
	return nil
}

// check validates a step naming an in-flight message.
func (w *World) check(s *Step) error {
	if s.Slot < 0 || int(s.Slot) >= len(w.flight) || w.flight[s.Slot].Msg.Kind == 0 {
		return fmt.Errorf("%w: %v: slot %d holds no message", ErrStep, *s, s.Slot)
	}
	if id := w.flight[s.Slot].ID; id != s.ID {
		return fmt.Errorf("%w: %v: slot %d holds message %d, not %d", ErrStep, *s, s.Slot, id, s.ID)
	}
	return nil
}

func (w *World) put(e Envelope) int32 {
	w.live++
	i := int32(len(w.flight))
	if n := len(w.free); n > 0 {
		i = w.free[n-1]
		w.free = w.free[:n-1]
		w.flight[i] = e
	} else {
		w.flight = append(w.flight, e)
	}
	w.rehash(i)
	return i
}

// rehash accounts for a new message in in-flight slot i: with msum kept,
// its hash is added; otherwise the slot's cached hash is dropped.
func (w *World) rehash(i int32) {
	if !w.msumOK {
		if int(i) < len(w.fhash) {
			w.fhash[i] = 0
		}
		return
	}
	if n := int(i) + 1 - len(w.fhash); n > 0 {
		w.fhash = append(w.fhash, make([]uint64, n)...)
	}
	x := messageHash(&w.flight[i].Msg)
	w.fhash[i] = x
	w.msum += x
}

// unhash takes in-flight slot i's message out of msum.
func (w *World) unhash(i int32) {
	if w.msumOK {
		w.msum -= w.fhash[i]
	}
	if int(i) < len(w.fhash) {
		w.fhash[i] = 0
	}
}

func (w *World) take(i int32) Envelope {
	e := w.flight[i]
	w.unhash(i)
	w.flight[i] = Envelope{}
	w.free = append(w.free, i)
	w.live--
	return e
}

// send puts a machine's answer on the network and shows it to the adversary.
func (w *World) send(r *Result, m protocol.Message, from Origin) {
	w.nextID++
	r.Sent = Envelope{ID: w.nextID, From: from, Msg: m}
	r.SentSlot = w.put(r.Sent)
	w.Counters.Sent++
	w.adv.Observe(m)
}

func (w *World) deliver(r *Result, e Envelope) {
	r.Recv = e
	id := e.Msg.RegID
	switch {
	case e.Msg.Kind.Upstream():
		r.Role, r.RegID = protocol.RoleServer, id
		kept := w.unhashSlot(id)
		out := w.Server.Handle(w.h, w.Now, e.Msg, w.tokens)
		w.rehashSlot(id, kept)
		w.serverDone(r, id, out)
	case !w.Honest(id):
		// The push platform delivers to the device holding the RegID; no
		// simulated client does. The adversary saw it when it was sent.
		r.Lost = true
		w.Counters.Lost++
	default:
		i := int(id - 1)
		c := &w.Clients[i]
		w.clientBegin(r, i)
		w.clientDone(r, i, c.Handle(w.h, w.Now, e.Msg))
	}
	if e.From == FromAdversary {
		w.outcome(r, e)
	}
}

// outcome accounts for the delivery of an adversary's message: the FORGE
// statistic when it carries a guess, and the adversary's Outcome.
func (w *World) outcome(r *Result, e Envelope) {
	accepted := r.Err == nil && !r.Lost
	if e.Guess {
		w.Counters.ForgeGuesses++
		if accepted {
			w.Counters.ForgeAccepted++
		}
	}
	if o, ok := w.adv.(Outcomer); ok {
		o.Outcome(e.Msg, accepted)
	}
}

func (w *World) corrupt(r *Result, s Step) {
	e := w.flight[s.Slot]
	r.Recv = e
	frame, err := protocol.AppendMessage(w.frame[:0], e.Msg)
	w.frame = frame
	if err != nil {
		// Unreachable: only encodable messages enter the network.
		panic(fmt.Sprintf("sim: in-flight message %v has no frame: %v", e.Msg, err))
	}
	mask := s.Mask
	if mask == 0 {
		mask = 0xff
	}
	frame[int(s.Pos)%len(frame)] ^= mask
	m, err := protocol.DecodeMessage(frame)
	if err != nil {
		w.take(s.Slot)
		r.Err, r.Lost = err, true
		w.Counters.Lost++
		return
	}
	// It decoded (a checksum collision): it travels on, changed, and the
	// receiving machine must refuse it.
	e.Msg = m
	w.unhash(s.Slot)
	w.flight[s.Slot] = e
	w.rehash(s.Slot)
	r.Sent, r.SentSlot = e, s.Slot
}

func (w *World) clientTimer(r *Result, i int) {
	w.clientBegin(r, i)
	out := w.Clients[i].Timeout(w.h, w.Now, w.tokens)
	if out.Send.Kind != 0 {
		w.Counters.Retransmits++
	}
	w.clientDone(r, i, out)
}

func (w *World) start(r *Result, i int) {
	c, b := &w.Clients[i], &w.books[i]
	w.clientBegin(r, i)
	prevTc, prevTs := c.Tc, c.Ts
	out := c.Start(w.h, w.Now, w.tokens)
	if out.Err == nil {
		if !b.leaked && !prevTc.IsZero() {
			// DESIGN §2: a session's tokens leak once its client has
			// moved on to its next handshake.
			w.adv.Abandoned(c.RegID, prevTc, prevTs)
		}
		w.Counters.Started++
		*b = book{hs: w.Counters.Started, began: w.Now, cmdLeft: b.cmdLeft, nstart: b.nstart + 1}
		r.HS = b.hs
	}
	w.clientDone(r, i, out)
}

func (w *World) clientBegin(r *Result, i int) {
	r.Role, r.RegID = protocol.RoleClient, protocol.RegID(i+1)
	r.Before = w.Clients[i].State
	r.HS = w.books[i].hs
}

// clientDone records a client step's output and its handshake accounting.
func (w *World) clientDone(r *Result, i int, out protocol.Output) {
	c, b := &w.Clients[i], &w.books[i]
	w.output(r, out, FromClient)
	r.After = c.State
	if r.Before == r.After || !awaiting(r.Before) {
		return
	}
	switch r.After {
	case protocol.ClientVerified:
		r.Ended, r.Began = Verified, b.began
		w.Counters.Verified++
	case protocol.ClientFailed:
		r.Ended, r.Began = Failed, b.began
		w.Counters.Failed++
		if b.srvOK {
			w.Counters.HalfVerified++
		}
		// DESIGN §2: a failed client has abandoned its session.
		b.leaked = true
		w.adv.Abandoned(c.RegID, c.Tc, c.Ts)
	}
}

// serverDone records a server step's output. A server Commit for an honest
// RegID opens that session's command budget and, when it verifies the
// client's current handshake, marks it for half-verified accounting.
func (w *World) serverDone(r *Result, id protocol.RegID, out protocol.Output) {
	w.output(r, out, FromServer)
	if !w.Honest(id) {
		return
	}
	for _, cl := range r.ClaimList() {
		switch {
		case cl.Kind == protocol.Commit:
			i := int(id - 1)
			c, b := &w.Clients[i], &w.books[i]
			b.cmdLeft = uint32(w.opts.Commands)
			if b.hs != 0 && !b.srvOK && cl.Ts.Equal(c.Ts) {
				b.srvOK = true
				if c.State == protocol.ClientFailed {
					// Verified after its client gave up on it.
					w.Counters.HalfVerified++
				}
			}
		case cl.Kind == protocol.Issued:
			w.Counters.Issued++
		}
	}
}

func (w *World) output(r *Result, out protocol.Output, from Origin) {
	r.Err, r.Deadline = out.Err, out.Deadline
	r.Claims, r.NClaims = out.Claims, out.NClaims
	if out.Err != nil {
		w.Counters.Rejected++
	}
	for _, cl := range r.ClaimList() {
		if cl.Kind == protocol.Executed {
			w.Counters.Executed++
		}
	}
	if out.Send.Kind != 0 {
		w.send(r, out.Send, from)
	}
}

// Fingerprint hashes the world's state canonically: worlds that will behave
// the same get the same fingerprint. It covers the clients (with their
// command budgets, starts, ServerVerified and leak marks), the server's
// slots by RegID (with the client tokens they have seen), the in-flight messages as
// a sorted multiset (slot positions and message ids do not count), the
// handshakes started, the step counts a finite Limit reads, and an
// Explorable adversary's knowledge. Times count relative to Now, so that
// the same situation reached at different times is one state; the counters
// that only feed reports (Sent, Rejected, ...) do not count at all.
func (w *World) Fingerprint() uint64 { return w.fingerprint(-1, -1, 0) }

// FingerprintAfter returns the fingerprint w would have after step s, and
// true, when s is a drop or a duplication w may take now, without taking
// it: such a step only takes a message out of the network, or adds a copy,
// and counts itself. For any other step it returns false. The exhaustive
// explorer asks it before it copies a world to take the step, and copies
// only for a fingerprint it has not seen.
func (w *World) FingerprintAfter(s *Step) (uint64, bool) {
	if !w.networkOnly(s) {
		return 0, false
	}
	if s.Kind == StepDrop {
		return w.fingerprint(s.Slot, -1, StepDrop), true
	}
	return w.fingerprint(-1, s.Slot, StepDup), true
}

// networkOnly reports whether s is a drop or a duplication w may take
// now: a step that only takes a message out of the network or adds a
// copy, and counts itself.
func (w *World) networkOnly(s *Step) bool {
	return (s.Kind == StepDrop || s.Kind == StepDup) && s.At == w.Now && w.check(s) == nil
}

// fingerprint is Fingerprint of w with in-flight slot skip left out, slot
// twice counted twice, and one more step of kind counted (-1, -1, 0: w as
// it is).
func (w *World) fingerprint(skip, twice int32, kind StepKind) uint64 {
	h := fp{h: fpSeed}
	h.pair(uint64(len(w.Clients)), uint64(w.Server.Len()))
	for i := range w.Clients {
		w.hashClient(&h, i, nil)
	}
	// The slots and the in-flight messages are each a set, hashed as the
	// sum of their members' hashes: no order to establish, and a step
	// changes the sum by the members it touches (msum, ssum).
	if !w.ssumOK || w.ssumAt != w.Now {
		w.ssum, w.ssumAt, w.ssumOK = 0, w.Now, true
		w.Server.EachSlot(func(sl *protocol.Slot) { w.ssum += w.slotHash(sl) })
	}
	if !w.msumOK {
		if n := len(w.flight) - len(w.fhash); n > 0 {
			w.fhash = append(w.fhash, make([]uint64, n)...)
		}
		w.msum = 0
		for i := range w.flight {
			if m := &w.flight[i].Msg; m.Kind != 0 {
				w.fhash[i] = messageHash(m)
				w.msum += w.fhash[i]
			}
		}
		w.msumOK = true
	}
	msum, live := w.msum, w.live
	if skip >= 0 {
		msum, live = msum-w.fhash[skip], live-1
	}
	if twice >= 0 {
		msum, live = msum+w.fhash[twice], live+1
	}
	h.pair(w.ssum, msum)
	h.pair(uint64(live), w.Counters.Started)
	w.hashLimits(&h, kind)
	if ex, ok := w.adv.(Explorable); ok {
		h.pair(ex.Fingerprint(), 1)
	}
	return h.sum()
}

// hashClient folds client i (with its book) into h, its tokens named by n.
func (w *World) hashClient(h *fp, i int, n *Names) {
	c, b := &w.Clients[i], &w.books[i]
	flags := uint64(0)
	if b.leaked {
		flags |= 1 << 63
	}
	if b.srvOK {
		flags |= 1 << 62
	}
	h.pair(uint64(c.State)|uint64(c.Tries)<<8|uint64(c.LastSeq)<<32, w.rel(c.Deadline))
	h.pair(w.rel(c.Expires), uint64(b.cmdLeft)|uint64(b.nstart)<<32|flags)
	h.named(&c.Tc, n)
	h.named(&c.Ts, n)
}

// slotHash hashes one server slot, times relative to Now. An idempotent
// slot drops a late Hello whose Tc it has seen, so two slots that differ
// only in Seen answer the same Hello differently: Seen counts, up to its
// last token (the rest is zero).
func (w *World) slotHash(sl *protocol.Slot) uint64 { return w.slotHashAs(sl, sl.RegID, nil) }

// slotHashAs is slotHash of sl with its RegID taken to be id and its
// tokens named by n.
func (w *World) slotHashAs(sl *protocol.Slot, id protocol.RegID, n *Names) uint64 {
	h := fp{h: fpSlotSeed}
	seen := len(sl.Seen)
	for seen > 0 && sl.Seen[seen-1].IsZero() {
		seen--
	}
	h.pair(uint64(id), uint64(sl.State)|uint64(seen)<<8|uint64(sl.LastSeq)<<32)
	h.pair(w.rel(sl.Pending.Expires), w.rel(sl.Current.Expires))
	h.named(&sl.Pending.Tc, n)
	h.named(&sl.Pending.Ts, n)
	h.named(&sl.Current.Tc, n)
	h.named(&sl.Current.Ts, n)
	for i := range seen {
		h.named(&sl.Seen[i], n)
	}
	return h.sum()
}

// unhashSlot takes slot id out of ssum before a step changes it, and
// reports whether ssum is being kept (rehashSlot then puts it back).
func (w *World) unhashSlot(id protocol.RegID) bool {
	if !w.ssumOK || w.ssumAt != w.Now {
		w.ssumOK = false
		return false
	}
	if sl := w.Server.View(id); sl != nil {
		w.ssum -= w.slotHash(sl)
	}
	return true
}

// rehashSlot adds slot id back into ssum after a step, if kept.
func (w *World) rehashSlot(id protocol.RegID, kept bool) {
	if !kept {
		return
	}
	if sl := w.Server.View(id); sl != nil {
		w.ssum += w.slotHash(sl)
	}
}

// hashLimits folds into h the step counts a finite Limit reads, with one
// more step of kind counted.
func (w *World) hashLimits(h *fp, kind StepKind) {
	lim := &w.opts.Limits
	for _, k := range [...]struct {
		limit int
		kind  StepKind
	}{{lim.Drops, StepDrop}, {lim.Dups, StepDup}, {lim.Corrupts, StepCorrupt}, {lim.Injects, StepInject}} {
		if k.limit > 0 && k.limit != Unlimited {
			h.pair(uint64(k.kind), w.Counters.Steps[k.kind]+uint64(b2i(k.kind == kind)))
		}
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// rel is t relative to the world's clock, with Never kept apart.
func (w *World) rel(t protocol.Time) uint64 {
	if t == protocol.Never {
		return 1<<64 - 1
	}
	return uint64(t - w.Now)
}

func messageHash(m *protocol.Message) uint64 { return messageHashAs(m, m.RegID, nil) }

// messageHashAs is messageHash of m with its RegID taken to be id and its
// tokens named by n.
func messageHashAs(m *protocol.Message, id protocol.RegID, n *Names) uint64 {
	h := fp{h: fpSeed}
	h.pair(uint64(m.Kind)|uint64(m.Seq)<<32, uint64(id))
	h.named(&m.Tc, n)
	h.named(&m.Ts, n)
	p := m.Payload
	var x uint64
	for i := 0; i < len(p); i++ {
		x = x<<8 | uint64(p[i])
		if i%8 == 7 {
			h.pair(x, uint64(i))
			x = 0
		}
	}
	h.pair(x, uint64(len(p)))
	return h.sum()
}

// fp is a 64-bit streaming hash over pairs of words: each pair is folded
// in with one 64x64->128-bit multiply whose halves are XORed (the wyhash
// and foldhash round), and the sum goes through the splitmix64 finaliser.
// Deterministic across processes, unlike hash/maphash, so fingerprints can
// be compared between runs.
type fp struct{ h uint64 }

const (
	fpSeed     = 0x243f6a8885a308d3
	fpSlotSeed = 0x13198a2e03707344
	fpA        = 0x9e3779b97f4a7c15
	fpB        = 0xbf58476d1ce4e5b9
)

func (f *fp) pair(a, b uint64) {
	hi, lo := bits.Mul64(a^f.h^fpA, b^fpB)
	f.h = hi ^ lo
}

func (f *fp) token(t protocol.Token) {
	f.pair(binary.LittleEndian.Uint64(t[:8]), binary.LittleEndian.Uint64(t[8:]))
}

func (f *fp) sum() uint64 { return mix64(f.h) }

func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// ErrSnapshot marks a world AppendSnapshot cannot encode or a snapshot
// LoadSnapshot cannot decode.
var ErrSnapshot = errors.New("sim: snapshot")

// AppendSnapshot appends a compact encoding of w to b: everything that
// makes w behave and report as it does (clients, server slots, in-flight
// slots with their ids, free list, counters, clock, token source and
// adversary knowledge), as varints and with symbolic tokens as their
// numbers: a hundred-odd bytes where the world holds kilobytes. The
// exhaustive explorer keeps its frontier as snapshots. LoadSnapshot
// restores one into a world of the same run. Only symbolic token sources
// and NoAdversary or *adversary.Explorer adversaries (with MaxCaptured
// zero) are supported; other worlds fail with ErrSnapshot and b unchanged.
func (w *World) AppendSnapshot(b []byte) ([]byte, error) {
	toks, ok := w.tokens.(*protocol.SymbolicTokens)
	if !ok {
		return b, fmt.Errorf("%w: token source %T", ErrSnapshot, w.tokens)
	}
	var x *adversary.Explorer
	switch a := w.adv.(type) {
	case NoAdversary:
	case *adversary.Explorer:
		if a.Knowledge.MaxCaptured != 0 {
			return b, fmt.Errorf("%w: adversary keeps a bounded window", ErrSnapshot)
		}
		x = a
	default:
		return b, fmt.Errorf("%w: adversary %T", ErrSnapshot, w.adv)
	}
	b = appendTime(b, w.Now)
	b = appendUvarint(b, uint64(w.nextID))
	b = appendUvarint(b, toks.N)
	// The counters, most of them zero in any one world: a mask of the
	// nonzero ones, then their values.
	cs := w.Counters.values()
	var mask uint32
	for i, v := range cs {
		if v != 0 {
			mask |= 1 << i
		}
	}
	b = appendUvarint(b, uint64(mask))
	for _, v := range cs {
		if v != 0 {
			b = appendUvarint(b, v)
		}
	}
	b = appendUvarint(b, uint64(len(w.Clients)))
	for i := range w.Clients {
		cl, bk := &w.Clients[i], &w.books[i]
		b = appendUvarint(b, uint64(cl.RegID))
		var flags byte
		if bk.srvOK {
			flags |= 1
		}
		if bk.leaked {
			flags |= 2
		}
		b = append(b, byte(cl.State), cl.Tries, flags)
		b = appendToken(b, &cl.Tc)
		b = appendToken(b, &cl.Ts)
		b = appendTime(b, cl.Deadline)
		b = appendTime(b, cl.Expires)
		b = appendUvarint(b, uint64(cl.LastSeq))
		b = appendUvarint(b, bk.hs)
		b = appendTime(b, bk.began)
		b = appendUvarint(b, uint64(bk.cmdLeft))
		b = appendUvarint(b, uint64(bk.nstart))
	}
	b = appendUvarint(b, uint64(w.Server.Len()))
	w.Server.EachSlot(func(sl *protocol.Slot) {
		b = appendUvarint(b, uint64(sl.RegID))
		// Seen up to its last nonzero token: its tail is usually empty.
		seen := len(sl.Seen)
		for seen > 0 && sl.Seen[seen-1].IsZero() {
			seen--
		}
		b = append(b, byte(sl.State), byte(seen))
		b = appendToken(b, &sl.Pending.Tc)
		b = appendToken(b, &sl.Pending.Ts)
		b = appendTime(b, sl.Pending.Expires)
		b = appendToken(b, &sl.Current.Tc)
		b = appendToken(b, &sl.Current.Ts)
		b = appendTime(b, sl.Current.Expires)
		b = appendUvarint(b, uint64(sl.LastSeq))
		for i := range seen {
			b = appendToken(b, &sl.Seen[i])
		}
	})
	b = appendUvarint(b, uint64(len(w.flight)))
	for i := range w.flight {
		e := &w.flight[i]
		if e.Msg.Kind == 0 {
			b = append(b, 0)
			continue
		}
		var flags byte = 1
		if e.Guess {
			flags |= 2
		}
		b = append(b, flags, byte(e.From))
		b = appendUvarint(b, uint64(e.ID))
		b = appendMessage(b, &e.Msg)
	}
	b = appendUvarint(b, uint64(len(w.free)))
	for _, i := range w.free {
		b = appendUvarint(b, uint64(i))
	}
	if x == nil {
		return append(b, 0), nil
	}
	k := &x.Knowledge
	b = append(b, 1)
	b = appendUvarint(b, uint64(x.Budget))
	b = appendUvarint(b, uint64(x.Spent))
	b = appendUvarint(b, uint64(k.Insider))
	b = appendUvarint(b, uint64(len(k.Tokens)))
	for i := range k.Tokens {
		b = appendToken(b, &k.Tokens[i])
	}
	b = appendUvarint(b, uint64(len(k.Captured)))
	for i := range k.Captured {
		b = appendMessage(b, &k.Captured[i])
	}
	return b, nil
}

// numCounters is how many values Counters holds.
const numCounters = numStepKinds + 12

// values lists every counter, in a fixed order, for the snapshot.
func (c *Counters) values() (v [numCounters]uint64) {
	copy(v[:], c.Steps[:])
	v[numStepKinds+0], v[numStepKinds+1], v[numStepKinds+2], v[numStepKinds+3] = c.Started, c.Verified, c.Failed, c.HalfVerified
	v[numStepKinds+4], v[numStepKinds+5], v[numStepKinds+6], v[numStepKinds+7] = c.Sent, c.Retransmits, c.Rejected, c.Lost
	v[numStepKinds+8], v[numStepKinds+9], v[numStepKinds+10], v[numStepKinds+11] = c.Issued, c.Executed, c.ForgeGuesses, c.ForgeAccepted
	return v
}

// setValues is values the other way round.
func (c *Counters) setValues(v *[numCounters]uint64) {
	copy(c.Steps[:], v[:])
	c.Started, c.Verified, c.Failed, c.HalfVerified = v[numStepKinds+0], v[numStepKinds+1], v[numStepKinds+2], v[numStepKinds+3]
	c.Sent, c.Retransmits, c.Rejected, c.Lost = v[numStepKinds+4], v[numStepKinds+5], v[numStepKinds+6], v[numStepKinds+7]
	c.Issued, c.Executed, c.ForgeGuesses, c.ForgeAccepted = v[numStepKinds+8], v[numStepKinds+9], v[numStepKinds+10], v[numStepKinds+11]
}

// LoadSnapshot makes w the world AppendSnapshot encoded in b. w must be a
// world of the same run as the one encoded (made by Clone or CopyFrom from
// it or from a world it was cloned from): its handshake, options, token
// source type and adversary's capabilities and targets are kept, and the
// rest is overwritten. It reuses w's storage; the adversary's knowledge
// gets arrays of its own. It returns the bytes after the snapshot.
func (w *World) LoadSnapshot(b []byte) ([]byte, error) {
	r := snapReader{b: b}
	toks, ok := w.tokens.(*protocol.SymbolicTokens)
	if !ok {
		return b, fmt.Errorf("%w: token source %T", ErrSnapshot, w.tokens)
	}
	w.msumOK, w.ssumOK = false, false
	w.Now = r.time()
	w.nextID = MsgID(r.uvarint())
	toks.N = r.uvarint()
	mask := r.uvarint()
	var cs [numCounters]uint64
	for i := range cs {
		if mask&(1<<i) != 0 {
			cs[i] = r.uvarint()
		}
	}
	w.Counters.setValues(&cs)
	if n := r.uvarint(); n != uint64(len(w.Clients)) {
		return b, fmt.Errorf("%w: %d clients, the world has %d", ErrSnapshot, n, len(w.Clients))
	}
	for i := range w.Clients {
		cl, bk := &w.Clients[i], &w.books[i]
		cl.RegID = protocol.RegID(r.uvarint())
		cl.State, cl.Tries = protocol.ClientState(r.byte()), r.byte()
		flags := r.byte()
		bk.srvOK, bk.leaked = flags&1 != 0, flags&2 != 0
		r.token(&cl.Tc)
		r.token(&cl.Ts)
		cl.Deadline, cl.Expires = r.time(), r.time()
		cl.LastSeq = uint32(r.uvarint())
		bk.hs, bk.began = r.uvarint(), r.time()
		bk.cmdLeft, bk.nstart = uint32(r.uvarint()), uint32(r.uvarint())
	}
	w.Server.Reset()
	for n := r.uvarint(); n > 0 && !r.bad; n-- {
		var sl protocol.Slot
		sl.RegID = protocol.RegID(r.uvarint())
		sl.State = protocol.SessionState(r.byte())
		seen := int(r.byte())
		r.token(&sl.Pending.Tc)
		r.token(&sl.Pending.Ts)
		sl.Pending.Expires = r.time()
		r.token(&sl.Current.Tc)
		r.token(&sl.Current.Ts)
		sl.Current.Expires = r.time()
		sl.LastSeq = uint32(r.uvarint())
		if seen > len(sl.Seen) {
			r.bad = true
			break
		}
		for i := range seen {
			r.token(&sl.Seen[i])
		}
		w.Server.Put(sl)
	}
	n := r.uvarint()
	if r.bad || n > uint64(len(b)) {
		return b, fmt.Errorf("%w: truncated", ErrSnapshot)
	}
	w.flight, w.live = slices.Grow(w.flight[:0], int(n))[:n], 0
	// The messages' hashes are computed here, once, for Fingerprint and
	// for every world copied from this one.
	w.fhash = slices.Grow(w.fhash[:0], int(n))[:n]
	msum := uint64(0)
	for i := range w.flight {
		e := &w.flight[i]
		w.fhash[i] = 0
		flags := r.byte()
		if flags&1 == 0 {
			*e = Envelope{}
			continue
		}
		w.live++
		e.Guess, e.From = flags&2 != 0, Origin(r.byte())
		e.ID = MsgID(r.uvarint())
		r.message(&e.Msg)
		w.fhash[i] = messageHash(&e.Msg)
		msum += w.fhash[i]
	}
	n = r.uvarint()
	if r.bad || n > uint64(len(b)) {
		return b, fmt.Errorf("%w: truncated", ErrSnapshot)
	}
	w.free = slices.Grow(w.free[:0], int(n))[:n]
	for i := range w.free {
		w.free[i] = int32(r.uvarint())
	}
	switch r.byte() {
	case 0:
		if _, ok := w.adv.(NoAdversary); !ok && !r.bad {
			return b, fmt.Errorf("%w: no adversary encoded, the world has %T", ErrSnapshot, w.adv)
		}
	case 1:
		x, ok := w.adv.(*adversary.Explorer)
		if !ok {
			return b, fmt.Errorf("%w: an explorer adversary encoded, the world has %T", ErrSnapshot, w.adv)
		}
		x.Budget, x.Spent = int(r.uvarint()), int(r.uvarint())
		k := &x.Knowledge
		k.Insider = protocol.RegID(r.uvarint())
		k.Tokens = nil
		if n := r.uvarint(); n > 0 && n <= uint64(len(b)) {
			k.Tokens = make([]protocol.Token, n)
			for i := range k.Tokens {
				r.token(&k.Tokens[i])
			}
		}
		k.Captured = nil
		if n := r.uvarint(); n > 0 && n <= uint64(len(b)) {
			k.Captured = make([]protocol.Message, n)
			for i := range k.Captured {
				r.message(&k.Captured[i])
			}
		}
	default:
		r.bad = true
	}
	if r.bad {
		return b, fmt.Errorf("%w: truncated or corrupt", ErrSnapshot)
	}
	w.msum, w.msumOK = msum, true
	return r.b[r.i:], nil
}

func appendUvarint(b []byte, x uint64) []byte {
	if x < 0x80 {
		return append(b, byte(x))
	}
	return binary.AppendUvarint(b, x)
}

// appendTime encodes Never as 0, a whole number of seconds s (every time
// the machines set, from whole-second knobs) as 2·zigzag(s)+1, and any
// other time t as 2 followed by zigzag(t).
func appendTime(b []byte, t protocol.Time) []byte {
	if t == protocol.Never {
		return append(b, 0)
	}
	if s := t / protocol.Time(time.Second); s*protocol.Time(time.Second) == t && s > -1<<60 && s < 1<<60 {
		return appendUvarint(b, zigzag(s)<<1|1)
	}
	return appendUvarint(append(b, 2), zigzag(t))
}

func zigzag(t protocol.Time) uint64 { return uint64(t<<1 ^ t>>63) }

func unzigzag(u uint64) protocol.Time { return protocol.Time(u>>1) ^ -protocol.Time(u&1) }

// symbolicHigh is the high half every symbolic token shares.
var symbolicHigh = func() uint64 { t := protocol.Symbolic(0); return binary.BigEndian.Uint64(t[:8]) }()

// appendToken encodes the zero token as 0, a symbolic #k as 1 and k, any
// other as 2 and its 16 bytes.
func appendToken(b []byte, t *protocol.Token) []byte {
	hi, lo := binary.BigEndian.Uint64(t[:8]), binary.BigEndian.Uint64(t[8:])
	switch {
	case hi == symbolicHigh:
		return appendUvarint(append(b, 1), lo)
	case hi == 0 && lo == 0:
		return append(b, 0)
	}
	return append(append(b, 2), t[:]...)
}

func appendMessage(b []byte, m *protocol.Message) []byte {
	b = append(b, byte(m.Kind))
	b = appendUvarint(b, uint64(m.RegID))
	b = appendToken(b, &m.Tc)
	b = appendToken(b, &m.Ts)
	b = appendUvarint(b, uint64(m.Seq))
	b = appendUvarint(b, uint64(len(m.Payload)))
	return append(b, m.Payload...)
}

// snapReader decodes a snapshot from b at i; bad is set, and zero values
// returned, once it runs out of bytes.
type snapReader struct {
	b   []byte
	i   int
	bad bool
}

func (r *snapReader) uvarint() uint64 {
	if r.i < len(r.b) && r.b[r.i] < 0x80 {
		x := uint64(r.b[r.i])
		r.i++
		return x
	}
	return r.longUvarint()
}

func (r *snapReader) longUvarint() uint64 {
	if r.i > len(r.b) {
		r.bad = true
		return 0
	}
	x, n := binary.Uvarint(r.b[r.i:])
	if n <= 0 {
		r.bad, r.i = true, len(r.b)
		return 0
	}
	r.i += n
	return x
}

func (r *snapReader) byte() byte {
	if r.i >= len(r.b) {
		r.bad = true
		return 0
	}
	x := r.b[r.i]
	r.i++
	return x
}

func (r *snapReader) time() protocol.Time {
	switch u := r.uvarint(); {
	case u == 0:
		return protocol.Never
	case u&1 == 1:
		return unzigzag(u>>1) * protocol.Time(time.Second)
	case u == 2:
		return unzigzag(r.uvarint())
	}
	r.bad = true
	return 0
}

func (r *snapReader) token(t *protocol.Token) {
	switch r.byte() {
	case 0:
		*t = protocol.Token{}
	case 1:
		binary.BigEndian.PutUint64(t[:8], symbolicHigh)
		binary.BigEndian.PutUint64(t[8:], r.uvarint())
	case 2:
		if len(r.b)-r.i < len(t) {
			r.bad, r.i = true, len(r.b)
			*t = protocol.Token{}
			return
		}
		copy(t[:], r.b[r.i:])
		r.i += len(t)
	default:
		r.bad = true
		*t = protocol.Token{}
	}
}

func (r *snapReader) message(m *protocol.Message) {
	m.Kind = protocol.Kind(r.byte())
	m.RegID = protocol.RegID(r.uvarint())
	r.token(&m.Tc)
	r.token(&m.Ts)
	m.Seq = uint32(r.uvarint())
	n := r.uvarint()
	if n > uint64(len(r.b)-r.i) {
		r.bad, r.i = true, len(r.b)
		m.Payload = ""
		return
	}
	switch p := r.b[r.i : r.i+int(n)]; string(p) {
	case "":
		m.Payload = ""
	case CommandPayload:
		m.Payload = CommandPayload // no allocation for the payload every command carries
	default:
		m.Payload = string(p)
	}
	r.i += int(n)
}
