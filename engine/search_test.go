package engine

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// counter counts up to limit by 1 or 2; its invariant fails at bad.
type counter struct {
	limit, bad int
	props      []Property[int, int]
	flip       *int // non-nil: Actions changes order on every call
}

func (c counter) Init(s *int) { *s = 0 }

func (c counter) Actions(s *int, dst []int) []int {
	if *s >= c.limit {
		return dst
	}
	if c.flip != nil {
		*c.flip++
		if *c.flip%2 == 0 {
			return append(dst, 2, 1)
		}
	}
	return append(dst, 1, 2)
}

func (c counter) Apply(s *int, a *int, next *int) { *next = *s + *a }

func (c counter) Encode(dst []byte, s *int) []byte { return fmt.Appendf(dst, "%d", *s) }

func (c counter) Decode(src []byte, s *int) error {
	_, err := fmt.Sscanf(string(src), "%d", s)
	return err
}

func (c counter) Properties() []Property[int, int] {
	if c.props != nil {
		return c.props
	}
	return []Property[int, int]{
		{Name: "NOT-BAD", State: func(s *int) error {
			if *s == c.bad {
				return errors.New("reached the bad number")
			}
			return nil
		}},
		{Name: "NO-DEADLOCK", Stuck: func(s *int) error { return fmt.Errorf("stuck at %d", *s) }},
	}
}

func TestSearchFindsShortestAndStuck(t *testing.T) {
	r, err := Search(context.Background(), counter{limit: 10, bad: 7}, Config{})
	require.NoError(t, err)
	require.True(t, r.Complete)
	require.Equal(t, uint64(12), r.States, "0 to 11: 10 steps by 1 or 2 past 9 reach 11")
	bad, ok := r.Violated("NOT-BAD")
	require.True(t, ok)
	require.Equal(t, 4, bad.Path(), "7 is 2+2+2+1: four steps, no fewer")
	stuck, ok := r.Violated("NO-DEADLOCK")
	require.True(t, ok)
	require.Equal(t, 5, stuck.Path(), "10 is five steps of 2")
	require.Equal(t, "stuck at 10", stuck.Reason)
}

func TestIncompleteSearchIsUnknown(t *testing.T) {
	r, err := Search(context.Background(), counter{limit: 100, bad: 90}, Config{MaxStates: 10})
	require.NoError(t, err)
	require.False(t, r.Complete)
	require.LessOrEqual(t, r.States, uint64(10))
	require.Equal(t, Unknown, r.Verdict("NOT-BAD"))
	require.Equal(t, Unknown, r.Verdict("NO-DEADLOCK"))
}

func TestSearchRefusesBadProperties(t *testing.T) {
	two := Property[int, int]{Name: "TWO", State: func(*int) error { return nil }, Stuck: func(*int) error { return nil }}
	_, err := Search(context.Background(), counter{limit: 3, props: []Property[int, int]{two}}, Config{})
	require.ErrorIs(t, err, ErrModel)
	require.Contains(t, err.Error(), "TWO must set exactly one")

	none := Property[int, int]{State: func(*int) error { return nil }}
	_, err = Search(context.Background(), counter{limit: 3, props: []Property[int, int]{none}}, Config{})
	require.ErrorIs(t, err, ErrModel)

	_, err = Search(context.Background(), counter{limit: 3}, Config{StopOn: []string{"NOPE"}})
	require.ErrorIs(t, err, ErrModel)
	require.Contains(t, err.Error(), `"NOPE"`)
}

// TestANondeterministicModelIsCaught: a model whose actions come in a
// different order on every call cannot have its counterexample rebuilt;
// Search says so instead of reporting a path that reaches something else.
func TestANondeterministicModelIsCaught(t *testing.T) {
	calls := 0
	_, err := Search(context.Background(), counter{limit: 10, bad: 7, flip: &calls}, Config{Workers: 1})
	require.ErrorIs(t, err, ErrModel)
	require.Contains(t, err.Error(), "not deterministic")
}

// TestSimulateFindsWhatSearchFinds: random walks over the counter find the
// bad number and the deadlock, with counterexamples that reach them again
// from Init; the same seed gives the same report, and a property no walk
// violated is never said to hold.
func TestSimulateFindsWhatSearchFinds(t *testing.T) {
	m := counter{limit: 10, bad: 7}
	cfg := WalkConfig{Walks: 200, MaxDepth: 20, Seed: 5}
	r, err := Simulate(context.Background(), m, cfg)
	require.NoError(t, err)
	require.Equal(t, uint64(200), r.Walks)
	for _, name := range []string{"NOT-BAD", "NO-DEADLOCK"} {
		c, ok := r.Violated(name)
		require.True(t, ok, name)
		require.Equal(t, Violated, r.Verdict(name))
		sum := 0
		for _, a := range c.Actions {
			sum += a
		}
		want := map[string]int{"NOT-BAD": 7, "NO-DEADLOCK": 10}[name]
		if name == "NO-DEADLOCK" {
			require.GreaterOrEqual(t, sum, want, "a walk ends stuck at 10 or 11")
		} else {
			require.Equal(t, want, sum, "the walk's actions add up to the bad number")
		}
	}
	again, err := Simulate(context.Background(), m, cfg)
	require.NoError(t, err)
	r.Elapsed, again.Elapsed = 0, 0
	require.Equal(t, r, again, "same seed, same walks")

	safe, err := Simulate(context.Background(), counter{limit: 10, bad: 99}, cfg)
	require.NoError(t, err)
	require.Contains(t, safe.Verdict("NOT-BAD"), "not violated in 200 walks")
	require.NotEqual(t, Holds, safe.Verdict("NOT-BAD"))

	_, err = Simulate(context.Background(), m, WalkConfig{})
	require.ErrorIs(t, err, ErrModel)
}
