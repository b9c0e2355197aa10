package nspk_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verishake/verishake/engine"
	"github.com/verishake/verishake/examples/nspk"
)

// Lowe's fixed protocol keeps injective agreement for both roles, and the
// secrecy of the honest runs' nonces, at Lowe's bounds and at two runs a
// role, each honest agent playing both roles: a complete search, nothing
// violated.
func TestLowesFixHolds(t *testing.T) {
	for _, bound := range []struct {
		name string
		cfg  nspk.Config
	}{{"lowe", lowesBounds}, {"two-runs-a-role", twoRunsARole}} {
		t.Run(bound.name, func(t *testing.T) {
			r := search(t, newModel(t, fixed(bound.cfg)))
			require.True(t, r.Complete)
			for _, p := range []string{nspk.ResponderAgreement, nspk.InitiatorAgreement, nspk.Secrecy} {
				require.Equal(t, engine.Holds, r.Verdict(p), p)
			}
			t.Logf("%d states, %d transitions, depth %d", r.States, r.Transitions, r.Depth)
		})
	}
}

// withGoal is a model checked only for one property of the test's own.
type withGoal struct {
	*nspk.Model
	goal engine.Property[nspk.State, nspk.Action]
}

func (g withGoal) Properties() []engine.Property[nspk.State, nspk.Action] {
	return []engine.Property[nspk.State, nspk.Action]{g.goal}
}

// The fix's verdict is not vacuous: the honest session (A with B, B with A,
// each committed) is reachable in it, in the four actions of a plain run
// through the intruder. A model whose runs could never complete would hold
// every agreement property too.
func TestLowesFixLetsTheHonestSessionComplete(t *testing.T) {
	m := newModel(t, fixed(lowesBounds))
	honest := engine.Property[nspk.State, nspk.Action]{
		Name: "NO-HONEST-SESSION",
		State: func(s *nspk.State) error {
			a, b := s.Runs[0], s.Runs[1]
			if a.Phase == nspk.Done && a.Peer == nspk.B && b.Phase == nspk.Done && b.Peer == nspk.A {
				return errors.New("A and B completed a session with each other")
			}
			return nil
		},
	}
	r := search(t, withGoal{m, honest})
	cex, ok := r.Violated(honest.Name)
	require.True(t, ok, "the honest session is unreachable")
	require.Equal(t, []string{
		"A -> I(B) : {Na, A}pk(B)",
		"I(A) -> B : {Na, A}pk(B)",
		"B -> I(A) : {Na, Nb, B}pk(A)",
		"I(B) -> A : {Na, Nb, B}pk(A)",
		"A -> I(B) : {Nb}pk(B)",
		"I(A) -> B : {Nb}pk(B)",
	}, nspk.Narrate(cex.Actions))
}

// Where the fix bites: after the attack's first two steps, B's answer to A
// names B, and A, who meant to talk to I, takes it in the original protocol
// but not in the fixed one.
func TestLowesFixInitiatorRefusesTheForwardedAnswer(t *testing.T) {
	for _, fix := range []bool{false, true} {
		m := newModel(t, nspk.Config{Fixed: fix})
		s := replay(t, m, lowesActions[:1])
		// B's action on {Na, A}pk(B) differs between the versions only in
		// what B answers, so it is taken from the enabled ones.
		i := slices.IndexFunc(m.Actions(&s, nil), func(a nspk.Action) bool { return a.Got == lowesActions[1].Got })
		require.GreaterOrEqual(t, i, 0)
		s = replay(t, m, append(lowesActions[:1:1], m.Actions(&s, nil)[i]))
		answer := nspk.Msg{Kind: nspk.Msg2, Key: nspk.A, N1: nspk.NonceOf(nspk.A, 1), N2: nspk.NonceOf(nspk.B, 1)}
		if fix {
			answer.Agent = nspk.B
		}
		require.Equal(t, []nspk.Msg{answer}, s.Stored, "B's answer, which the intruder cannot open")
		takes := slices.ContainsFunc(m.Actions(&s, nil), func(a nspk.Action) bool { return a.Agent == nspk.A && a.Got == answer })
		require.Equal(t, !fix, takes, "fixed %v: A takes %v", fix, answer)
	}
}
