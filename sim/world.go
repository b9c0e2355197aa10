package sim

import (
	"errors"
	"fmt"
	"slices"

	"github.com/verishake/verishake/adversary"
	"github.com/verishake/verishake/protocol"
)

// Limits bound the nondeterministic steps Enabled offers, so that an
// exhaustive search stays finite. A limit counts steps of that kind already
// taken (Counters.Steps); zero offers none. The random scheduler does not
// call Enabled and ignores them.
type Limits struct {
	Drops, Dups, Corrupts, Injects int
	// StartsPerClient bounds the handshakes Enabled lets one client start
	// (zero: only the world's Handshakes budget bounds them).
	StartsPerClient int
	// Retransmits bounds the client re-sends along a path, all clients
	// together (Counters.Retransmits; zero: only the profile's retries
	// bound them). Once that many were sent, a client timer that would
	// re-send is not offered, and so no later timer either (time is
	// monotone); a timer that gives up still is. The fault-free
	// continuation of AGREE lifts the bound: it runs the protocol as it is.
	Retransmits int
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
	// srvTs is the Ts of the last session of the current handshake the
	// server verified (zero: none): a server Commit carrying the
	// handshake's Tc, whatever the client has accepted by then.
	srvTs  protocol.Token
	leaked bool // the session's tokens were handed to the adversary
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

	frame   []byte             // scratch: a corrupt or inject step's frame
	moves   []protocol.Message // scratch: Enabled's adversary moves
	guesses []protocol.Token   // scratch: the tokens a guess may hit
	shares  []uint64           // scratch: SymmetricFingerprint's client shares
}

// ErrStep marks a step Apply cannot take: it names no in-flight message,
// no client, a time in the past, or a message that has no wire form.
var ErrStep = errors.New("sim: invalid step")

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

// ServerVerified returns the Ts of the last session of client c's current
// handshake that the server verified, and whether there is one: a server
// Commit carrying the handshake's Tc since the client started it, whether
// or not the client had accepted the Validation by then. A later expiry of
// the server's session does not undo it. A client that Failed while there
// is one is a half-verified handshake (AGREE).
func (w *World) ServerVerified(c int) (protocol.Token, bool) {
	ts := w.books[c].srvTs
	return ts, !ts.IsZero()
}

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
	c.frame, c.moves, c.shares, c.guesses = nil, nil, nil, nil
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
	tokens, adv, frame, moves, shares, guesses := w.tokens, w.adv, w.frame, w.moves, w.shares, w.guesses
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
	w.frame, w.moves, w.shares, w.guesses = frame, moves, shares, guesses
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
	// Time is monotone and shared: only the timers due first may fire
	// (ties in any order); a later one waits for them.
	if next := w.NextDeadline(); next != protocol.Never {
		at := max(w.Now, next)
		spent := lim.Retransmits > 0 && w.Counters.Retransmits >= uint64(lim.Retransmits)
		for i := range w.Clients {
			if c := &w.Clients[i]; awaiting(c.State) && c.Deadline == next && (!spent || c.GivesUp(w.h, at)) {
				dst = append(dst, Step{Kind: StepClientTimer, At: at, Client: int32(i)})
			}
		}
		w.Server.EachSlot(func(sl *protocol.Slot) {
			if sl.Deadline() == next {
				dst = append(dst, Step{Kind: StepServerTimer, At: at, RegID: sl.RegID})
			}
		})
		if w.Server.FloodDeadline() == next {
			dst = append(dst, Step{Kind: StepServerTimer, At: at, RegID: FloodRegID})
		}
	}
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
	return w.adversaryMoves(dst)
}

// NextDeadline is the earliest deadline of any pending timer, a client's
// or a server slot's (Never: none). No step may happen after it before the
// timers due at it have fired.
func (w *World) NextDeadline() protocol.Time {
	next := protocol.Never
	for i := range w.Clients {
		if c := &w.Clients[i]; awaiting(c.State) {
			next = min(next, c.Deadline)
		}
	}
	w.Server.EachSlot(func(sl *protocol.Slot) { next = min(next, sl.Deadline()) })
	return min(next, w.Server.FloodDeadline())
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
	case StepFlood:
		if s.Count < 1 {
			return fmt.Errorf("%w: flood of %d Hellos", ErrStep, s.Count)
		}
	case StepInject, StepInsider:
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
		if s.RegID == FloodRegID {
			out := w.Server.ExpireFlood(w.Now)
			r.Err, r.Deadline = out.Err, out.Deadline
			break
		}
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
	case StepFlood:
		w.flood(r, s)
	case StepInsider:
		w.insider(r, s)
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
// A push to a RegID no honest client holds (the insider's, a forged one)
// goes to a device the adversary owns or to none: the adversary takes it
// as it is sent, and it never waits in flight (SentSlot stays -1).
func (w *World) send(r *Result, m protocol.Message, from Origin) {
	w.nextID++
	r.Sent = Envelope{ID: w.nextID, From: from, Msg: m}
	w.Counters.Sent++
	w.adv.Observe(m)
	if !m.Kind.Upstream() && !w.Honest(m.RegID) {
		w.Counters.Lost++
		return
	}
	r.SentSlot = w.put(r.Sent)
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
			// docs/properties.md: a session's tokens leak once its client has
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
		if !b.srvTs.IsZero() {
			w.Counters.HalfVerified++
		}
		// docs/properties.md: a failed client has abandoned its session.
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
			if b.hs != 0 && cl.Tc.Equal(c.Tc) {
				// The server verified a session of this handshake, maybe
				// before the client accepted its Validation.
				first := b.srvTs.IsZero()
				b.srvTs = cl.Ts
				if first && c.State == protocol.ClientFailed {
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
