package variants_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verishake/verishake/adversary"
	"github.com/verishake/verishake/protocol"
	"github.com/verishake/verishake/sim"
	"github.com/verishake/verishake/sim/explore"
)

// The behavioural changes of issue 11, each a variant written against the
// public API alone.
var (
	// acceptAnyConfirm2: the client takes any Confirm2 for the server's
	// answer.
	acceptAnyConfirm2 = protocol.Variant{
		Name: "any-confirm2", Breaks: protocol.AuthC, Summary: "the client accepts a Confirm2 carrying any token",
		Hooks: protocol.Hooks{Confirm2Ts: func(protocol.Client, *protocol.Ext, protocol.Message, bool) bool { return true }},
	}
	// matchByTsAlone: the server verifies the named RegID's session for a
	// Confirm1 carrying any pending session's Ts, as UnboundRegID does.
	matchByTsAlone = protocol.Variant{
		Name: "ts-alone", Breaks: protocol.AuthS, Summary: "the server matches a Confirm1 by its Ts alone",
		Hooks: protocol.Hooks{Confirm1Ts: func(_ protocol.Slot, st *protocol.HookState, m protocol.Message, ok bool) bool {
			return ok || st.PendingTs(m.Ts)
		}},
	}
	// anyUnseenSeq: the client executes a command whose number it has not
	// executed in this session, in any order: a bitmap of numbers 1..64 in
	// Ext.Words[0], for the session whose Ts is Ext.Tokens[0].
	anyUnseenSeq = protocol.Variant{
		Name: "any-unseen-seq", Summary: "the client executes a command with any number it has not executed",
		Hooks: protocol.Hooks{CommandSeq: func(c protocol.Client, ext *protocol.Ext, m protocol.Message, _ bool) bool {
			if !ext.Tokens[0].Equal(c.Ts) {
				*ext = protocol.Ext{Tokens: [protocol.ExtTokens]protocol.Token{c.Ts}}
			}
			bit := uint64(1) << (m.Seq - 1)
			if m.Seq == 0 || m.Seq > 64 || ext.Words[0]&bit != 0 {
				return false
			}
			ext.Words[0] |= bit
			return true
		}},
	}
	// keepPendingTs: a Hello with a new Tc re-uses the pending session's Ts.
	keepPendingTs = protocol.Variant{
		Name: "keep-pending-ts", Breaks: protocol.AuthS, Summary: "a Hello with a new Tc keeps the pending session's Ts",
		Hooks: protocol.Hooks{HelloTs: func(sl protocol.Slot, _ *protocol.HookState, _ protocol.Message, ts protocol.Token) protocol.Token {
			if sl.HalfOpen() {
				return sl.Pending.Ts
			}
			return ts
		}},
	}
)

// checkBounds are `verishake variants --check`'s bounds for unbound-regid:
// one client, one handshake, two injections, one retransmission, the
// default adversary with RegID 2 its own; stopped at the first
// counterexample to stopOn.
func checkBounds(p protocol.Profile, stopOn string) explore.Config {
	p.Retries = 1
	return explore.Config{
		Handshake: p.MustCompile(), Clients: 1, Sessions: 1, Injects: 2,
		Adversary:    adversary.NewExplorer(adversary.Default(), 1, 2),
		Symmetry:     true,
		RenameTokens: true,
		StopOn:       []string{stopOn},
	}
}

func run(t *testing.T, cfg explore.Config) explore.Report {
	t.Helper()
	rep, err := explore.Run(context.Background(), cfg)
	require.NoError(t, err)
	return rep
}

// Each behavioural variant is caught by the property it is expected to
// break, with the shortest counterexample's length as found at the
// catalog's bounds.
func TestBehaviouralVariantsCaught(t *testing.T) {
	for _, c := range []struct {
		v     protocol.Variant
		steps int
	}{
		{acceptAnyConfirm2, 5}, // Validation answered, a forged Confirm2 taken
		{matchByTsAlone, 5},    // the insider's Ts verifies the victim's session
		{keepPendingTs, 6},     // an injected Hello re-binds the victim's Ts to the adversary's Tc
		{rememberNewestTs, 5},  // the insider's fresh Ts verifies the victim's session
	} {
		t.Run(c.v.Name, func(t *testing.T) {
			rep := run(t, checkBounds(c.v.Of(protocol.Hardened()), c.v.Breaks))
			cex, ok := rep.Violated(c.v.Breaks)
			require.True(t, ok, "%s not caught in %d states", c.v.Breaks, rep.States)
			require.Len(t, cex.Steps, c.steps)
			replayed := replay(t, c.v.Of(protocol.Hardened()), cex)
			require.Equal(t, c.v.Breaks, replayed, "the counterexample replays to its violation")
		})
	}
}

// replay re-runs cex's steps on a fresh world through sim.World.Apply and
// the monitors, and returns the property the last step violates.
func replay(t *testing.T, p protocol.Profile, cex explore.Counterexample) string {
	t.Helper()
	p.Retries = 1
	w, err := sim.NewWorld(p.MustCompile(), sim.WorldOptions{Clients: 1, Handshakes: 1,
		Adversary: adversary.NewExplorer(adversary.Default(), 1, 2)})
	require.NoError(t, err)
	var mon protocol.Ledger
	violated := ""
	for _, s := range cex.Steps {
		r, err := w.Apply(s)
		require.NoError(t, err, "step %v", s)
		for _, c := range r.ClaimList() {
			if !w.Honest(c.RegID) {
				continue // the insider's own sessions are exempt
			}
			if v, bad := mon.Observe(c); bad && violated == "" {
				violated = v.Property
			}
		}
	}
	return violated
}

// The hook matching a Confirm1 by Ts alone is the UnboundRegID knob: the
// same states, the same counterexample.
func TestHookMatchesKnob(t *testing.T) {
	knob := protocol.Variant{Name: "unbound", Apply: func(p *protocol.Profile) { p.UnboundRegID = true }}
	byKnob := run(t, checkBounds(knob.Of(protocol.Hardened()), protocol.AuthS))
	byHook := run(t, checkBounds(matchByTsAlone.Of(protocol.Hardened()), protocol.AuthS))
	require.Equal(t, byKnob.States, byHook.States)
	require.Equal(t, byKnob.Counterexamples, byHook.Counterexamples)
}

// Executing commands in any order, each number once, keeps CMD as checked
// (injective agreement on RegID, Ts and Seq): with two commands and a
// duplicate every property holds, while dropping the check altogether
// (no-command-seq) loses CMD at the same bounds.
func TestAnyUnseenSeqKeepsCmd(t *testing.T) {
	cfg := func(p protocol.Profile) explore.Config {
		p.Retries = 1
		return explore.Config{Handshake: p.MustCompile(), Clients: 1, Sessions: 1, Commands: 2, Dups: 1, RenameTokens: true}
	}
	rep := run(t, cfg(anyUnseenSeq.Of(protocol.Hardened())))
	require.True(t, rep.Complete)
	require.Empty(t, rep.Counterexamples)

	noSeq, err := protocol.VariantByName("no-command-seq")
	require.NoError(t, err)
	rep = run(t, cfg(noSeq.Of(protocol.Hardened())))
	_, lost := rep.Violated(protocol.Cmd)
	require.True(t, lost, "the same bounds reach a replayed command")
}

// A variant with no hooks and no knobs is the profile itself: the same
// states as the profile it changes, at check's default bounds.
func TestEmptyVariantChangesNothing(t *testing.T) {
	cfg := func(p protocol.Profile) explore.Config {
		p.Retries = 1
		return explore.Config{Handshake: p.MustCompile(), Clients: 1, Sessions: 1, Commands: 1, Losses: 1, Injects: 1,
			Adversary: adversary.NewExplorer(adversary.Default(), 1, 2), RenameTokens: true}
	}
	base := run(t, cfg(protocol.Hardened()))
	require.True(t, base.Complete)
	require.Empty(t, base.Counterexamples)
	require.Equal(t, base.States, run(t, cfg(protocol.Variant{Name: "nothing"}.Of(protocol.Hardened()))).States)
}

// The variant runs commands out of order, each number once per session.
func TestAnyUnseenSeqOutOfOrder(t *testing.T) {
	h := anyUnseenSeq.Of(protocol.Hardened()).MustCompile()
	tokens := &protocol.SymbolicTokens{}
	c, s := protocol.NewClient(1), protocol.NewServer()
	v := s.Handle(h, 0, c.Start(h, 0, tokens).Send, tokens).Send
	require.NoError(t, c.Handle(h, 0, s.Handle(h, 0, c.Handle(h, 0, v).Send, tokens).Send).Err)
	cmd := func(seq uint32) error {
		return c.Handle(h, 0, protocol.Message{Kind: protocol.Command, RegID: 1, Ts: c.Ts, Seq: seq}).Err
	}
	require.NoError(t, cmd(2))
	require.NoError(t, cmd(1), "a lower number not yet executed")
	require.ErrorIs(t, cmd(1), protocol.ErrRepeatedSeq, "a number executed once")
	require.ErrorIs(t, cmd(2), protocol.ErrRepeatedSeq)
	require.Equal(t, uint32(2), c.LastSeq, "the highest number executed")
}
