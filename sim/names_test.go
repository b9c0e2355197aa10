package sim

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verishake/verishake/adversary"
	"github.com/verishake/verishake/protocol"
)

// TestNamesRenameOnlyTheWorldsTokens: the tokens the world's source made
// are renamed by first occurrence; zero, plain tokens, the adversary's own
// and symbolic tokens the source never made keep their names.
func TestNamesRenameOnlyTheWorldsTokens(t *testing.T) {
	w := newTestWorld(t, protocol.Hardened(), WorldOptions{Clients: 1, Handshakes: 1,
		Tokens: &protocol.SymbolicTokens{N: 7}})
	var n Names
	n.Reset(w)
	require.Equal(t, protocol.Symbolic(1), n.Of(protocol.Symbolic(5)))
	require.Equal(t, protocol.Symbolic(2), n.Of(protocol.Symbolic(7)))
	require.Equal(t, protocol.Symbolic(1), n.Of(protocol.Symbolic(5)), "a name is kept")
	for _, fixed := range []protocol.Token{{}, {15: 0x5a}, adversary.Own, protocol.Symbolic(8)} {
		require.Equal(t, fixed, n.Of(fixed))
	}
	n.Reset(w)
	require.Equal(t, protocol.Symbolic(1), n.Of(protocol.Symbolic(7)), "Reset forgets")
	var none *Names
	require.Equal(t, protocol.Symbolic(7), none.Of(protocol.Symbolic(7)))
}

// TestFingerprintNamedOfARenamedWorld: the same walk in two worlds whose
// sources name tokens differently (#1, #2, ... and #101, #102, ...)
// reaches worlds that are renamings of each other, step after step: their
// named fingerprints agree, their plain ones do not; and a world that is
// not a renaming of another is told apart.
func TestFingerprintNamedOfARenamedWorld(t *testing.T) {
	newWorld := func(first uint64) *World {
		x := adversary.NewExplorer(adversary.Default(), 2, 3)
		x.SetBudget(3)
		w := newTestWorld(t, protocol.Hardened(), WorldOptions{Clients: 2, Handshakes: 4, Commands: 1, Adversary: x,
			Tokens: &protocol.SymbolicTokens{N: first}, Limits: Limits{Drops: 2, Dups: 2, Corrupts: 1, Injects: 3, StartsPerClient: 2}})
		require.True(t, w.Renamable())
		return w
	}
	var na, nb Names
	differ := 0
	// b's tokens are a's plus 100: an injection carries b's names.
	twin := func(s Step) Step {
		s.Msg.Tc, s.Msg.Ts = shift(s.Msg.Tc), shift(s.Msg.Ts)
		return s
	}
	for seed := range uint64(30) {
		a, b := newWorld(0), newWorld(100)
		differ += walkTwins(t, seed, a, b, twin, func() {
			require.Equal(t, a.FingerprintNamed(&na, nil), b.FingerprintNamed(&nb, nil), "seed %d", seed)
		})
	}
	require.Greater(t, differ, 100, "the plain fingerprint tells the namings apart")

	// Not renamings: a client whose Ts is its slot's, and one whose is not.
	same, other := newWorld(0), newWorld(0)
	for _, w := range []*World{same, other} {
		apply(t, w, Step{Kind: StepStart, Client: 0})
		deliverAll(t, w)
	}
	other.Clients[0].Ts = protocol.Symbolic(99)
	require.NotEqual(t, same.FingerprintNamed(&na, nil), other.FingerprintNamed(&nb, nil))
}

// shift maps a's world's tokens to b's: symbolic tokens the source made
// are 100 further on; every other token is the same in both.
func shift(t protocol.Token) protocol.Token {
	if k, ok := t.Symbol(); ok && k > 0 && k < 1<<40 {
		return protocol.Symbolic(k + 100)
	}
	return t
}

// TestRenamableOnlyWhereTheRenamingReaches: seeded tokens cannot be
// renamed, nor the tokens an adversary of another kind keeps.
func TestRenamableOnlyWhereTheRenamingReaches(t *testing.T) {
	require.True(t, newTestWorld(t, protocol.Hardened(), WorldOptions{Clients: 1}).Renamable())
	require.False(t, newTestWorld(t, protocol.Hardened(), WorldOptions{Clients: 1, Tokens: protocol.NewSeededTokens(1)}).Renamable())
	require.False(t, newTestWorld(t, protocol.Hardened(), WorldOptions{Clients: 1, Adversary: &recorder{}}).Renamable())
}

// TestFingerprintNamedAfterADuplicate: a duplicate goes to the slot put
// gives it — here the freed slot 0, before the others — and the tokens are
// named in that order: the fingerprint taken without the step is the one
// taken after it.
func TestFingerprintNamedAfterADuplicate(t *testing.T) {
	w := newTestWorld(t, protocol.Hardened(), WorldOptions{Clients: 1, Handshakes: 1, Limits: Limits{Dups: 1, Drops: 1},
		Tokens: &protocol.SymbolicTokens{N: 4}})
	// Messages only the network holds, carrying tokens no machine holds.
	for _, m := range []protocol.Message{
		{Kind: protocol.Hello, RegID: 1, Tc: protocol.Symbolic(1)},
		{Kind: protocol.Hello, RegID: 1, Tc: protocol.Symbolic(2)},
		{Kind: protocol.Hello, RegID: 1, Tc: protocol.Symbolic(3)},
	} {
		w.nextID++
		w.put(Envelope{ID: w.nextID, Msg: m})
	}
	w.take(0)
	var names Names
	for _, s := range []Step{{Kind: StepDup, Slot: 2, ID: 3}, {Kind: StepDrop, Slot: 1, ID: 2}} {
		after, ok := w.FingerprintNamedAfter(&names, &s, nil)
		require.True(t, ok)
		c := w.Clone()
		apply(t, c, s)
		require.Equal(t, c.FingerprintNamed(&names, nil), after, "%v", s)
	}
}
