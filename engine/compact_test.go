package engine

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestHashCompactionFindsWhatTheExactSearchFinds(t *testing.T) {
	exact, err := Search(context.Background(), cubeModel, Config{Workers: 2})
	require.NoError(t, err)
	require.Zero(t, exact.Omitted, "an exact search omits nothing")
	for _, workers := range []int{1, 2} {
		r, err := Search(context.Background(), cubeModel, Config{Workers: workers, Compact: HashCompaction, CompactBytes: 1 << 20})
		require.NoError(t, err)
		// 64,000 states in 262,144 slots of 32 bits: about 20,000
		// comparisons, so about 5e-6 states expected omitted, and none
		// were (the same states as the exact search).
		sameSearch(t, exact, r)
		require.Equal(t, HashCompaction, r.Compaction)
		require.Positive(t, r.Omitted, "some comparisons were made")
		require.Less(t, r.Omitted, 1e-4)
		require.Equal(t, 1<<20, r.VisitedBytes)
	}
}

func TestAFullCompactionTableStopsUnknown(t *testing.T) {
	// 16,384 slots hold 13,107 states at 4/5: a fifth of the cube's.
	r, err := Search(context.Background(), cubeModel, Config{Workers: 2, Compact: HashCompaction, CompactBytes: 64 << 10})
	require.NoError(t, err)
	require.False(t, r.Complete)
	require.Equal(t, StoppedTable, r.Stopped)
	require.LessOrEqual(t, r.States, uint64(16384*4/5))
	require.Equal(t, Unknown, r.Verdict("IN-RANGE"))
}

func TestBitstateSaysHowMuchItMayHaveOmitted(t *testing.T) {
	exact, err := Search(context.Background(), cubeModel, Config{Workers: 2})
	require.NoError(t, err)

	// 8 million bits for 64,000 states: at most 2.4% of the bits set, and
	// so about 0.2 states expected omitted.
	roomy, err := Search(context.Background(), cubeModel, Config{Workers: 2, Compact: Bitstate, CompactBytes: 1 << 20})
	require.NoError(t, err)
	require.True(t, roomy.Complete)
	require.Positive(t, roomy.Omitted)
	require.Less(t, roomy.Omitted, 1.0)
	require.InDelta(t, float64(exact.States), float64(roomy.States), 5)

	// 8,192 bits: soon all but full, and the search omits most states
	// and says so.
	tiny, err := Search(context.Background(), cubeModel, Config{Workers: 2, Compact: Bitstate, CompactBytes: 1 << 10})
	require.NoError(t, err)
	require.Less(t, tiny.States, exact.States/2)
	require.Greater(t, tiny.Omitted, 1.0)
	require.Equal(t, 1<<10, tiny.VisitedBytes)
}

func TestLossySearchesAreNotCheckpointed(t *testing.T) {
	_, err := Search(context.Background(), cubeModel, Config{Checkpoint: t.TempDir(), Compact: Bitstate})
	require.ErrorIs(t, err, ErrCheckpoint)
	_, err = Search(context.Background(), cubeModel, Config{Compact: Bitstate + 1})
	require.Error(t, err)
}
