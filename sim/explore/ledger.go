package explore

import (
	"encoding/binary"
	"math/bits"

	"github.com/verishake/verishake/protocol"
	"github.com/verishake/verishake/sim"
)

// ledger is the claim history the invariants need, as a value: a
// protocol.Ledger, the multiset of Running and Issued claims not yet
// matched by a Commit or an Executed, kept sorted — the same checker the
// simulator's monitors and trace validation use. It is part of the
// explored state, because two paths to the same machines with different
// unmatched claims differ in what they may still violate.
//
// A worker keeps its ledgers in buffers and changes them in place; a
// state's ledger travels in the state's snapshot (append, decode).
type ledger protocol.Ledger

// observe records c, changing l in place, and returns the property c
// violates, if any (l is then unchanged), and whether l changed. Claims
// about RegIDs w does not hold honest are not recorded: the insider's
// sessions are exempt.
func (l *ledger) observe(c protocol.Claim, w *sim.World) (string, bool) {
	if !w.Honest(c.RegID) {
		return "", false
	}
	switch c.Kind {
	case protocol.Running, protocol.Issued, protocol.Commit, protocol.Executed:
	default:
		return "", false
	}
	if v, bad := (*protocol.Ledger)(l).Observe(c); bad {
		return v.Property, false
	}
	return "", true
}

// hash is the ledger's contribution to a state's fingerprint: a fixed
// function, so that state counts are the same in every run.
func (l ledger) hash() uint64 {
	h := mixer(len(l))
	for i := range l {
		e := &l[i]
		h = h.add(uint64(e.Kind) | uint64(e.Role)<<8 | uint64(e.Seq)<<32)
		h = h.add(uint64(e.RegID))
		h = h.token(e.Tc).token(e.Ts)
	}
	return uint64(h)
}

// hashOf is the part of the ledger about RegID id, with id left out, as
// a multiset: a client's share of sim.World.SymmetricFingerprint. The
// ledger holds claims about honest RegIDs only (observe), so the shares of
// the honest RegIDs are all of it.
func (l ledger) hashOf(id protocol.RegID) uint64 { return l.hashOfNamed(id, nil) }

// hashOfNamed is hashOf with the tokens named by names.
func (l ledger) hashOfNamed(id protocol.RegID, names *sim.Names) uint64 {
	sum := uint64(0)
	for i := range l {
		if l[i].RegID == id {
			sum += hashClaim(&l[i], 0, names)
		}
	}
	return sum
}

// hashNamed is the ledger's hash with its tokens named by names, as a
// multiset (renaming changes the order the ledger is kept in).
func (l ledger) hashNamed(names *sim.Names) uint64 {
	sum := uint64(len(l))
	for i := range l {
		sum += hashClaim(&l[i], l[i].RegID, names)
	}
	return sum
}

// hashClaim hashes a ledger's claim e with its RegID taken to be id and
// its tokens named by names.
func hashClaim(e *protocol.Claim, id protocol.RegID, names *sim.Names) uint64 {
	h := mixer(0x51ed27).add(uint64(e.Kind) | uint64(e.Role)<<8 | uint64(e.Seq)<<32).add(uint64(id))
	a, b := names.Words(&e.Tc)
	c, d := names.Words(&e.Ts)
	return uint64(h.add(a).add(b).add(c).add(d).add(1))
}

// append encodes l after a world's snapshot.
func (l ledger) append(b []byte) []byte {
	b, _ = protocol.Ledger(l).AppendBinary(b) // it never fails
	return b
}

// decode replaces l with the ledger append encoded as the rest of a
// snapshot, b.
func (l *ledger) decode(b []byte) bool {
	return (*protocol.Ledger)(l).UnmarshalBinary(b) == nil
}

// mixer is a small multiply-rotate hash over 64-bit words.
type mixer uint64

func (h mixer) add(w uint64) mixer {
	return mixer(bits.RotateLeft64(uint64(h)^w*0x9e3779b97f4a7c15, 31) * 0xbf58476d1ce4e5b9)
}

func (h mixer) token(t protocol.Token) mixer {
	return h.add(binary.LittleEndian.Uint64(t[:8])).add(binary.LittleEndian.Uint64(t[8:]))
}
