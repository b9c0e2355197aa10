package explore

import (
	"encoding/binary"
	"math/bits"
	"slices"

	"github.com/verishake/verishake/protocol"
)

// ledger is the claim history the invariants need, as a value: the
// multiset of Running and Issued claims not yet matched by a Commit or an
// Executed, kept sorted. It is part of the explored state, because two paths
// to the same machines with different unmatched claims differ in what they
// may still violate. protocol.Monitor checks the same properties online
// with maps, which cannot be copied or hashed cheaply.
type ledger []entry

type entry struct {
	kind   protocol.ClaimKind // Running or Issued
	role   protocol.Role
	regID  protocol.RegID
	tc, ts protocol.Token
	seq    uint32
}

func compareEntries(a, b entry) int {
	switch {
	case a.kind != b.kind:
		return int(a.kind) - int(b.kind)
	case a.role != b.role:
		return int(a.role) - int(b.role)
	case a.regID != b.regID:
		if a.regID < b.regID {
			return -1
		}
		return 1
	case a.seq != b.seq:
		if a.seq < b.seq {
			return -1
		}
		return 1
	}
	if c := slices.Compare(a.tc[:], b.tc[:]); c != 0 {
		return c
	}
	return slices.Compare(a.ts[:], b.ts[:])
}

// observe records c and returns the ledger after it (a copy when it
// changes: ledgers are shared between a state and its successors) and the
// property c violates, if any.
func (l ledger) observe(c protocol.Claim, honest func(protocol.RegID) bool) (ledger, string) {
	if !honest(c.RegID) {
		return l, ""
	}
	switch c.Kind {
	case protocol.Running:
		return l.add(entry{kind: protocol.Running, role: c.Role, regID: c.RegID, tc: c.Tc, ts: c.Ts}), ""
	case protocol.Issued:
		return l.add(entry{kind: protocol.Issued, role: protocol.RoleServer, regID: c.RegID, ts: c.Ts, seq: c.Seq}), ""
	case protocol.Commit:
		// A Commit consumes one Running of the peer with the same values.
		peer, prop := protocol.RoleServer, protocol.AuthC
		if c.Role == protocol.RoleServer {
			peer, prop = protocol.RoleClient, protocol.AuthS
		}
		if m, ok := l.remove(entry{kind: protocol.Running, role: peer, regID: c.RegID, tc: c.Tc, ts: c.Ts}); ok {
			return m, ""
		}
		return l, prop
	case protocol.Executed:
		if m, ok := l.remove(entry{kind: protocol.Issued, role: protocol.RoleServer, regID: c.RegID, ts: c.Ts, seq: c.Seq}); ok {
			return m, ""
		}
		return l, protocol.Cmd
	}
	return l, ""
}

func (l ledger) add(e entry) ledger {
	i, _ := slices.BinarySearchFunc(l, e, compareEntries)
	out := make(ledger, 0, len(l)+1)
	out = append(out, l[:i]...)
	out = append(out, e)
	return append(out, l[i:]...)
}

func (l ledger) remove(e entry) (ledger, bool) {
	i, ok := slices.BinarySearchFunc(l, e, compareEntries)
	if !ok {
		return l, false
	}
	out := make(ledger, 0, len(l)-1)
	out = append(out, l[:i]...)
	return append(out, l[i+1:]...), true
}

// hash is the ledger's contribution to a state's fingerprint: a fixed
// function, so that state counts are the same in every run.
func (l ledger) hash() uint64 {
	h := mixer(len(l))
	for _, e := range l {
		h = h.add(uint64(e.kind) | uint64(e.role)<<8 | uint64(e.seq)<<32)
		h = h.add(uint64(e.regID))
		h = h.token(e.tc).token(e.ts)
	}
	return uint64(h)
}

// mixer is a small multiply-rotate hash over 64-bit words.
type mixer uint64

func (h mixer) add(w uint64) mixer {
	return mixer(bits.RotateLeft64(uint64(h)^w*0x9e3779b97f4a7c15, 31) * 0xbf58476d1ce4e5b9)
}

func (h mixer) token(t protocol.Token) mixer {
	return h.add(binary.LittleEndian.Uint64(t[:8])).add(binary.LittleEndian.Uint64(t[8:]))
}
