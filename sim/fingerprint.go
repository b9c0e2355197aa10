package sim

import (
	"github.com/verishake/verishake/protocol"
)

// Fingerprint hashes the world's state canonically: worlds that will behave
// the same get the same fingerprint. It is the world's walk (World's
// encoding, encoding_walk.go) hashed: the clients with their books, the
// server's slots as a set, the in-flight messages as a multiset (slot
// positions and message ids do not count), the handshakes started, the
// step counts a finite Limit reads, and an Explorable adversary's state.
// Times count relative to Now, so that the same situation reached at
// different times is one state; the counters that only feed reports (Sent,
// Rejected, ...) do not count at all.
func (w *World) Fingerprint() uint64 { return w.fingerprint(nil) }

// FingerprintAfter returns the fingerprint w would have after step s, and
// true, when s is a drop or a duplication w may take now, without taking
// it: such a step only takes a message out of the network, or adds a copy,
// and counts itself. For any other step it returns false. The exhaustive
// explorer asks it before it copies a world to take the step, and copies
// only for a fingerprint it has not seen.
func (w *World) FingerprintAfter(s *Step) (uint64, bool) {
	a, ok := w.networkOnly(s)
	if !ok {
		return 0, false
	}
	return w.fingerprint(&a), true
}

// networkOnly reports whether s is a drop or a duplication w may take
// now: a step that only takes a message out of the network or adds a
// copy, and counts itself. It returns the step as the walk sees it.
func (w *World) networkOnly(s *Step) (after, bool) {
	if (s.Kind != StepDrop && s.Kind != StepDup) || s.At != w.Now || w.check(s) != nil {
		return after{}, false
	}
	if s.Kind == StepDrop {
		return after{skip: s.Slot, dup: -1, kind: StepDrop}, true
	}
	return after{skip: -1, dup: s.Slot, kind: StepDup}, true
}

// fingerprint is Fingerprint of w, after a if not nil. The slots and the
// in-flight messages are each a set, hashed as the sum of their members'
// hashes: no order to establish, and a step changes the sum by the members
// it touches (msum, ssum), so the world keeps both once it has been
// fingerprinted.
func (w *World) fingerprint(a *after) uint64 {
	w.KeepHashSums()
	c := hashCodec{h: fp{h: fpSeed}, now: w.Now, kept: true, after: a}
	c.world(w)
	return c.sum()
}

// KeepHashSums computes the slot and message hash sums Fingerprint
// starts from, unless they are kept already; from then on the world, and
// every world copied from it, keeps them step by step. A caller that will
// fingerprint many successors of one world calls it once on the world.
func (w *World) KeepHashSums() {
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
}

// slotHash is a slot's hash as a member of the set ssum sums, times
// relative to Now.
func (w *World) slotHash(sl *protocol.Slot) uint64 {
	c := hashCodec{h: fp{h: fpSlotSeed}, now: w.Now}
	c.slot(sl)
	return c.sum()
}

// messageHash is an in-flight message's hash as a member of the multiset
// msum sums.
func messageHash(m *protocol.Message) uint64 {
	c := hashCodec{h: fp{h: fpSeed}}
	c.message(m)
	return c.sum()
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
