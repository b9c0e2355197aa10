package explore

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verishake/verishake/adversary"
	"github.com/verishake/verishake/protocol"
	"github.com/verishake/verishake/sim"
)

// BOUNDED is decided by the explorer alone: on a profile without a cap one
// flood (a move, Hellos from forged RegIDs counted, not stored) puts the
// server over the bound, the shortest counterexample is that one step,
// and a capped server refuses what would go past its cap.
func TestFloodDecidesBounded(t *testing.T) {
	adv := func() sim.Adversary { return adversary.NewExplorer(adversary.Default(), 1, 2) }
	r := run(t, protocol.Patent(), Config{Injects: 1, Adversary: adv()})
	c, ok := r.Violated(protocol.Bounded)
	require.True(t, ok, "an uncapped server is flooded past any bound")
	require.Len(t, c.Steps, 1)
	require.Equal(t, sim.StepFlood, c.Steps[0].Kind)

	p := protocol.Hardened()
	p.Retries = 1
	r = run(t, p, Config{Injects: 1, Adversary: adv()})
	require.True(t, r.Complete)
	_, ok = r.Violated(protocol.Bounded)
	require.False(t, ok, "hardened's cap holds under the flood")
	require.Positive(t, r.Taken[sim.StepFlood], "the flood was explored")
}

// With tokens short enough to guess, the explorer offers the guess that
// hits a fresh token: under 8-bit tokens a guessed Ts verifies a session
// its client never confirmed (AUTH-S), in four steps. With 128-bit tokens
// no guess is offered.
func TestGuessingShortTokens(t *testing.T) {
	p := protocol.Hardened()
	p.Retries, p.TokenBits = 1, 8
	r := run(t, p, Config{Injects: 1, Adversary: adversary.NewExplorer(adversary.Default(), 1, 2)})
	c, ok := r.Violated(protocol.AuthS)
	require.True(t, ok, "a guessed Ts breaks AUTH-S")
	require.Len(t, c.Steps, 4, "start, deliver the Hello, inject the guessed Confirm1, deliver it")
	require.True(t, c.Steps[2].Guess)
	require.Equal(t, protocol.Confirm1, c.Steps[2].Msg.Kind)

	p.TokenBits = 128
	r = run(t, p, Config{Injects: 1, Adversary: adversary.NewExplorer(adversary.Default(), 1, 2)})
	_, ok = r.Violated(protocol.AuthS)
	require.False(t, ok)
}

// The insider's own handshake costs no injection: with a budget of one,
// the insider runs its handshake and still has its one forgery left.
func TestInsiderHandshakeIsFree(t *testing.T) {
	x := adversary.NewExplorer(adversary.Capabilities{Insider: true, Forge: true, Impersonate: true}, 1, 2)
	x.SetBudget(1)
	w, err := sim.NewWorld(protocol.Hardened().MustCompile(), sim.WorldOptions{Clients: 1, Handshakes: 1, Adversary: x,
		Limits: sim.Limits{Injects: 1}})
	require.NoError(t, err)
	var res [2]sim.Result
	var ts protocol.Token
	for _, kind := range []protocol.Kind{protocol.Hello, protocol.Confirm1} {
		var step *sim.Step
		for _, s := range w.Enabled(nil) {
			if s.Kind == sim.StepInsider && s.Msg.Kind == kind {
				step = &s
				break
			}
		}
		require.NotNil(t, step, "the insider's %v is offered", kind)
		require.Equal(t, 1, applyStep(w, step, &res), "the server takes the insider's message at once")
		require.NoError(t, res[0].Err)
		if kind == protocol.Hello {
			sl, ok := w.Server.Slot(2)
			require.True(t, ok)
			require.True(t, sl.HalfOpen())
			ts = sl.Pending.Ts
		}
	}
	require.Len(t, res[0].ClaimList(), 2, "the server verified the insider's session: Running and Commit")
	_, kept := w.Server.Slot(2)
	require.False(t, kept, "a verified insider session is forgotten: nothing honest can reach it")
	require.False(t, x.Exhausted())
	var forgeries int
	for _, s := range w.Enabled(nil) {
		if s.Kind == sim.StepInject {
			forgeries++
		}
	}
	require.Positive(t, forgeries, "its one forgery is still to come")
	require.True(t, x.Knowledge.Knows(ts), "it knows its own session's tokens")
}

// Every kind of step is taken within check's default bounds (corruption,
// off there, with one corruption allowed), the network's faults and the
// adversary explored apart as verify does: an explorer that silently
// stopped offering one (timers, floods, the insider...) fails here.
func TestEveryStepKindIsTaken(t *testing.T) {
	p := protocol.Hardened()
	p.Retries = 1
	taken := map[sim.StepKind]uint64{}
	for _, cfg := range []Config{
		{Losses: 1, Dups: 1, Corrupts: 1, Commands: 1},
		{Injects: 1, Commands: 1, Adversary: adversary.NewExplorer(adversary.Default(), 1, 2)},
	} {
		cfg.RenameTokens = true
		r := run(t, p, cfg)
		require.True(t, r.Complete)
		for k, n := range r.Taken {
			taken[k] += n
		}
	}
	for _, k := range sim.StepKinds() {
		require.Positive(t, taken[k], "no %v step taken", k)
	}
}

// Hardened with its retries capped at 0 for the search, and one loss: a
// lost Confirm2 leaves the client giving up on a session the server
// verified. The real client would re-send, so AGREE excuses it when the
// search says its retries are a cap; the profile that truly never
// re-sends (no-retransmit) is not excused, and the same six steps break it.
func TestAgreeExcusesTheExplorersCapNotAProfileThatNeverResends(t *testing.T) {
	p := protocol.Hardened()
	p.Retries = 0
	capped := run(t, p, Config{Losses: 1, Agree: true, RetriesCapped: true})
	require.True(t, capped.Complete)
	_, ok := capped.Violated(protocol.Agree)
	require.False(t, ok, "a cap of 0 under a profile that re-sends: no false alarm")

	never := run(t, p, Config{Losses: 1, Agree: true})
	c, ok := never.Violated(protocol.Agree)
	require.True(t, ok, "a profile that never re-sends cannot agree after one loss")
	require.Len(t, c.Steps, 6, "start, Hello, Validation, Confirm1 delivered, Confirm2 dropped, the timer")
	require.Equal(t, sim.StepDrop, c.Steps[4].Kind)
	require.Equal(t, capped.States, never.States, "the excuse changes a verdict, not the state space")
}
