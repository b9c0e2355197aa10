package sim

import (
	"math/bits"

	"github.com/verishake/verishake/protocol"
)

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
	w.hashExtras(&h, nil)
	if ex, ok := w.adv.(Explorable); ok {
		h.pair(ex.Fingerprint(), 1)
	}
	h.ext(&w.Server.Ext, nil)
	return h.sum()
}

// hashClient folds client i (with its book) into h, its tokens named by n.
func (w *World) hashClient(h *fp, i int, n *Names) {
	c, b := &w.Clients[i], &w.books[i]
	flags := uint64(0)
	if b.leaked {
		flags |= 1 << 63
	}
	h.pair(uint64(c.State)|uint64(c.Tries)<<8|uint64(c.LastSeq)<<32, w.rel(c.Deadline))
	if c.Below != 0 {
		h.pair(c.Below, 1) // the commands run below LastSeq (CommandWindow); usually none
	}
	h.pair(w.rel(c.Expires), uint64(b.cmdLeft)|uint64(b.nstart)<<32|flags)
	h.named(&c.Tc, n)
	h.named(&c.Ts, n)
	h.named(&b.srvTs, n)
	h.ext(&c.Ext, n)
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
	h.ext(&sl.Ext, n)
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
	}{{lim.Drops, StepDrop}, {lim.Dups, StepDup}, {lim.Corrupts, StepCorrupt}} {
		if k.limit > 0 && k.limit != Unlimited {
			h.pair(uint64(k.kind), w.Counters.Steps[k.kind]+uint64(b2i(k.kind == kind)))
		}
	}
	if lim.Injects > 0 && lim.Injects != Unlimited {
		h.pair(uint64(StepInject), w.charged()+uint64(b2i(kind == StepInject || kind == StepFlood)))
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

func (f *fp) sum() uint64 { return mix64(f.h) }

func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// The state of a profile's hooks (protocol.Ext in Client, Slot and
// Server). It is folded in only once a hook has written it, so that a
// world without hooks hashes as it did before hooks existed; its tokens
// are named with the world's.

// fpExtMark opens a written Ext in the hash stream.
const fpExtMark = 0x452821e638d01377

// ext folds e into h, its tokens named by n, unless it is zero: a check
// inlined at every call, the hashing out of line.
func (h *fp) ext(e *protocol.Ext, n *Names) {
	if !e.IsZero() {
		h.extWritten(e, n)
	}
}

func (h *fp) extWritten(e *protocol.Ext, n *Names) {
	h.pair(fpExtMark, uint64(len(e.Words)))
	for i := range e.Words {
		h.pair(e.Words[i], uint64(i))
	}
	for i := range e.Tokens {
		h.named(&e.Tokens[i], n)
	}
}
