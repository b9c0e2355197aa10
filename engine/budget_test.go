package engine

import (
	"context"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

// fan is a model of three levels whose last is wide: the root has
// fanWidth successors and each of them fanDegree, so that level 2 holds
// fanWidth*fanDegree states, a million, each encoded in 16 bytes.
type fan struct{}

const (
	fanWidth  = 20_000
	fanDegree = 50
)

func (fan) Init(s *uint32) { *s = 0 }

func (fan) Actions(s *uint32, dst []uint32) []uint32 {
	switch {
	case *s == 0:
		for i := range uint32(fanWidth) {
			dst = append(dst, i)
		}
	case *s <= fanWidth:
		for i := range uint32(fanDegree) {
			dst = append(dst, i)
		}
	}
	return dst
}

func (fan) Apply(s *uint32, a *uint32, next *uint32) {
	if *s == 0 {
		*next = 1 + *a
		return
	}
	*next = fanWidth + 1 + (*s-1)*fanDegree + *a
}

func (fan) Encode(dst []byte, s *uint32) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, *s)
	return append(dst, make([]byte, 12)...)
}

func (fan) Decode(src []byte, s *uint32) error {
	if len(src) != 16 {
		return errors.New("fan: want 16 bytes")
	}
	*s = binary.LittleEndian.Uint32(src)
	return nil
}

func (fan) Properties() []Property[uint32, uint32] {
	return []Property[uint32, uint32]{{Name: "ANY", State: func(*uint32) error { return nil }}}
}

// TestMaxStatesWithinBudgetOnAWideLevel caps a search at 50,000 states
// under a budget of 4 MiB, where level 2's million successors would take
// about 50 MiB (16 bytes of encoding, a 32-byte record and a 12-byte ref
// each, besides the visited set): the search must stop at the cap inside
// the level, having held no more than the budget, in memory and on disk,
// and store the same states whatever the number of workers.
func TestMaxStatesWithinBudgetOnAWideLevel(t *testing.T) {
	const budget = 4 << 20
	var first Report[uint32]
	for i, cfg := range []Config{
		{Workers: 2},
		{Workers: 1},
		{Workers: 2, WorkDir: t.TempDir()},
	} {
		cfg.MaxStates, cfg.MemoryBudget = 50_000, budget
		r, err := Search(context.Background(), fan{}, cfg)
		require.NoError(t, err)
		require.Equal(t, StoppedMaxStates, r.Stopped, "config %d", i)
		require.Equal(t, uint64(50_000), r.States, "config %d", i)
		require.Equal(t, 2, r.Depth)
		require.LessOrEqual(t, r.Memory, int64(budget), "config %d: held more than the budget", i)
		require.Equal(t, Unknown, r.Verdict("ANY"))
		if i == 0 {
			first = r
			continue
		}
		require.Equal(t, first.Transitions, r.Transitions, "config %d: the same states expanded", i)
	}
	require.Less(t, first.Transitions, uint64(fanWidth+fanWidth*fanDegree), "the cap was met inside level 2")
}

// TestBudgetStopIsTheSameEveryRun stops a search at its memory budget
// inside a level, again and again, with one worker and with two, in
// memory and on disk: every run with as many workers must store, expand
// and count the same states and report the same memory, whichever
// worker took which block of the level and whichever claimed a successor
// first. What the budget counts is what the search must hold, not the
// capacity its workers' buffers happened to reach.
func TestBudgetStopIsTheSameEveryRun(t *testing.T) {
	model := cube{side: 60} // 216,000 states: the 1 MiB budget stops it midway
	const budget = 1 << 20
	for _, onDisk := range []bool{false, true} {
		for _, workers := range []int{1, 2} {
			var first Report[uint8]
			for run := range 6 {
				cfg := Config{Workers: workers, MemoryBudget: budget}
				if onDisk {
					cfg.WorkDir = t.TempDir()
				}
				r, err := Search(context.Background(), model, cfg)
				require.NoError(t, err)
				require.Equal(t, StoppedMemory, r.Stopped, "on disk %v, %d workers, run %d", onDisk, workers, run)
				require.LessOrEqual(t, r.Memory, int64(budget), "on disk %v, %d workers, run %d", onDisk, workers, run)
				if run == 0 {
					first = r
					continue
				}
				require.Equal(t, []any{first.States, first.Transitions, first.Depth, first.Memory},
					[]any{r.States, r.Transitions, r.Depth, r.Memory},
					"on disk %v, %d workers, run %d: states, transitions, depth and memory", onDisk, workers, run)
			}
		}
	}
}

// TestResumedBudgetStopIsTheSameStop cuts a search that its budget will
// stop, halfway to the stop, resumes it from its checkpoint, and
// requires the stop an uninterrupted run makes, to the state: what the
// budget counts after a resume is what it counted before, because it is
// a function of the search's counts (the workers' share among them,
// checkpointed), and not of the buffers a process happened to have.
func TestResumedBudgetStopIsTheSameStop(t *testing.T) {
	model := cube{side: 60}
	const budget = 1 << 20
	cfg := Config{Workers: 2, MemoryBudget: budget, Identity: "cube 60 at 1 MiB"}
	whole := cfg
	whole.Checkpoint = t.TempDir()
	want, err := Search(context.Background(), model, whole)
	require.NoError(t, err)
	require.Equal(t, StoppedMemory, want.Stopped)
	require.Greater(t, want.Depth, 4)

	cut := cfg
	cut.Checkpoint = t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cut.Progress = func(p Progress) {
		if p.Depth == want.Depth/2 {
			cancel()
		}
	}
	r, err := Search(ctx, model, cut)
	require.NoError(t, err)
	require.Equal(t, StoppedContext, r.Stopped)

	resumed := cfg
	resumed.Checkpoint, resumed.Resume = cut.Checkpoint, true
	got, err := Search(context.Background(), model, resumed)
	require.NoError(t, err)
	require.Equal(t, []any{want.States, want.Transitions, want.Depth, want.Stopped, want.Memory},
		[]any{got.States, got.Transitions, got.Depth, got.Stopped, got.Memory})
}
