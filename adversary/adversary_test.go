package adversary_test

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verishake/verishake/adversary"
	"github.com/verishake/verishake/protocol"
)

const insider protocol.RegID = 3

func TestKnowledgeIsCanonical(t *testing.T) {
	a, b := adversary.NewKnowledge(insider, 0), adversary.NewKnowledge(insider, 0)
	m1 := protocol.Message{Kind: protocol.Hello, RegID: 1, Tc: protocol.Symbolic(1)}
	m2 := protocol.Message{Kind: protocol.Confirm1, RegID: 2, Ts: protocol.Symbolic(2)}
	a.Observe(m1, adversary.Default())
	a.Observe(m2, adversary.Default())
	b.Observe(m2, adversary.Default())
	b.Observe(m1, adversary.Default())
	b.Observe(m1, adversary.Default())
	require.Equal(t, a, b, "order and repetition of observations do not matter")
	require.Len(t, a.Captured, 2)

	c := a.Clone()
	c.Learn(protocol.Symbolic(9))
	require.False(t, a.Knows(protocol.Symbolic(9)), "a clone is independent")
}

func TestKnowledgeLearnsOnlyWhatItMayRead(t *testing.T) {
	v := protocol.Message{Kind: protocol.Validation, RegID: 1, Tc: protocol.Symbolic(1), Ts: protocol.Symbolic(2)}
	up := protocol.Message{Kind: protocol.Confirm1, RegID: 1, Ts: protocol.Symbolic(3)}
	for _, c := range []struct {
		caps      adversary.Capabilities
		msg       protocol.Message
		learns    protocol.Token
		shouldNot bool
	}{
		{adversary.Default(), v, protocol.Symbolic(2), true},
		{adversary.Capabilities{ReadPush: true}, v, protocol.Symbolic(2), false},
		{adversary.Default(), up, protocol.Symbolic(3), true},
		{adversary.Capabilities{ReadUpstream: true}, up, protocol.Symbolic(3), false},
		{adversary.Default(), protocol.Message{Kind: protocol.Validation, RegID: insider, Tc: adversary.Own, Ts: protocol.Symbolic(4)}, protocol.Symbolic(4), false},
	} {
		k := adversary.NewKnowledge(insider, 0)
		k.Observe(c.msg, c.caps)
		require.Equal(t, !c.shouldNot, k.Knows(c.learns), "%v reading %v", c.caps, c.msg)
	}
	k := adversary.NewKnowledge(insider, 0)
	k.Leak(protocol.Symbolic(5), protocol.Symbolic(6))
	require.True(t, k.Knows(protocol.Symbolic(5)) && k.Knows(protocol.Symbolic(6)))
}

func TestInjectionsComposeFromKnowledge(t *testing.T) {
	k := adversary.NewKnowledge(insider, 0)
	captured := protocol.Message{Kind: protocol.Hello, RegID: 1, Tc: protocol.Symbolic(1)}
	k.Observe(captured, adversary.Default())
	ms := adversary.Injections(nil, &k, adversary.Default(), []protocol.RegID{1})
	require.Contains(t, ms, captured, "replay")
	require.Contains(t, ms, protocol.Message{Kind: protocol.Confirm1, RegID: 1, Ts: adversary.Own}, "impersonate with forged token")
	require.Contains(t, ms, protocol.Message{Kind: protocol.Hello, RegID: insider, Tc: adversary.Own}, "insider")
	for _, m := range ms {
		if m == captured {
			continue // a replayed envelope is opaque: its tokens stay unknown
		}
		for _, tok := range []protocol.Token{m.Tc, m.Ts} {
			require.True(t, tok.IsZero() || k.Knows(tok), "%v uses a token it does not know", m)
		}
	}
	none := adversary.Injections(nil, &k, adversary.Capabilities{}, []protocol.RegID{1})
	require.Empty(t, none)
}

func TestStrategiesAreDeterministic(t *testing.T) {
	for _, s := range []adversary.Strategy{adversary.Replay, adversary.Forge, adversary.Impersonate, adversary.Flood, adversary.All} {
		moves := func() []protocol.Message {
			a := adversary.New(s, 2, insider, 128, 16)
			a.Observe(protocol.Message{Kind: protocol.Hello, RegID: 1, Tc: protocol.Symbolic(1)})
			rng := rand.New(rand.NewPCG(1, 2))
			var out []protocol.Message
			for range 50 {
				out = a.Inject(rng, 0, out)
			}
			return out
		}
		first := moves()
		require.NotEmpty(t, first, s)
		require.Equal(t, first, moves(), "%v: same seed, same moves", s)
	}
	_, err := adversary.ParseStrategy("gremlin")
	require.ErrorContains(t, err, "replay")
}

func TestForgeStatistic(t *testing.T) {
	a := adversary.New(adversary.Forge, 1, insider, 8, 0)
	rng := rand.New(rand.NewPCG(3, 4))
	var guesses []protocol.Message
	for len(guesses) < 2 {
		for _, m := range a.Inject(rng, 0, nil) {
			if a.Guessed(m) {
				guesses = append(guesses, m)
			} else {
				require.Equal(t, protocol.Hello, m.Kind, "its own Hello is the only move without a guess")
			}
		}
	}
	a.Outcome(guesses[0], false)
	require.True(t, a.ForgeHolds())
	a.Outcome(guesses[1], true)
	require.False(t, a.ForgeHolds(), "one accepted guess in two is far above 2^-64")
	a.Outcome(protocol.Message{Kind: protocol.Hello, RegID: 1, Tc: adversary.Own}, true)
	require.Equal(t, uint64(2), a.Guesses, "messages without a guess do not count")
	for _, m := range guesses {
		for _, tok := range []protocol.Token{m.Tc, m.Ts} {
			require.Equal(t, tok, tok.Mask(8), "guesses have the profile's length")
		}
	}
}

func TestExplorerFingerprintIsCanonical(t *testing.T) {
	a, b := adversary.NewExplorer(adversary.Default(), 2, insider), adversary.NewExplorer(adversary.Default(), 2, insider)
	a.Abandoned(1, protocol.Symbolic(1), protocol.Symbolic(2))
	b.Abandoned(1, protocol.Symbolic(2), protocol.Symbolic(1))
	require.Equal(t, a.Fingerprint(), b.Fingerprint())
	c := a.Clone().(*adversary.Explorer)
	c.Abandoned(2, protocol.Symbolic(3), protocol.Token{})
	require.NotEqual(t, a.Fingerprint(), c.Fingerprint())
	require.NotEmpty(t, a.Moves(nil))
}

func TestParseCapabilities(t *testing.T) {
	c, err := adversary.ParseCapabilities("default+read-push")
	require.NoError(t, err)
	require.True(t, c.ReadPush && c.Replay && !c.ReadUpstream)
	require.Equal(t, "replay+impersonate+insider+forge+flood+read-push", c.String())
	_, err = adversary.ParseCapabilities("x-ray")
	require.ErrorContains(t, err, `"x-ray"`)
}

// A forge move is a burst of ForgeBurst messages, a flood move FloodBurst
// Hellos from fresh forged RegIDs; Move stays one message.
func TestBursts(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	f := adversary.New(adversary.Forge, 3, insider, 128, 0)
	require.Len(t, f.Inject(rng, 0, nil), adversary.ForgeBurst)

	fl := adversary.New(adversary.Flood, 3, insider, 128, 0)
	hellos := fl.Inject(rng, 0, fl.Inject(rng, 0, nil))
	require.Len(t, hellos, 2*adversary.FloodBurst)
	seen := map[protocol.RegID]bool{}
	for _, m := range hellos {
		require.Equal(t, protocol.Hello, m.Kind)
		require.Greater(t, m.RegID, adversary.FloodBase)
		require.False(t, seen[m.RegID], "each Hello from a fresh RegID")
		seen[m.RegID] = true
		require.False(t, fl.Guessed(m))
	}
	// The flood must open sessions faster than hardened's lifetime frees
	// them, or BOUNDED is never tested: > 1024 per 60 s at 100 moves/s.
	require.Greater(t, 100*adversary.FloodBurst, 1024/60)
	require.Greater(t, 100*adversary.FloodBurst/4, 1024/60, "also as a quarter of All's moves")

	_, _, ok := f.Move(rng)
	require.True(t, ok)
}

// In simulation (MaxCaptured > 0) knowledge is a bounded window: the
// oldest envelopes and tokens are forgotten, Own never, and lookups agree
// with the window's content.
func TestKnowledgeWindow(t *testing.T) {
	k := adversary.NewKnowledge(insider, 4)
	for i := range 10 {
		k.Observe(protocol.Message{Kind: protocol.Hello, RegID: 1, Tc: protocol.Symbolic(uint64(i + 1))}, adversary.Default())
		k.Observe(protocol.Message{Kind: protocol.Hello, RegID: 1, Tc: protocol.Symbolic(uint64(i + 1))}, adversary.Default())
		k.Leak(protocol.Symbolic(uint64(100+i)), protocol.Token{})
	}
	require.Len(t, k.Captured, 4, "no duplicates, bounded")
	require.ElementsMatch(t, []protocol.Token{adversary.Own, protocol.Symbolic(107), protocol.Symbolic(108), protocol.Symbolic(109)}, k.Tokens)
	require.True(t, k.Knows(adversary.Own))
	require.True(t, k.Knows(protocol.Symbolic(109)))
	require.False(t, k.Knows(protocol.Symbolic(106)), "forgotten")
	for i := 7; i <= 10; i++ {
		require.Contains(t, k.Captured, protocol.Message{Kind: protocol.Hello, RegID: 1, Tc: protocol.Symbolic(uint64(i))})
	}
	c := k.Clone()
	c.Learn(protocol.Symbolic(200))
	require.True(t, c.Knows(protocol.Symbolic(200)))
	require.False(t, k.Knows(protocol.Symbolic(200)), "a clone is independent")
	require.True(t, k.Knows(protocol.Symbolic(107)))
}
