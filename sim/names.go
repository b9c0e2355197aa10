package sim

import (
	"encoding/binary"
	"math/bits"

	"github.com/verishake/verishake/adversary"
	"github.com/verishake/verishake/protocol"
)

// Token renaming. The machines, the monitors and the explorer's adversary
// use a token only to compare it with another (Token.Equal, IsZero; the
// explorer's adversary never guesses), and a fresh token is one no part
// of the world holds. So renaming the world's symbolic tokens by any
// bijection that fixes the constants of the model maps every step to a
// step, claims renamed, and keeps every property: worlds that differ only
// in the names of their tokens are one state. docs/performance.md gives
// the argument in full.

// Names renames the symbolic tokens a world's own source made (#1 to #N,
// N the source's count) in order of first occurrence in a fixed traversal
// of the world, so that a fingerprint taken through it does not depend on
// the order in which the world happened to draw its tokens. Every other
// token — zero, a plain token, the adversary's own, the static server
// token — is a constant of the model and keeps its name. A nil *Names
// renames nothing. Reset it for each world; it is not safe for concurrent
// use.
type Names struct {
	limit uint64   // tokens #1..#limit are renamed
	names []uint32 // names[k]: #k's new number, 0 while unnamed
	next  uint32
}

// Reset forgets the names given and prepares to rename w's tokens; with a
// source other than symbolic tokens nothing is renamed.
func (n *Names) Reset(w *World) {
	if n == nil {
		return
	}
	n.limit, n.next = 0, 0
	if t, ok := w.tokens.(*protocol.SymbolicTokens); ok {
		n.limit = t.N
	}
	if uint64(len(n.names)) <= n.limit {
		n.names = make([]uint32, n.limit+1)
		return
	}
	clear(n.names[:n.limit+1])
}

// Of returns t's new name, naming it now if it has none yet.
func (n *Names) Of(t protocol.Token) protocol.Token {
	lo, hi := n.Words(&t)
	binary.LittleEndian.PutUint64(t[:8], lo)
	binary.LittleEndian.PutUint64(t[8:], hi)
	return t
}

// name is the new number of #k, 1 <= k <= limit.
func (n *Names) name(k uint64) uint64 {
	if n.names[k] == 0 {
		n.next++
		n.names[k] = n.next
	}
	return uint64(n.names[k])
}

// symbolicLo is symbolicHigh as Words reads a token's first half.
var symbolicLo = bits.ReverseBytes64(symbolicHigh)

// Words returns the token n names t as two words (its halves, little
// endian), without building it: for hashing, on the fingerprint's hot path.
func (n *Names) Words(t *protocol.Token) (lo, hi uint64) {
	lo, hi = binary.LittleEndian.Uint64(t[:8]), binary.LittleEndian.Uint64(t[8:])
	// A symbolic token #k holds k big-endian in its second half.
	if k := bits.ReverseBytes64(hi); n != nil && lo == symbolicLo && k-1 < n.limit {
		hi = bits.ReverseBytes64(n.name(k))
	}
	return lo, hi
}

// nameAll names the tokens of ts that have no name yet, in order.
func (n *Names) nameAll(ts []protocol.Token) {
	for i := range ts {
		n.Words(&ts[i])
	}
}

// Renamable reports whether FingerprintNamed may rename w's tokens: its
// source is symbolic tokens, and its adversary has none or is an
// *adversary.Explorer keeping all it captures, whose knowledge the
// renaming reaches. Any other adversary keeps tokens where the renaming
// cannot follow them.
func (w *World) Renamable() bool {
	if _, ok := w.tokens.(*protocol.SymbolicTokens); !ok {
		return false
	}
	switch a := w.adv.(type) {
	case NoAdversary:
		return true
	case *adversary.Explorer:
		return a.Knowledge.MaxCaptured == 0
	}
	return false
}

// FingerprintNamed is Fingerprint of the world with its tokens renamed by
// names (Reset here for w): worlds that differ only in the names of their
// symbolic tokens get the same value. It names in the order of the
// world's walk — the clients, the slots by RegID, the in-flight messages
// by slot, the adversary's captured messages and tokens — and calls
// extra, if not nil,
// last, so that the caller may hash state of its own (the explorer's claim
// ledger) with the same names. It hashes from scratch: the sums
// Fingerprint keeps hash the tokens by the names they have.
//
// A world that is not Renamable is hashed with its tokens as they are.
func (w *World) FingerprintNamed(names *Names, extra func() uint64) uint64 {
	return w.fingerprintNamed(names, extra, nil)
}

// FingerprintNamedAfter is to FingerprintNamed what FingerprintAfter is
// to Fingerprint: FingerprintNamed of the world as it would be after s,
// and true, when s is a drop or a duplication w may take now, without
// taking it; false for any other step.
func (w *World) FingerprintNamedAfter(names *Names, s *Step, extra func() uint64) (uint64, bool) {
	a, ok := w.networkOnly(s)
	if !ok {
		return 0, false
	}
	return w.fingerprintNamed(names, extra, &a), true
}

// fingerprintNamed is FingerprintNamed of w, after a if not nil: the
// world's walk hashed from scratch with its tokens named by names, which
// name them in the order the walk visits them.
func (w *World) fingerprintNamed(names *Names, extra func() uint64, a *after) uint64 {
	if !w.Renamable() {
		names = nil
	}
	names.Reset(w)
	c := hashCodec{h: fp{h: fpSeed}, now: w.Now, names: names, after: a}
	c.world(w)
	if extra != nil {
		c.word(extra())
		c.word(2)
	}
	return c.sum()
}
