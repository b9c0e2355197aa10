package nspk_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verishake/verishake/engine"
	"github.com/verishake/verishake/examples/nspk"
)

// lowesAttack is the attack as Lowe's paper narrates it (his messages 1.3,
// 2.3, 2.6, 1.6, 1.7, 2.7) with initiator x, fooled responder y and their
// nonces nx, ny: lowesAttack("A", "B", "Na", "Nb") is his.
func lowesAttack(x, y, nx, ny string) []string {
	return []string{
		x + " -> I : {" + nx + ", " + x + "}pk(I)",
		"I(" + x + ") -> " + y + " : {" + nx + ", " + x + "}pk(" + y + ")",
		y + " -> I(" + x + ") : {" + nx + ", " + ny + "}pk(" + x + ")",
		"I -> " + x + " : {" + nx + ", " + ny + "}pk(" + x + ")",
		x + " -> I : {" + ny + "}pk(I)",
		"I(" + x + ") -> " + y + " : {" + ny + "}pk(" + y + ")",
	}
}

// lowesActions are Lowe's attack as the model's actions at Lowe's bounds
// (run 0 is A's initiator run, run 1 B's responder run).
var lowesActions = func() []nspk.Action {
	na, nb := nspk.NonceOf(nspk.A, 1), nspk.NonceOf(nspk.B, 1)
	return []nspk.Action{
		{Agent: nspk.A, Run: 0, Sent: nspk.Msg{Kind: nspk.Msg1, Key: nspk.I, N1: na, Agent: nspk.A}, To: nspk.I},
		{Agent: nspk.B, Run: 1, Got: nspk.Msg{Kind: nspk.Msg1, Key: nspk.B, N1: na, Agent: nspk.A}, From: nspk.A,
			Sent: nspk.Msg{Kind: nspk.Msg2, Key: nspk.A, N1: na, N2: nb}, To: nspk.A},
		{Agent: nspk.A, Run: 0, Got: nspk.Msg{Kind: nspk.Msg2, Key: nspk.A, N1: na, N2: nb}, From: nspk.I,
			Sent: nspk.Msg{Kind: nspk.Msg3, Key: nspk.I, N1: nb}, To: nspk.I},
		{Agent: nspk.B, Run: 1, Got: nspk.Msg{Kind: nspk.Msg3, Key: nspk.B, N1: nb}, From: nspk.A},
	}
}()

// The original protocol at Lowe's bounds: the explorer's shortest
// counterexample to the responder's agreement is Lowe's attack, four
// actions (A starts with I; B takes I's {Na, A}pk(B) and answers; A takes
// B's answer forwarded and answers I; B takes {Nb}pk(B) and commits),
// which narrate as the six messages of his paper. The initiator's
// agreement holds: the attack fools B only.
func TestLowesAttackIsTheShortestCounterexample(t *testing.T) {
	for _, bound := range []struct {
		name string
		cfg  nspk.Config
		nb   string // the nonce of the responder run B uses
	}{{"lowe", lowesBounds, "Nb"}, {"two-runs-a-role", twoRunsARole, "Nb2"}} {
		t.Run(bound.name, func(t *testing.T) {
			m := newModel(t, bound.cfg)
			r := search(t, m)
			require.True(t, r.Complete)
			require.Equal(t, engine.Violated, r.Verdict(nspk.ResponderAgreement))
			require.Equal(t, engine.Holds, r.Verdict(nspk.InitiatorAgreement))
			cex, _ := r.Violated(nspk.ResponderAgreement)
			require.Equal(t, 4, cex.Path())
			require.Equal(t, lowesAttack("A", "B", "Na", bound.nb), nspk.Narrate(cex.Actions))
			require.Equal(t, "B committed as responder with A on (Na, "+bound.nb+"), and A never ran as initiator with B on those nonces", cex.Reason)
			if bound.name == "lowe" {
				require.Equal(t, lowesActions, cex.Actions)
			}
			last := replay(t, m, cex.Actions)
			require.Error(t, check(t, m, nspk.ResponderAgreement, &last), "the counterexample replays to a violation")

			// B's nonce leaks one step earlier, when A decrypts B's answer
			// for I: the same path, less its last action.
			leak, _ := r.Violated(nspk.Secrecy)
			require.Equal(t, cex.Actions[:3], leak.Actions)
		})
	}
}

// No path shorter than Lowe's attack breaks the responder's agreement: a
// walk over every path of at most 3 actions, by plain recursion rather than
// the engine's search, finds none. At 4 actions the violating paths are
// Lowe's attack and nothing else (the only way for I to learn a
// responder's nonce is message 3 of an initiator that ran with I, which
// needs the responder's answer to that initiator's own nonce); at two runs
// a role, also its mirror, with B fooling A's responder run. So 4 is the
// minimum and the engine's counterexample is such a path.
func TestNoShorterAttackExists(t *testing.T) {
	for _, bound := range []struct {
		name    string
		cfg     nspk.Config
		attacks [][]string
	}{
		{"lowe", lowesBounds, [][]string{lowesAttack("A", "B", "Na", "Nb")}},
		{"two-runs-a-role", twoRunsARole, [][]string{lowesAttack("A", "B", "Na", "Nb2"), lowesAttack("B", "A", "Nb", "Na2")}},
	} {
		t.Run(bound.name, func(t *testing.T) {
			m := newModel(t, bound.cfg)
			paths, shorter := 0, 0
			var attacks [][]string
			walk(m, 4, func(path []nspk.Action, s *nspk.State) {
				paths++
				if check(t, m, nspk.ResponderAgreement, s) == nil {
					return
				}
				if len(path) < 4 {
					shorter++
					return
				}
				attacks = append(attacks, nspk.Narrate(path))
			})
			require.Zero(t, shorter, "violations within 3 actions")
			require.ElementsMatch(t, bound.attacks, attacks)
			t.Logf("%d paths of at most 4 actions walked", paths)
		})
	}
}

// The model is deterministic enough for the engine's parallel search: one
// worker and three give the same states, transitions and counterexamples
// (three workers on two cores, so that blocks of a level interleave).
func TestReportIsTheSameForAnyWorkers(t *testing.T) {
	m := newModel(t, twoRunsARole)
	var reports []engine.Report[nspk.Action]
	for _, workers := range []int{1, 3} {
		r, err := engine.Search(context.Background(), m, engine.Config{Workers: workers})
		require.NoError(t, err)
		reports = append(reports, r)
	}
	require.Equal(t, reports[0].States, reports[1].States)
	require.Equal(t, reports[0].Transitions, reports[1].Transitions)
	require.Equal(t, reports[0].Counterexamples, reports[1].Counterexamples)
}
