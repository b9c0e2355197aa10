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
		guesses = a.Inject(rng, 0, guesses)
		if n := len(guesses); n > 0 && guesses[n-1].Kind == protocol.Hello {
			guesses = guesses[:n-1] // its own Hello carries no guess
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
