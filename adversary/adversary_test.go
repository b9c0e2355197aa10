package adversary_test

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verishake/verishake/adversary"
	"github.com/verishake/verishake/protocol"
)

func TestKnowledgeIsCanonical(t *testing.T) {
	a, b := adversary.NewKnowledge(0), adversary.NewKnowledge(0)
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
		{adversary.Default(), protocol.Message{Kind: protocol.Validation, RegID: adversary.Insider, Tc: adversary.Own, Ts: protocol.Symbolic(4)}, protocol.Symbolic(4), false},
	} {
		k := adversary.NewKnowledge(0)
		k.Observe(c.msg, c.caps)
		require.Equal(t, !c.shouldNot, k.Knows(c.learns), "%v reading %v", c.caps, c.msg)
	}
	k := adversary.NewKnowledge(0)
	k.Leak(protocol.Symbolic(5), protocol.Symbolic(6))
	require.True(t, k.Knows(protocol.Symbolic(5)) && k.Knows(protocol.Symbolic(6)))
}

func TestInjectionsComposeFromKnowledge(t *testing.T) {
	k := adversary.NewKnowledge(0)
	captured := protocol.Message{Kind: protocol.Hello, RegID: 1, Tc: protocol.Symbolic(1)}
	k.Observe(captured, adversary.Default())
	ms := adversary.Injections(nil, &k, adversary.Default(), []protocol.RegID{1})
	require.Contains(t, ms, captured, "replay")
	require.Contains(t, ms, protocol.Message{Kind: protocol.Confirm1, RegID: 1, Ts: adversary.Own}, "impersonate with forged token")
	require.Contains(t, ms, protocol.Message{Kind: protocol.Hello, RegID: adversary.Insider, Tc: adversary.Own}, "insider")
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
			a := adversary.New(s, 128, 16)
			a.Observe(protocol.Message{Kind: protocol.Hello, RegID: 1, Tc: protocol.Symbolic(1)})
			rng := rand.New(rand.NewPCG(1, 2))
			var out []protocol.Message
			for range 50 {
				if m, _, ok := a.Move(rng, []protocol.RegID{1, 2}); ok {
					out = append(out, m)
				}
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
	a := adversary.New(adversary.Forge, 8, 0)
	a.Outcome(true, false)
	require.True(t, a.ForgeHolds())
	a.Outcome(true, true)
	require.False(t, a.ForgeHolds(), "one accepted guess in two is far above 2^-64")
	a.Outcome(false, true)
	require.Equal(t, uint64(2), a.Guesses, "moves without a guess do not count")
}

func TestParseCapabilities(t *testing.T) {
	c, err := adversary.ParseCapabilities("default+read-push")
	require.NoError(t, err)
	require.True(t, c.ReadPush && c.Replay && !c.ReadUpstream)
	require.Equal(t, "replay+impersonate+insider+forge+flood+read-push", c.String())
	_, err = adversary.ParseCapabilities("x-ray")
	require.ErrorContains(t, err, `"x-ray"`)
}
