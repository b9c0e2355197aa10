package looplab_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	lfsm "github.com/looplab/fsm"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/verishake/verishake/fsm"
	"github.com/verishake/verishake/fsm/internal/fsmtest"
	"github.com/verishake/verishake/fsm/looplab"
	"pgregory.net/rapid"
)

// The looplab behaviours the adapter maps, pinned so that a looplab upgrade
// that changes them fails here first.
func TestLooplabRawSemantics(t *testing.T) {
	m := fsm.MustCompile(fsmtest.HandshakeSpec())
	f, err := looplab.New(m, fsmtest.AwaitValidation)
	require.NoError(t, err)
	ctx := context.Background()

	assert.ErrorAs(t, f.Event(ctx, "Retry"), &lfsm.NoTransitionError{}, "self-loop")
	assert.ErrorAs(t, f.Event(ctx, "Confirm2"), &lfsm.InvalidEventError{}, "not from this state")
	assert.ErrorAs(t, f.Event(ctx, "Reset"), &lfsm.UnknownEventError{}, "declared but unused")
	assert.Equal(t, "AwaitValidation", f.Current())
	assert.ElementsMatch(t, []string{"Validation", "Retry", "GiveUp", "Timeout"}, f.AvailableTransitions())
}

func TestLooplabFire(t *testing.T) {
	m := fsm.MustCompile(fsmtest.HandshakeSpec())
	f, err := looplab.New(m, fsmtest.AwaitValidation)
	require.NoError(t, err)

	ok, err := looplab.Fire(m, f, fsmtest.Retry)
	assert.True(t, ok, "a self-loop is accepted")
	assert.NoError(t, err)

	for _, ev := range []fsmtest.Event{fsmtest.Confirm2, fsmtest.Reset, fsmtest.Event(200)} {
		in := m.At(fsmtest.AwaitValidation)
		want := in.Fire(ev)
		ok, err := looplab.Fire(m, f, ev)
		assert.False(t, ok, "%v", ev)
		assert.Equal(t, want, err, "%v: the same error as Fire", ev)
	}

	ok, err = looplab.Fire(m, f, fsmtest.Validation)
	assert.True(t, ok)
	assert.NoError(t, err)
	assert.Equal(t, "AwaitConfirm2", f.Current())

	_, err = looplab.New(m, fsmtest.State(9))
	assert.ErrorIs(t, err, fsm.ErrUnknownState)

	f.SetState("Elsewhere")
	_, err = looplab.Fire(m, f, fsmtest.Retry)
	assert.ErrorIs(t, err, fsm.ErrUnknownState)
}

// Named integer and string types; fmt.Sprint of distinct values differs, as
// Validate requires.
type (
	iState uint16
	iEvent int8
	sState string
	sEvent string
)

// TestLooplabDifferential drives our engine and the looplab adapter with the
// same random valid specs and event sequences (declared, declared but
// unused, and undeclared events) and requires the same state, the same
// verdict and the same error after every event.
func TestLooplabDifferential(t *testing.T) {
	// Small or wide state values, so both the dense and the map index run.
	iStates := rapid.Custom(func(t *rapid.T) iState {
		if rapid.Bool().Draw(t, "wide") {
			return iState(rapid.Uint16().Draw(t, "v"))
		}
		return iState(rapid.Uint16Range(0, 12).Draw(t, "v"))
	})
	iEvents := rapid.Custom(func(t *rapid.T) iEvent { return iEvent(rapid.Int8().Draw(t, "v")) })
	name := `[A-Za-z][A-Za-z0-9 _.#;"-]{0,4}`
	sStates := rapid.Custom(func(t *rapid.T) sState { return sState(rapid.StringMatching(name).Draw(t, "v")) })
	sEvents := rapid.Custom(func(t *rapid.T) sEvent { return sEvent(rapid.StringMatching(name).Draw(t, "v")) })

	t.Run("int", func(t *testing.T) { rapid.Check(t, differential(iStates, iEvents)) })
	t.Run("string", func(t *testing.T) { rapid.Check(t, differential(sStates, sEvents)) })
	t.Run("mixed", func(t *testing.T) { rapid.Check(t, differential(sStates, iEvents)) })
}

func differential[S, E comparable](sGen *rapid.Generator[S], eGen *rapid.Generator[E]) func(*rapid.T) {
	return func(t *rapid.T) {
		sp := genSpec(t, sGen, eGen)
		require.NoError(t, sp.Validate(), "the generator makes valid specs")
		m := fsm.MustCompile(sp)
		f, err := looplab.New(m, sp.Initial)
		require.NoError(t, err)

		undeclared := rapid.SliceOfN(eGen.Filter(func(e E) bool { return !slices.Contains(sp.Events, e) }), 0, 2).Draw(t, "undeclared")
		pool := append(slices.Clone(sp.Events), undeclared...)
		events := rapid.SliceOfN(rapid.SampledFrom(pool), 0, 40).Draw(t, "events")

		in := m.Start()
		for i, ev := range events {
			before := in.State()
			ours := in.Fire(ev)
			accepted, theirs := looplab.Fire(m, f, ev)
			require.Equal(t, ours == nil, accepted, "step %d: %v on %v", i, before, ev)
			require.Equal(t, ours, theirs, "step %d: %v on %v", i, before, ev)
			if ours != nil {
				require.Equal(t, before, in.State(), "a rejected event leaves the state")
			}
			cur, ok := m.StateByName(f.Current())
			require.True(t, ok, "looplab state %q", f.Current())
			require.Equal(t, in.State(), cur, "step %d: %v on %v", i, before, ev)

			var permitted []string
			for _, e := range in.Permitted() {
				permitted = append(permitted, fmt.Sprint(e))
			}
			require.ElementsMatch(t, permitted, f.AvailableTransitions())
		}
	}
}

// genSpec builds a random valid spec constructively: a chain through the
// non-terminal states makes every state reachable and gives each but the
// last a way out, the last gets one explicitly, each terminal state hangs
// off some non-terminal state, and the remaining (state, event) slots get
// random extra rows (self-loops on terminal states included). Declaration
// and row order are then shuffled, so nothing depends on the structure.
func genSpec[S, E comparable](t *rapid.T, sGen *rapid.Generator[S], eGen *rapid.Generator[E]) fsm.Spec[S, E] {
	states := rapid.SliceOfNDistinct(sGen, 1, 8, func(s S) S { return s }).Draw(t, "states")
	events := rapid.SliceOfNDistinct(eGen, 1, 6, func(e E) E { return e }).Draw(t, "events")
	n, nE := len(states), len(events)

	nt := 1 // a lone state must be terminal: it has nowhere to go
	if n > 1 {
		nt = rapid.IntRange(0, n-1).Draw(t, "terminals")
		// Keep enough (state, event) slots for the structural rows.
		for nt > 0 && (n-nt)*nE < (n-nt-1)+max(1, nt) {
			nt--
		}
	}
	k := n - nt // states[:k] are non-terminal, states[0] is initial

	used := map[[2]int]bool{}
	var rows []fsm.Transition[S, E]
	add := func(from, ev, to int) {
		used[[2]int{from, ev}] = true
		rows = append(rows, fsm.Transition[S, E]{From: states[from], Event: events[ev], To: states[to]})
	}
	free := func(from int) []int {
		var out []int
		for e := range nE {
			if !used[[2]int{from, e}] {
				out = append(out, e)
			}
		}
		return out
	}
	link := func(from, to int) { add(from, rapid.SampledFrom(free(from)).Draw(t, "ev"), to) }

	if k > 0 && n > 1 {
		for i := 1; i < k; i++ {
			link(i-1, i)
		}
		if nt > 0 {
			link(k-1, k)
		} else {
			link(k-1, rapid.IntRange(0, k-2).Draw(t, "back"))
		}
		for term := k + 1; term < n; term++ {
			var parents []int
			for p := range k {
				if len(free(p)) > 0 {
					parents = append(parents, p)
				}
			}
			link(rapid.SampledFrom(parents).Draw(t, "parent"), term)
		}
	}
	for from := range n {
		for _, e := range free(from) {
			switch {
			case from < k && rapid.Bool().Draw(t, "extra"):
				add(from, e, rapid.IntRange(0, n-1).Draw(t, "to"))
			case from >= k && rapid.IntRange(0, 3).Draw(t, "loop") == 0:
				add(from, e, from)
			}
		}
	}

	return fsm.Spec[S, E]{
		Name:        "random",
		Initial:     states[0],
		States:      rapid.Permutation(states).Draw(t, "stateOrder"),
		Events:      rapid.Permutation(events).Draw(t, "eventOrder"),
		Terminal:    rapid.Permutation(states[k:]).Draw(t, "terminalOrder"),
		Transitions: rapid.Permutation(rows).Draw(t, "rowOrder"),
	}
}
