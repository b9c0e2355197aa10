package sim

import (
	"fmt"
	"math/bits"
	"slices"
	"unsafe"

	"github.com/verishake/verishake/adversary"
	"github.com/verishake/verishake/protocol"
)

// The walks: for each state type, its fields in a fixed order (see
// encoding.go). A field that only feeds reports is visited as such
// (reportU64, ...): a snapshot keeps it, a fingerprint leaves it out. The
// order of the token fields is the order in which a renamed fingerprint
// names tokens (Names), so it is part of what a state count means: change
// it and the renamed searches merge differently.

// world visits the whole world: the clock, the message and token
// counters, the run's tallies, the clients, the server's slots, the
// messages in flight and the adversary.
func (c *codec) world(w *World) {
	c.time(&w.Now) // a fingerprint's times count from it: itself, always 0
	// Message ids name sends for steps and traces; the in-flight
	// messages count by content.
	c.reportU64((*uint64)(&w.nextID))
	if t, ok := w.tokens.(*protocol.SymbolicTokens); ok {
		// The next fresh token's name: a fresh token is new in any world,
		// and compared only for equality, so worlds that differ only here
		// behave alike (docs/performance.md, "State counts").
		c.reportU64(&t.N)
	}
	c.counters(&w.Counters, &w.opts.Limits)
	c.clients(w)
	c.slots(w)
	c.server(w.Server)
	c.flight(w)
	c.adversary(w)
}

// counters visits the run's tallies. Three kinds count: the step counts a
// finite Limit reads (Enabled offers such a step while its count is below
// the limit), Started (Enabled offers a start while it is below the
// handshake budget) and Retransmits when a Limit bounds it. The rest only feed reports. A snapshot keeps them
// all, as a mask of the nonzero ones and their values: most are zero.
func (c *codec) counters(n *Counters, lim *Limits) {
	if c.op() == opHash {
		var after StepKind // the kind of step the walk sees as taken
		if c.after != nil {
			after = c.after.kind
		}
		c.limited(lim.Drops, StepDrop, n.Steps[StepDrop], after)
		c.limited(lim.Dups, StepDup, n.Steps[StepDup], after)
		c.limited(lim.Corrupts, StepCorrupt, n.Steps[StepCorrupt], after)
		// A flood is charged as an injection (World.charged).
		c.limited(lim.Injects, StepInject, n.Steps[StepInject]+n.Steps[StepFlood], after)
		c.u64(&n.Started)
		if lim.Retransmits > 0 {
			// Enabled reads it; a drop or a duplicate, the steps a walk
			// sees as taken, re-sends nothing.
			c.u64(&n.Retransmits)
		}
		return
	}
	v := n.array()
	var mask uint32
	if c.op() == opWrite {
		for i, x := range v {
			if x != 0 {
				mask |= 1 << i
			}
		}
	} else {
		*v = [numCounters]uint64{}
	}
	c.u32(&mask)
	for m := mask; m != 0; m &= m - 1 {
		if i := bits.TrailingZeros32(m); i < int(numCounters) {
			c.u64(&v[i])
		} else {
			c.r.bad = true
		}
	}
}

// limited hashes the count of kind steps if a finite limit reads it, one
// more if the walk sees a step of that kind as taken. The kind goes in the
// top byte: no count gets there.
func (c *codec) limited(limit int, kind StepKind, count uint64, after StepKind) {
	if limit > 0 && limit != Unlimited {
		c.word(uint64(kind)<<56 | (count + b2u(kind == after)))
	}
}

// numCounters is how many values Counters holds.
const numCounters = numStepKinds + 12

// all lists every counter, in a fixed order: the one list of them.
func (n *Counters) all(p *[numCounters]*uint64) {
	for i := range n.Steps {
		p[i] = &n.Steps[i]
	}
	rest := p[numStepKinds:]
	rest[0], rest[1], rest[2], rest[3] = &n.Started, &n.Verified, &n.Failed, &n.HalfVerified
	rest[4], rest[5], rest[6], rest[7] = &n.Sent, &n.Retransmits, &n.Rejected, &n.Lost
	rest[8], rest[9], rest[10], rest[11] = &n.Issued, &n.Executed, &n.ForgeGuesses, &n.ForgeAccepted
}

// array is n as the array of its counters in the order of all, which is
// the order Counters declares them in (init checks), so that a snapshot
// reads and writes them in one loop.
func (n *Counters) array() *[numCounters]uint64 {
	return (*[numCounters]uint64)(unsafe.Pointer(n))
}

func init() {
	var n Counters
	var p [numCounters]*uint64
	n.all(&p)
	v := n.array()
	for i := range p {
		if p[i] != &v[i] {
			panic(fmt.Sprintf("sim: counter %d of Counters.all is not the %d-th uint64 of Counters", i, i))
		}
	}
	if unsafe.Sizeof(n) != unsafe.Sizeof(*v) {
		panic("sim: Counters holds more than the counters Counters.all lists")
	}
}

// clients visits the honest clients in order, each with its book. In a
// symmetric view they are the shares, which the caller hashes last.
func (c *codec) clients(w *World) {
	if c.shares != nil {
		return
	}
	n := len(w.Clients)
	if got := c.length(n); got != n {
		c.fail(fmt.Errorf("%w: %d clients, the world has %d", ErrSnapshot, got, n))
		return
	}
	for i := range w.Clients {
		c.client(&w.Clients[i], &w.books[i])
	}
}

// client visits a client and the world's book on it.
func (c *codec) client(cl *protocol.Client, b *book) {
	c.regID(&cl.RegID)
	c.u8((*uint8)(&cl.State))
	c.token(&cl.Tc)
	c.token(&cl.Ts)
	c.token(&b.srvTs)
	c.u8(&cl.Tries)
	c.time(&cl.Deadline)
	c.time(&cl.Expires)
	c.u32(&cl.LastSeq)
	c.u64(&cl.Below)
	c.ext(&cl.Ext)
	// The handshake's number is for results and traces; whether the
	// client has started one at all is nstart's.
	c.reportU64(&b.hs)
	c.reportTime(&b.began) // for the latency histogram
	c.u32(&b.cmdLeft)
	c.u32(&b.nstart)
	var spare bool // a flag no longer used, kept so that the byte stays a pair
	c.flags(&spare, &b.leaked)
}

// slots visits the server's slots, a set: hashed as the sum of its
// members' hashes (kept step by step by the plain fingerprint), written
// in RegID order.
func (c *codec) slots(w *World) {
	s := w.Server
	switch c.op() {
	case opHash:
		c.word(uint64(s.Len()))
		if c.kept {
			c.word(w.ssum)
			return
		}
		sum := uint64(0)
		s.EachSlot(func(sl *protocol.Slot) {
			if c.shares != nil && c.honest(sl.RegID) {
				c.shares[3*(sl.RegID-1)] = c.slotHash(sl, sl.RegID)
				return
			}
			sum += c.slotHash(sl, 0)
		})
		c.word(sum)
	case opWrite:
		c.length(s.Len())
		s.EachSlot(c.slot)
	default:
		s.Reset()
		for n := c.length(0); n > 0 && !c.r.bad; n-- {
			var sl protocol.Slot
			c.slot(&sl)
			s.Put(sl)
		}
	}
}

// slotHash is sl's hash as a member of the set of slots, in the share of
// own (0: of none).
func (c *codec) slotHash(sl *protocol.Slot, own protocol.RegID) uint64 {
	m := c.enter(fpSlotSeed, own)
	c.slot(sl)
	return c.leave(m)
}

// slot visits one server slot. An idempotent slot drops a late Hello
// whose Tc it has seen, so Seen counts, up to its last token (the rest is
// zero).
func (c *codec) slot(sl *protocol.Slot) {
	c.regID(&sl.RegID)
	c.u8((*uint8)(&sl.State))
	c.session(&sl.Pending)
	c.session(&sl.Current)
	c.u32(&sl.LastSeq)
	c.tokenPrefix(sl.Seen[:])
	c.ext(&sl.Ext)
}

// ext visits the state a profile's hooks keep (protocol.Ext).
func (c *codec) ext(e *protocol.Ext) {
	c.token(&e.Tokens[0])
	c.token(&e.Tokens[1])
	c.u64(&e.Words[0])
	c.u64(&e.Words[1])
}

// server visits the server's own state besides its slots: its hooks'
// state and a flood's sessions (kept as a count, protocol.Flooded), whose
// expiry counts only while there are any.
func (c *codec) server(s *protocol.Server) {
	c.ext(&s.Ext)
	f := s.Flooded()
	c.count(&f.N)
	if c.op() == opHash {
		d := s.FloodDeadline()
		c.time(&d)
		return
	}
	c.time(&f.Expires)
	if c.op() == opRead {
		s.SetFlooded(f)
	}
}

func (c *codec) session(s *protocol.Session) {
	c.token(&s.Tc)
	c.token(&s.Ts)
	c.time(&s.Expires)
}

// tokenPrefix visits ts up to its last nonzero token; the rest is zero.
func (c *codec) tokenPrefix(ts []protocol.Token) {
	n := uint8(len(ts))
	for n > 0 && ts[n-1].IsZero() {
		n--
	}
	c.u8(&n)
	if int(n) > len(ts) {
		c.r.bad = true
		return
	}
	for i := range ts[:n] {
		c.token(&ts[i])
	}
	if c.op() == opRead {
		clear(ts[n:])
	}
}

// flight visits the in-flight slots. For a fingerprint they are a
// multiset: the number of messages and the sum of their hashes, slot
// positions left out. A snapshot keeps every slot, free or not, and the
// free list, which says where the next message goes.
func (c *codec) flight(w *World) {
	switch c.op() {
	case opHash:
		c.flightHash(w)
	case opWrite:
		c.length(len(w.flight))
		for i := range w.flight {
			e := &w.flight[i]
			used := uint8(b2u(e.Msg.Kind != 0))
			c.u8(&used)
			if used != 0 {
				c.envelope(e)
			}
		}
		c.length(len(w.free))
		for i := range w.free {
			x := uint32(w.free[i])
			c.u32(&x)
		}
	default:
		n := c.length(0)
		w.flight, w.live = slices.Grow(w.flight[:0], n)[:n], 0
		// Fingerprint hashes them afresh (msumOK is false).
		w.fhash = w.fhash[:0]
		for i := range w.flight {
			e := &w.flight[i]
			*e = Envelope{}
			var used uint8
			c.u8(&used)
			switch used {
			case 0:
			case 1:
				c.envelope(e)
				w.live++
				c.r.bad = c.r.bad || e.Msg.Kind == 0
			default:
				c.r.bad = true
			}
		}
		n = c.length(0)
		w.free = slices.Grow(w.free[:0], n)[:n]
		for i := range w.free {
			var x uint32
			c.u32(&x)
			w.free[i] = int32(x)
			c.r.bad = c.r.bad || int(x) >= len(w.flight) || w.flight[x].Msg.Kind != 0
		}
	}
}

// flightHash hashes the messages in flight, as they are or, with c.after,
// after a drop or a duplication. Kept sums serve the plain fingerprint;
// otherwise the messages are hashed in slot order, a duplicate in the
// slot put would give it, so that tokens are named in the order the world
// after the step would name them.
func (c *codec) flightHash(w *World) {
	skip, dup := int32(-1), int32(-1)
	if c.after != nil {
		skip, dup = c.after.skip, c.after.dup
	}
	live := w.live
	switch {
	case skip >= 0:
		live--
	case dup >= 0:
		live++
	}
	c.word(uint64(live))
	if c.kept {
		sum := w.msum
		if skip >= 0 {
			sum -= w.fhash[skip]
		}
		if dup >= 0 {
			sum += w.fhash[dup]
		}
		c.word(sum)
		return
	}
	at, n := int32(-1), int32(len(w.flight))
	if dup >= 0 {
		// Where put would place the copy: the last freed slot, or a new one.
		if at = n; len(w.free) > 0 {
			at = w.free[len(w.free)-1]
		}
		n = max(n, at+1)
	}
	sum := uint64(0)
	for i := range n {
		var m *protocol.Message
		switch {
		case i == at:
			m = &w.flight[dup].Msg
		case i == skip || i >= int32(len(w.flight)):
			continue
		default:
			m = &w.flight[i].Msg
		}
		if m.Kind == 0 {
			continue
		}
		if c.shares != nil && c.honest(m.RegID) {
			c.shares[3*(m.RegID-1)+1] += c.messageHash(m, m.RegID)
			continue
		}
		sum += c.messageHash(m, 0)
	}
	c.word(sum)
}

// envelope visits an in-flight message with who sent it. Only the message
// counts, so that an in-flight message's hash is its Msg's: the id names
// the send, for steps and traces; the origin and the guess mark only decide
// whether a delivery is counted for FORGE (and told to an adversary that
// is an Outcomer, which the explorer's is not).
func (c *codec) envelope(e *Envelope) {
	c.reportU64((*uint64)(&e.ID))
	c.reportU8((*uint8)(&e.From))
	c.reportFlag(&e.Guess)
	c.message(&e.Msg)
}

// messageHash is m's hash as a member of a multiset of messages, in the
// share of own (0: of none).
func (c *codec) messageHash(m *protocol.Message, own protocol.RegID) uint64 {
	mk := c.enter(fpSeed, own)
	c.message(m)
	return c.leave(mk)
}

// message visits a handshake message.
func (c *codec) message(m *protocol.Message) {
	c.u8((*uint8)(&m.Kind))
	c.regID(&m.RegID)
	c.token(&m.Tc)
	c.token(&m.Ts)
	c.u32(&m.Seq)
	c.text(&m.Payload)
}

// adversary visits the adversary: nothing of NoAdversary, the state of an
// *adversary.Explorer, and for a fingerprint the Fingerprint of any other
// Explorable. A snapshot holds the first two only (AppendSnapshot checks).
func (c *codec) adversary(w *World) {
	x, isExplorer := w.adv.(*adversary.Explorer)
	if c.op() == opHash && !isExplorer {
		if ex, ok := w.adv.(Explorable); ok {
			c.word(2)
			c.word(ex.Fingerprint())
		}
		return
	}
	kind := uint8(b2u(isExplorer))
	c.u8(&kind)
	if c.op() == opRead {
		_, none := w.adv.(NoAdversary)
		switch {
		case kind == 0 && !none && !c.r.bad:
			c.err = fmt.Errorf("%w: no adversary encoded, the world has %T", ErrSnapshot, w.adv)
		case kind == 1 && !isExplorer:
			c.err = fmt.Errorf("%w: an explorer adversary encoded, the world has %T", ErrSnapshot, w.adv)
		case kind > 1:
			c.r.bad = true
		}
		if c.err != nil || kind != 1 {
			return
		}
	}
	if isExplorer {
		c.explorer(x)
	}
}

// explorer visits the explorer adversary's budget and knowledge. Its
// capabilities and targets are the run's, kept by LoadSnapshot from the
// world it loads into. Once the budget is spent the knowledge is empty
// (Spend drops it). The captured messages come before the tokens: that is
// the order a renamed fingerprint names them in.
func (c *codec) explorer(x *adversary.Explorer) {
	c.count(&x.Budget)
	c.count(&x.Spent)
	// The insider's own handshake: it outlives the budget.
	c.count(&x.InsiderRuns)
	c.token(&x.InsiderTs)
	k := &x.Knowledge
	c.regID(&k.Insider)
	if c.shares != nil {
		// The symmetric view has always named the adversary's tokens
		// before its captured messages.
		c.names.nameAll(k.Tokens)
	}
	// An empty set is its length alone, in every form: most worlds' is,
	// once the budget is spent, and the explorer fingerprints them all.
	if len(k.Captured) == 0 && c.op() != opRead {
		c.length(0)
	} else {
		c.captured(&k.Captured)
	}
	if len(k.Tokens) == 0 && c.op() != opRead {
		c.length(0)
	} else {
		c.tokenSet(&k.Tokens)
	}
}

// captured visits the adversary's captured messages, a set kept sorted:
// hashed in order, or, with tokens renamed or in a symmetric view, as the
// sum of its members' hashes (renaming changes the order it is kept in).
func (c *codec) captured(ms *[]protocol.Message) {
	n := c.length(len(*ms))
	switch c.op() {
	case opHash:
		if n == 0 {
			return
		}
		if c.names == nil && c.shares == nil {
			// Kept sorted (adversary.Knowledge): in order, while the
			// tokens keep the names it is sorted by.
			for i := range *ms {
				c.message(&(*ms)[i])
			}
			return
		}
		sum := uint64(0)
		for i := range *ms {
			m := &(*ms)[i]
			if c.shares != nil && c.honest(m.RegID) {
				c.shares[3*(m.RegID-1)+2] += c.messageHash(m, m.RegID)
				continue
			}
			sum += c.messageHash(m, 0)
		}
		c.word(sum)
		return
	case opRead:
		// An array of its own: the knowledge of a copy is shared.
		*ms = nil
		if n > 0 {
			*ms = make([]protocol.Message, n)
		}
	}
	for i := range *ms {
		c.message(&(*ms)[i])
	}
}

// honest reports, in a symmetric view, whether id is an honest client's.
func (c *codec) honest(id protocol.RegID) bool {
	return id >= 1 && id <= protocol.RegID(len(c.shares)/3)
}

// tokenSet visits a set of tokens kept sorted, hashed as captured is.
func (c *codec) tokenSet(ts *[]protocol.Token) {
	n := c.length(len(*ts))
	switch c.op() {
	case opHash:
		if n == 0 {
			return
		}
		if c.names == nil && c.shares == nil {
			for i := range *ts {
				c.token(&(*ts)[i]) // kept sorted, as the captured messages
			}
			return
		}
		sum := uint64(0)
		for i := range *ts {
			m := c.enter(fpTokenSeed, c.own)
			c.token(&(*ts)[i])
			sum += c.leave(m)
		}
		c.word(sum)
		return
	case opRead:
		*ts = nil
		if n > 0 {
			*ts = make([]protocol.Token, n)
		}
	}
	for i := range *ts {
		c.token(&(*ts)[i])
	}
}
