package sim

import (
	"slices"

	"github.com/verishake/verishake/adversary"
	"github.com/verishake/verishake/protocol"
)

// Symmetry between honest clients. Nothing in the protocol, the network
// or the adversary tells one honest client from another except its
// RegID: every client runs the same machine with the same budgets, the
// server keeps one slot per RegID by the same rules, and an adversary that
// targets every honest RegID treats them alike. Renaming the honest RegIDs
// by a permutation — in the clients, their slots, the messages in flight
// and the adversary's knowledge — therefore maps every step of a world to
// a step of the renamed world, claims renamed, and the properties, which
// speak of one RegID at a time, hold in both or in neither. An exhaustive
// search may keep one world per class of renamings. docs/performance.md
// gives the argument in full.

// ownRegID stands, in a client's share of SymmetricFingerprint, for that
// client's own RegID; no RegID is all ones.
const ownRegID = protocol.RegID(1<<64 - 1)

// Symmetric reports whether w's honest clients are interchangeable, so
// that SymmetricFingerprint may merge worlds that differ only in which
// client is which: true with no adversary, or an *adversary.Explorer that
// targets every honest RegID, owns none, and keeps all it captures (a
// bounded window depends on arrival order); false for any other adversary,
// which might tell clients apart.
func (w *World) Symmetric() bool {
	switch a := w.adv.(type) {
	case NoAdversary:
		return true
	case *adversary.Explorer:
		if len(a.Targets) != len(w.Clients) || w.Honest(a.Knowledge.Insider) || a.Knowledge.MaxCaptured != 0 {
			return false
		}
		for i, id := range a.Targets {
			if !w.Honest(id) || slices.Contains(a.Targets[:i], id) {
				return false
			}
		}
		return true
	}
	return false
}

// SymmetricFingerprint is Fingerprint up to a renaming of the honest
// clients: worlds that differ only in which honest client is which get
// the same value. It hashes everything that belongs to no honest RegID as
// Fingerprint does, and each honest client's share — the client, its
// slot, the messages in flight and the captured messages that carry its
// RegID, each with the RegID left out, and extra(its RegID), the caller's
// own state about the client — as a multiset over the clients. Two worlds
// with equal shares and equal rest are renamings of each other.
//
// extra must be a function of the client's share alone (the explorer
// passes its claims about the RegID). w must be Symmetric; if it is not,
// the result hashes w as FingerprintNamed does, with extra of each client
// in order, which merges nothing more than Fingerprint does.
func (w *World) SymmetricFingerprint(extra func(protocol.RegID) uint64) uint64 {
	return w.SymmetricFingerprintNamed(nil, extra)
}

// SymmetricFingerprintNamed is SymmetricFingerprint of the world with its
// symbolic tokens named by names (see Names; nil: as they are): worlds
// that differ only in which client is which and in the names of their
// tokens get the same value. extra is called last, so that it may name
// the tokens it hashes with names too.
func (w *World) SymmetricFingerprintNamed(names *Names, extra func(protocol.RegID) uint64) uint64 {
	if !w.Renamable() {
		names = nil
	}
	names.Reset(w)
	n := len(w.Clients)
	if !w.Symmetric() {
		h := fp{h: w.FingerprintNamed(names, nil)}
		for i := range n {
			h.pair(extra(protocol.RegID(i+1)), uint64(i))
		}
		return h.sum()
	}
	// The world's walk, with what belongs to honest client i — its slot,
	// the sum of its in-flight messages, the sum of its captured messages
	// — collected in shares[3i:3i+3] and the clients left out; then the
	// clients, each with its share, as a multiset.
	shares := append(w.shares[:0], make([]uint64, 3*n)...)
	w.shares = shares
	c := hashCodec{h: fp{h: fpSeed}, now: w.Now, names: names, shares: shares}
	c.world(w)
	views := uint64(0)
	for i := range n {
		id := protocol.RegID(i + 1)
		m := c.enter(fpViewSeed, id)
		c.client(&w.Clients[i], &w.books[i])
		c.word(shares[3*i])
		c.word(shares[3*i+1])
		c.word(shares[3*i+2])
		c.word(extra(id))
		views += c.leave(m)
	}
	c.word(uint64(n))
	c.word(views)
	return c.sum()
}
