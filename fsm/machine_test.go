package fsm_test

import (
	"errors"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/verishake/verishake/fsm"
)

func TestNextAndFire(t *testing.T) {
	m := fsm.MustCompile(handshakeSpec())

	to, err := m.Next(AwaitValidation, Validation)
	require.NoError(t, err)
	assert.Equal(t, AwaitConfirm2, to)
	assert.True(t, m.Can(AwaitValidation, Retry))
	assert.False(t, m.Can(Idle, Confirm2))

	in := m.Start()
	assert.Equal(t, Idle, in.State())
	for _, ev := range []hsEvent{Start, Retry, Validation, Confirm2, Command} {
		require.NoError(t, in.Fire(ev))
	}
	assert.Equal(t, Verified, in.State())
	assert.True(t, m.IsTerminal(in.State()))
	assert.False(t, m.IsTerminal(Idle))
	assert.Same(t, m, in.Machine())

	// Copying an instance forks it.
	fork := m.At(AwaitValidation)
	other := fork
	require.NoError(t, other.Fire(GiveUp))
	assert.Equal(t, AwaitValidation, fork.State())
	assert.Equal(t, Failed, other.State())
	assert.Equal(t, m.At(Failed), other)
}

func TestFireFailureLeavesStateAndNamesIt(t *testing.T) {
	m := fsm.MustCompile(handshakeSpec())
	in := m.At(AwaitValidation)
	err := in.Fire(Confirm2)
	require.Error(t, err)
	assert.Equal(t, AwaitValidation, in.State())
	assert.EqualError(t, err, `fsm: machine "client": no transition from AwaitValidation on Confirm2`)
	assert.ErrorIs(t, err, fsm.ErrNoTransition)

	var nt *fsm.NoTransitionError[hsState, hsEvent]
	require.True(t, errors.As(err, &nt))
	assert.Equal(t, fsm.NoTransitionError[hsState, hsEvent]{Machine: "client", State: AwaitValidation, Event: Confirm2, Err: fsm.ErrNoTransition}, *nt)

	to, nerr := m.Next(AwaitValidation, Confirm2)
	assert.Equal(t, AwaitValidation, to)
	assert.Equal(t, err, nerr)

	// Terminal states reject everything but their self-loops.
	done := m.At(Failed)
	assert.ErrorIs(t, done.Fire(Start), fsm.ErrNoTransition)
	assert.Equal(t, Failed, done.State())
}

func TestUnknownValues(t *testing.T) {
	m := fsm.MustCompile(handshakeSpec())

	in := m.At(hsState(200))
	err := in.Fire(Start)
	assert.ErrorIs(t, err, fsm.ErrUnknownState)
	assert.EqualError(t, err, `fsm: machine "client": unknown state hsState(200) (event Start)`)
	assert.Equal(t, hsState(200), in.State())
	assert.Nil(t, in.Permitted())
	assert.False(t, m.IsTerminal(hsState(200)))

	in = m.Start()
	err = in.Fire(hsEvent(255))
	assert.ErrorIs(t, err, fsm.ErrUnknownEvent)
	assert.EqualError(t, err, `fsm: machine "client": unknown event hsEvent(255) in state Idle`)
	var nt *fsm.NoTransitionError[hsState, hsEvent]
	require.ErrorAs(t, err, &nt)
	assert.Equal(t, hsEvent(255), nt.Event)
	assert.Equal(t, Idle, in.State())

	_, err = m.Next(hsState(9), hsEvent(9))
	assert.ErrorIs(t, err, fsm.ErrUnknownState, "an unknown state is reported before an unknown event")

	var zero fsm.Instance[hsState, hsEvent]
	assert.ErrorIs(t, zero.Fire(Start), fsm.ErrUnknownState)
	assert.Nil(t, zero.Permitted())
	assert.Nil(t, zero.Machine())
}

// Values around and between the declared ones, for each lookup strategy:
// signed dense with negatives, unsigned dense with gaps, sparse integers
// (map), and strings (map).
func TestUndeclaredValuesNeverPanic(t *testing.T) {
	checkUndeclared(t, []int8{-3, -1, 4}, []int8{math.MinInt8, -4, -2, 0, 3, 5, math.MaxInt8})
	checkUndeclared(t, []uint16{2, 7, 300}, []uint16{0, 1, 3, 6, 299, 301, math.MaxUint16})
	checkUndeclared(t, []int64{math.MinInt64, 0, math.MaxInt64}, []int64{-1, 1, math.MinInt64 + 1, math.MaxInt64 - 1})
	checkUndeclared(t, []uint64{0, math.MaxUint64}, []uint64{1, math.MaxUint64 - 1, 1 << 63})
	checkUndeclared(t, []int{-1 << 40, 1 << 40}, []int{0, -1<<40 + 1})
	checkUndeclared(t, []string{"a", "b", "c"}, []string{"", "d", "A"})
}

func checkUndeclared[T comparable](t *testing.T, declared, undeclared []T) {
	t.Helper()
	var rows []fsm.Transition[T, T]
	for i := range declared {
		rows = append(rows, fsm.Transition[T, T]{From: declared[i], Event: declared[i], To: declared[(i+1)%len(declared)]})
	}
	m := fsm.MustCompile(fsm.Spec[T, T]{Name: "u", Initial: declared[0], States: declared, Events: declared, Transitions: rows})
	for i, s := range declared {
		to, err := m.Next(s, s)
		require.NoError(t, err)
		assert.Equal(t, declared[(i+1)%len(declared)], to)
		for _, u := range undeclared {
			_, err := m.Next(s, u)
			assert.ErrorIs(t, err, fsm.ErrUnknownEvent, "state %v event %v", s, u)
			_, err = m.Next(u, s)
			assert.ErrorIs(t, err, fsm.ErrUnknownState, "state %v event %v", u, s)
			in := m.At(u)
			assert.ErrorIs(t, in.Fire(s), fsm.ErrUnknownState)
			assert.False(t, m.Can(u, s))
			assert.False(t, m.IsTerminal(u))
			assert.Nil(t, m.Permitted(u))
		}
	}
}

func TestPermitted(t *testing.T) {
	m := fsm.MustCompile(handshakeSpec())
	// Spec event order, not transition order.
	assert.Equal(t, []hsEvent{Validation, Retry, GiveUp, Timeout}, m.Permitted(AwaitValidation))
	assert.Equal(t, []hsEvent{Start}, m.Start().Permitted())
	assert.Equal(t, []hsEvent{Command}, m.At(Verified).Permitted())
	assert.Empty(t, m.Permitted(Failed))

	p := m.Permitted(AwaitConfirm2)
	p[0] = Reset
	assert.Equal(t, []hsEvent{Retry, Confirm2, GiveUp, Timeout}, m.Permitted(AwaitConfirm2), "the caller owns the slice")
}

func TestSpecIsACopy(t *testing.T) {
	sp := handshakeSpec()
	m := fsm.MustCompile(sp)
	sp.Transitions[0].To = Failed // the caller's slice, after Compile
	got := m.Spec()
	got.States[0] = Failed
	assert.Equal(t, handshakeSpec(), m.Spec())
	to, err := m.Next(Idle, Start)
	require.NoError(t, err)
	assert.Equal(t, AwaitValidation, to)
}

func TestByName(t *testing.T) {
	m := fsm.MustCompile(handshakeSpec())
	s, ok := m.StateByName("AwaitConfirm2")
	assert.True(t, ok)
	assert.Equal(t, AwaitConfirm2, s)
	_, ok = m.StateByName("nope")
	assert.False(t, ok)
	e, ok := m.EventByName("GiveUp")
	assert.True(t, ok)
	assert.Equal(t, GiveUp, e)
	_, ok = m.EventByName("Idle")
	assert.False(t, ok)
}

func TestHotPathDoesNotAllocate(t *testing.T) {
	for name, m := range map[string]*fsm.Machine[hsState, hsEvent]{
		"session": fsm.MustCompile(sessionSpec()),
	} {
		in := m.Start()
		i := 0
		allocs := testing.AllocsPerRun(1000, func() {
			ev := sessionCycle[i%len(sessionCycle)]
			i++
			if err := in.Fire(ev); err != nil {
				t.Fatal(err)
			}
			_, _ = m.Next(in.State(), ev)
			_ = m.Can(in.State(), ev)
		})
		assert.Zero(t, allocs, name)
	}
	// The map fallback too.
	sm := fsm.MustCompile(fsm.Spec[string, string]{
		Name: "s", Initial: "a", States: []string{"a", "b"}, Events: []string{"x"},
		Transitions: []fsm.Transition[string, string]{{"a", "x", "b"}, {"b", "x", "a"}},
	})
	in := sm.Start()
	assert.Zero(t, testing.AllocsPerRun(1000, func() { _ = in.Fire("x") }))
}

func TestLookupMatchesNext(t *testing.T) {
	m := fsm.MustCompile(handshakeSpec())
	for _, s := range m.Spec().States {
		for _, e := range m.Spec().Events {
			to, err := m.Next(s, e)
			got, ok := m.Lookup(s, e)
			require.Equal(t, err == nil, ok, "%v on %v", s, e)
			require.Equal(t, to, got, "%v on %v", s, e)
		}
	}
	require.Zero(t, testing.AllocsPerRun(100, func() { m.Lookup(255, 255) }), "a refused lookup does not allocate")
}
