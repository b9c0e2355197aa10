package protocol

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
)

// Ledger checks AUTH-C, AUTH-S and CMD as Lowe's injective agreement, one
// claim at a time: every Commit consumes one earlier unmatched Running of
// the peer with the same (RegID, Tc, Ts), and every Executed one earlier
// unmatched Issued with the same (RegID, Ts, Seq). It is the one checker
// of these properties: the simulator's monitors, the explorer's states and
// transport's trace validation all keep Ledgers.
//
// A Ledger is a value: the multiset of unmatched Running and Issued claims,
// sorted, so that two ledgers holding the same claims are equal slices.
// Copy it with append(dst[:0], l...), hash it by ranging over its claims,
// and encode it with AppendBinary. Change it only through Observe and
// Forget, which keep it sorted and reuse its storage: a caller that keeps
// its ledgers in buffers allocates nothing once they have grown.
//
// Matched claims are deleted, so a ledger holds only what may still be
// matched: it grows with sessions left unfinished, not with the run. The
// ledger knows nothing of honesty: claims about RegIDs outside the honest
// clients (the insider's, forged ones) are the caller's to leave out.
type Ledger []Claim

// Observe records c and returns the violation it completes, if any; the
// ledger is then unchanged. Otherwise a Running or Issued claim is added
// and a Commit or Executed claim consumes its match. A claim of another
// kind, or a Running or Commit by neither role, changes nothing.
func (l *Ledger) Observe(c Claim) (Violation, bool) {
	switch c.Kind {
	case Running:
		if c.Role == RoleClient || c.Role == RoleServer {
			l.add(Claim{Kind: Running, Role: c.Role, RegID: c.RegID, Tc: c.Tc, Ts: c.Ts})
		}
	case Issued:
		l.add(issuedBy(c))
	case Commit:
		switch c.Role {
		case RoleClient:
			if !l.remove(runningFor(RoleServer, c)) {
				return Violation{AuthC, c, "client accepted a session no unmatched server Running vouches for"}, true
			}
		case RoleServer:
			if !l.remove(runningFor(RoleClient, c)) {
				return Violation{AuthS, c, "server verified a session no unmatched client Running vouches for"}, true
			}
		}
	case Executed:
		if !l.remove(issuedBy(c)) {
			return Violation{Cmd, c, "client executed a command the server did not issue, or executed it again"}, true
		}
	}
	return Violation{}, false
}

// runningFor is the Running of role that a Commit c matches: the same
// RegID, Tc and Ts. Tc is part of the match: a Commit on the right Ts but
// another Tc agrees with no one.
func runningFor(role Role, c Claim) Claim {
	return Claim{Kind: Running, Role: role, RegID: c.RegID, Tc: c.Tc, Ts: c.Ts}
}

// issuedBy is the Issued entry a command claim stands for: a command is
// named by (RegID, Ts, Seq), and only the server issues.
func issuedBy(c Claim) Claim {
	return Claim{Kind: Issued, Role: RoleServer, RegID: c.RegID, Ts: c.Ts, Seq: c.Seq}
}

// Forget deletes every unmatched claim of the session (id, ts), for a
// caller that knows no claim of it can still come (the simulator's
// retirement window).
func (l *Ledger) Forget(id RegID, ts Token) {
	*l = slices.DeleteFunc(*l, func(c Claim) bool { return c.RegID == id && c.Ts == ts })
}

func (l *Ledger) add(c Claim) {
	i, _ := slices.BinarySearchFunc(*l, c, compareClaims)
	*l = slices.Insert(*l, i, c)
}

func (l *Ledger) remove(c Claim) bool {
	i, ok := slices.BinarySearchFunc(*l, c, compareClaims)
	if ok {
		*l = slices.Delete(*l, i, i+1)
	}
	return ok
}

// compareClaims is the ledger's order: by kind, role, RegID, sequence
// number, then Tc and Ts. (The explorer's fingerprints hash a ledger in this
// order; changing it changes every fingerprint, though not what they merge.)
func compareClaims(a, b Claim) int {
	switch {
	case a.Kind != b.Kind:
		return int(a.Kind) - int(b.Kind)
	case a.Role != b.Role:
		return int(a.Role) - int(b.Role)
	case a.RegID != b.RegID:
		if a.RegID < b.RegID {
			return -1
		}
		return 1
	case a.Seq != b.Seq:
		if a.Seq < b.Seq {
			return -1
		}
		return 1
	}
	if c := compareTokens(&a.Tc, &b.Tc); c != 0 {
		return c
	}
	return compareTokens(&a.Ts, &b.Ts)
}

// compareTokens orders tokens as byte strings, a word at a time.
func compareTokens(a, b *Token) int {
	for _, off := range [2]int{0, 8} {
		x, y := binary.BigEndian.Uint64(a[off:]), binary.BigEndian.Uint64(b[off:])
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
	}
	return 0
}

// CheckClaims runs a fresh Ledger over a claim trace and returns every
// violation in order. Claims about RegIDs honest does not hold are left
// out; a nil honest holds every RegID honest.
func CheckClaims(trace []Claim, honest func(RegID) bool) []Violation {
	var l Ledger
	var vs []Violation
	for _, c := range trace {
		if honest != nil && !honest(c.RegID) {
			continue
		}
		if v, bad := l.Observe(c); bad {
			vs = append(vs, v)
		}
	}
	return vs
}

// ErrLedger marks bytes that are not a ledger's encoding.
var ErrLedger = errors.New("protocol: not a ledger encoding")

// AppendBinary appends l's encoding to b (encoding.BinaryAppender): the
// number of claims, then each claim's kind, role, RegID, Tc, Ts and
// sequence number, with symbolic tokens written as their numbers. It never
// fails.
func (l Ledger) AppendBinary(b []byte) ([]byte, error) {
	b = binary.AppendUvarint(b, uint64(len(l)))
	for i := range l {
		c := &l[i]
		b = append(b, byte(c.Kind), byte(c.Role))
		b = binary.AppendUvarint(b, uint64(c.RegID))
		b = appendLedgerToken(b, &c.Tc)
		b = appendLedgerToken(b, &c.Ts)
		b = binary.AppendUvarint(b, uint64(c.Seq))
	}
	return b, nil
}

// UnmarshalBinary replaces l, reusing its storage, with the ledger that
// AppendBinary encoded as the whole of b. Bytes that are not one — cut
// short, followed by more, holding a claim a ledger cannot hold, or out of
// order — give an error wrapping ErrLedger and leave l empty.
func (l *Ledger) UnmarshalBinary(b []byte) error {
	*l = (*l)[:0]
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)) {
		return fmt.Errorf("%w: bad claim count", ErrLedger)
	}
	b = b[k:]
	for i := range n {
		var c Claim
		var ok bool
		if c, b, ok = decodeLedgerClaim(b); !ok {
			*l = (*l)[:0]
			return fmt.Errorf("%w: claim %d of %d cut short or malformed", ErrLedger, i+1, n)
		}
		if c.Kind != Running && c.Kind != Issued || c.Role != RoleClient && c.Role != RoleServer {
			*l = (*l)[:0]
			return fmt.Errorf("%w: claim %d is a %v by %v, not an unmatched Running or Issued", ErrLedger, i+1, c.Kind, c.Role)
		}
		if len(*l) > 0 && compareClaims((*l)[len(*l)-1], c) > 0 {
			*l = (*l)[:0]
			return fmt.Errorf("%w: claim %d out of order", ErrLedger, i+1)
		}
		*l = append(*l, c)
	}
	if len(b) > 0 {
		*l = (*l)[:0]
		return fmt.Errorf("%w: %d bytes after the last claim", ErrLedger, len(b))
	}
	return nil
}

func decodeLedgerClaim(b []byte) (Claim, []byte, bool) {
	var c Claim
	if len(b) < 2 {
		return c, nil, false
	}
	c.Kind, c.Role = ClaimKind(b[0]), Role(b[1])
	b = b[2:]
	id, b, ok := ledgerUvarint(b)
	if !ok {
		return c, nil, false
	}
	c.RegID = RegID(id)
	if c.Tc, b, ok = ledgerToken(b); !ok {
		return c, nil, false
	}
	if c.Ts, b, ok = ledgerToken(b); !ok {
		return c, nil, false
	}
	seq, b, ok := ledgerUvarint(b)
	if !ok || seq > 1<<32-1 {
		return c, nil, false
	}
	c.Seq = uint32(seq)
	return c, b, true
}

// Token encodings in a ledger: the zero token, a symbolic one by its
// number, any other in full.
const (
	ledgerZero     = 0
	ledgerSymbolic = 1
	ledgerBytes    = 2
)

func appendLedgerToken(b []byte, t *Token) []byte {
	if t.IsZero() {
		return append(b, ledgerZero)
	}
	if k, ok := t.Symbol(); ok {
		return binary.AppendUvarint(append(b, ledgerSymbolic), k)
	}
	return append(append(b, ledgerBytes), t[:]...)
}

func ledgerUvarint(b []byte) (uint64, []byte, bool) {
	x, n := binary.Uvarint(b)
	if n <= 0 {
		return 0, nil, false
	}
	return x, b[n:], true
}

func ledgerToken(b []byte) (Token, []byte, bool) {
	var t Token
	if len(b) == 0 {
		return t, nil, false
	}
	switch b[0] {
	case ledgerZero:
		return t, b[1:], true
	case ledgerSymbolic:
		k, rest, ok := ledgerUvarint(b[1:])
		return Symbolic(k), rest, ok
	case ledgerBytes:
		if len(b) < 1+len(t) {
			return t, nil, false
		}
		copy(t[:], b[1:])
		return t, b[1+len(t):], true
	}
	return t, nil, false
}
