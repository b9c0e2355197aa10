package explore

import (
	"encoding/binary"
	"math/bits"
	"slices"

	"github.com/verishake/verishake/protocol"
	"github.com/verishake/verishake/sim"
)

// ledger is the claim history the invariants need, as a value: the
// multiset of Running and Issued claims not yet matched by a Commit or an
// Executed, kept sorted. It is part of the explored state, because two paths
// to the same machines with different unmatched claims differ in what they
// may still violate. protocol.Monitor checks the same properties online
// with maps, which cannot be copied or hashed cheaply.
//
// A worker keeps its ledgers in buffers and changes them in place; a
// state's ledger travels in the state's snapshot (append, decode).
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

// observe records c, changing l in place, and returns the property c
// violates, if any (l is then unchanged), and whether l changed. Claims
// about RegIDs w does not hold honest are not recorded: the insider's
// sessions are exempt.
func (l *ledger) observe(c protocol.Claim, w *sim.World) (string, bool) {
	if !w.Honest(c.RegID) {
		return "", false
	}
	switch c.Kind {
	case protocol.Running:
		l.add(entry{kind: protocol.Running, role: c.Role, regID: c.RegID, tc: c.Tc, ts: c.Ts})
	case protocol.Issued:
		l.add(entry{kind: protocol.Issued, role: protocol.RoleServer, regID: c.RegID, ts: c.Ts, seq: c.Seq})
	case protocol.Commit:
		// A Commit consumes one Running of the peer with the same values.
		peer, prop := protocol.RoleServer, protocol.AuthC
		if c.Role == protocol.RoleServer {
			peer, prop = protocol.RoleClient, protocol.AuthS
		}
		if !l.remove(entry{kind: protocol.Running, role: peer, regID: c.RegID, tc: c.Tc, ts: c.Ts}) {
			return prop, false
		}
	case protocol.Executed:
		if !l.remove(entry{kind: protocol.Issued, role: protocol.RoleServer, regID: c.RegID, ts: c.Ts, seq: c.Seq}) {
			return protocol.Cmd, false
		}
	default:
		return "", false
	}
	return "", true
}

func (l *ledger) add(e entry) {
	i, _ := slices.BinarySearchFunc(*l, e, compareEntries)
	*l = slices.Insert(*l, i, e)
}

func (l *ledger) remove(e entry) bool {
	i, ok := slices.BinarySearchFunc(*l, e, compareEntries)
	if ok {
		*l = slices.Delete(*l, i, i+1)
	}
	return ok
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

// hashOf is the part of the ledger about RegID id, with id left out, as
// a multiset: a client's share of sim.World.SymmetricFingerprint. The
// ledger holds claims about honest RegIDs only (observe), so the shares of
// the honest RegIDs are all of it.
func (l ledger) hashOf(id protocol.RegID) uint64 { return l.hashOfNamed(id, nil) }

// hashOfNamed is hashOf with the tokens named by names.
func (l ledger) hashOfNamed(id protocol.RegID, names *sim.Names) uint64 {
	sum := uint64(0)
	for _, e := range l {
		if e.regID == id {
			sum += e.hash(0, names)
		}
	}
	return sum
}

// hashNamed is the ledger's hash with its tokens named by names, as a
// multiset (renaming changes the order the ledger is kept in).
func (l ledger) hashNamed(names *sim.Names) uint64 {
	sum := uint64(len(l))
	for _, e := range l {
		sum += e.hash(e.regID, names)
	}
	return sum
}

// hash hashes e with its RegID taken to be id and its tokens named by names.
func (e entry) hash(id protocol.RegID, names *sim.Names) uint64 {
	h := mixer(0x51ed27).add(uint64(e.kind) | uint64(e.role)<<8 | uint64(e.seq)<<32).add(uint64(id))
	a, b := names.Words(&e.tc)
	c, d := names.Words(&e.ts)
	return uint64(h.add(a).add(b).add(c).add(d).add(1))
}

// append encodes l after a world's snapshot.
func (l ledger) append(b []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(l)))
	for _, e := range l {
		b = append(b, byte(e.kind), byte(e.role))
		b = binary.AppendUvarint(b, uint64(e.regID))
		b = appendToken(b, e.tc)
		b = appendToken(b, e.ts)
		b = binary.AppendUvarint(b, uint64(e.seq))
	}
	return b
}

// decode replaces l with the ledger append encoded at the start of b.
func (l *ledger) decode(b []byte) bool {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)) {
		return false
	}
	b = b[k:]
	*l = (*l)[:0]
	for range n {
		if len(b) < 2 {
			return false
		}
		e := entry{kind: protocol.ClaimKind(b[0]), role: protocol.Role(b[1])}
		b = b[2:]
		var id, seq uint64
		ok := true
		id, b, ok = uvarint(b, ok)
		e.regID = protocol.RegID(id)
		e.tc, b, ok = token(b, ok)
		e.ts, b, ok = token(b, ok)
		seq, b, ok = uvarint(b, ok)
		if !ok {
			return false
		}
		e.seq = uint32(seq)
		*l = append(*l, e)
	}
	return true
}

func appendToken(b []byte, t protocol.Token) []byte {
	if t.IsZero() {
		return append(b, 0)
	}
	if k, ok := t.Symbol(); ok {
		return binary.AppendUvarint(append(b, 1), k)
	}
	return append(append(b, 2), t[:]...)
}

func uvarint(b []byte, ok bool) (uint64, []byte, bool) {
	x, n := binary.Uvarint(b)
	if n <= 0 {
		return 0, nil, false
	}
	return x, b[n:], ok
}

func token(b []byte, ok bool) (protocol.Token, []byte, bool) {
	if len(b) == 0 {
		return protocol.Token{}, nil, false
	}
	switch b[0] {
	case 0:
		return protocol.Token{}, b[1:], ok
	case 1:
		k, rest, ok := uvarint(b[1:], ok)
		return protocol.Symbolic(k), rest, ok
	case 2:
		var t protocol.Token
		if len(b) < 1+len(t) {
			return t, nil, false
		}
		copy(t[:], b[1:])
		return t, b[1+len(t):], ok
	}
	return protocol.Token{}, nil, false
}

// mixer is a small multiply-rotate hash over 64-bit words.
type mixer uint64

func (h mixer) add(w uint64) mixer {
	return mixer(bits.RotateLeft64(uint64(h)^w*0x9e3779b97f4a7c15, 31) * 0xbf58476d1ce4e5b9)
}

func (h mixer) token(t protocol.Token) mixer {
	return h.add(binary.LittleEndian.Uint64(t[:8])).add(binary.LittleEndian.Uint64(t[8:]))
}
