package engine

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// cube is a synthetic model with many states and wide levels: three
// counters below side, raised one at a time, rotated, or mixed. Its
// encoding carries padding so that a level spans many blocks on disk.
type cube struct{ side uint8 }

type point struct{ x, y, z uint8 }

const (
	incX uint8 = iota
	incY
	incZ
	rotate
	mix
)

func (c cube) Init(s *point) { *s = point{} }

func (c cube) Actions(s *point, dst []uint8) []uint8 {
	if s.x+1 < c.side {
		dst = append(dst, incX)
	}
	if s.y+1 < c.side {
		dst = append(dst, incY)
	}
	if s.z+1 < c.side {
		dst = append(dst, incZ)
	}
	return append(dst, rotate, mix)
}

func (c cube) Apply(s *point, a *uint8, next *point) {
	*next = *s
	switch *a {
	case incX:
		next.x++
	case incY:
		next.y++
	case incZ:
		next.z++
	case rotate:
		*next = point{s.y, s.z, s.x}
	case mix:
		next.x = uint8((int(s.x) + 7*int(s.y)) % int(c.side))
	}
}

func (c cube) Encode(dst []byte, s *point) []byte {
	dst = append(dst, s.x, s.y, s.z)
	for i := range 13 {
		dst = append(dst, s.x^byte(i))
	}
	return dst
}

func (c cube) Decode(src []byte, s *point) error {
	if len(src) != 16 {
		return errors.New("cube: want 16 bytes")
	}
	*s = point{src[0], src[1], src[2]}
	return nil
}

func (c cube) Properties() []Property[point, uint8] {
	return []Property[point, uint8]{
		{Name: "NO-CORNER", State: func(s *point) error {
			if s.x == c.side-1 && s.y == c.side-1 && s.z == 0 {
				return errors.New("corner reached")
			}
			return nil
		}},
		{Name: "NO-WRAP", Step: func(from *point, a *uint8, to *point) error {
			if *a == mix && to.x < from.x && from.z == 17 {
				return errors.New("mix wrapped at z 17")
			}
			return nil
		}},
		{Name: "IN-RANGE", State: func(s *point) error {
			if s.x >= c.side || s.y >= c.side || s.z >= c.side {
				return errors.New("out of range")
			}
			return nil
		}},
		{Name: "NEVER-STUCK", Stuck: func(*point) error { return errors.New("stuck") }},
	}
}

var cubeModel = cube{side: 40} // 64,000 states

// sameSearch requires two reports to agree on everything but time and memory.
func sameSearch(t *testing.T, want, got Report[uint8]) {
	t.Helper()
	require.Equal(t, want.States, got.States, "states")
	require.Equal(t, want.Transitions, got.Transitions, "transitions")
	require.Equal(t, want.Depth, got.Depth, "depth")
	require.Equal(t, want.Complete, got.Complete, "complete")
	require.Equal(t, want.Taken, got.Taken, "taken")
	require.Equal(t, want.Counterexamples, got.Counterexamples, "counterexamples")
	for _, p := range want.Properties {
		require.Equal(t, want.Verdict(p), got.Verdict(p), p)
	}
}

func TestSpilledSearchMatchesInMemory(t *testing.T) {
	want, err := Search(context.Background(), cubeModel, Config{Workers: 2})
	require.NoError(t, err)
	require.True(t, want.Complete)
	require.Len(t, want.Counterexamples, 2, "NO-CORNER and NO-WRAP fail; IN-RANGE and NEVER-STUCK hold")

	saved := maxSegmentBytes
	t.Cleanup(func() { maxSegmentBytes = saved })
	maxSegmentBytes = 1 << 10
	for _, workers := range []int{1, 2} {
		work := t.TempDir()
		// 4 MiB, about 3 times what the visited set needs, and 1 KiB of a
		// level read at a time: each level is expanded in many segments
		// of a few blocks, each merged before the next is read.
		const budget = 4 << 20
		got, err := Search(context.Background(), cubeModel, Config{Workers: workers, WorkDir: work, MemoryBudget: budget})
		require.NoError(t, err)
		sameSearch(t, want, got)
		require.Empty(t, got.Stopped)
		require.Greater(t, got.Disk, int64(64000*8), "levels and trails went to disk")
		require.LessOrEqual(t, got.Memory, int64(budget))
		left, err := os.ReadDir(work)
		require.NoError(t, err)
		require.Empty(t, left, "the search removes its files")
	}
}

func TestBudgetFarBelowNeedStopsUnknown(t *testing.T) {
	const budget = 256 << 10 // the visited set of 64,000 states needs about 800 KiB
	for _, work := range []string{"", t.TempDir()} {
		r, err := Search(context.Background(), cubeModel, Config{Workers: 2, WorkDir: work, MemoryBudget: budget})
		require.NoError(t, err)
		require.False(t, r.Complete)
		require.Equal(t, StoppedMemory, r.Stopped)
		require.Equal(t, Unknown, r.Verdict("IN-RANGE"), "a cut search is never a pass")
		require.LessOrEqual(t, r.VisitedBytes, budget)
		require.Less(t, r.States, uint64(64000))
	}
}

func TestMaxStatesStoresAtMostN(t *testing.T) {
	for _, work := range []string{"", t.TempDir()} {
		r, err := Search(context.Background(), cubeModel, Config{Workers: 2, WorkDir: work, MaxStates: 5000})
		require.NoError(t, err)
		require.False(t, r.Complete)
		require.Equal(t, StoppedMaxStates, r.Stopped)
		require.LessOrEqual(t, r.States, uint64(5000))
		require.Equal(t, Unknown, r.Verdict("IN-RANGE"))
	}
	// On disk under a budget of 512 KiB, less than the visited set of the
	// whole search needs (TestBudgetFarBelowNeedStopsUnknown), the cap is
	// met within it.
	const budget = 512 << 10
	r, err := Search(context.Background(), cubeModel, Config{Workers: 2, WorkDir: t.TempDir(), MaxStates: 5000, MemoryBudget: budget})
	require.NoError(t, err)
	require.Equal(t, StoppedMaxStates, r.Stopped)
	require.Equal(t, uint64(5000), r.States)
	require.LessOrEqual(t, r.Memory, int64(budget))
}

func TestFullDiskStopsUnknown(t *testing.T) {
	saved := createForWrite
	t.Cleanup(func() { createForWrite = saved })
	createForWrite = func(path string) (*os.File, error) {
		if strings.HasSuffix(filepath.Base(path), "-9") {
			return os.OpenFile("/dev/full", os.O_WRONLY, 0) // every write: no space left on device
		}
		return saved(path)
	}
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full")
	}
	work := t.TempDir()
	r, err := Search(context.Background(), cubeModel, Config{Workers: 2, WorkDir: work})
	require.NoError(t, err, "a full disk is a stopped search, not an error")
	require.False(t, r.Complete)
	require.Contains(t, r.Stopped, "no space left on device")
	require.Equal(t, Unknown, r.Verdict("IN-RANGE"))
	require.Equal(t, 9, r.Depth, "level 9 was found, and could not be written")
	left, err := os.ReadDir(work)
	require.NoError(t, err)
	require.Empty(t, left)
}

func TestResumedSearchGivesTheSameReport(t *testing.T) {
	want, err := Search(context.Background(), cubeModel, Config{Workers: 2})
	require.NoError(t, err)

	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := Config{Workers: 2, Checkpoint: dir, Identity: "cube 40"}
	cfg.Progress = func(p Progress) {
		if p.Depth == want.Depth/2 {
			cancel() // as a SIGINT would, in the middle of the search
		}
	}
	cut, err := Search(ctx, cubeModel, cfg)
	require.NoError(t, err)
	require.False(t, cut.Complete)
	require.Equal(t, StoppedContext, cut.Stopped)
	require.FileExists(t, filepath.Join(dir, checkpointMeta), "a search cut short keeps its checkpoint")

	_, err = Search(context.Background(), cubeModel, Config{Checkpoint: dir, Identity: "cube 40"})
	require.ErrorIs(t, err, ErrCheckpoint, "a new search does not overwrite a checkpoint")
	_, err = Search(context.Background(), cubeModel, Config{Checkpoint: dir, Resume: true, Identity: "cube 41"})
	require.ErrorIs(t, err, ErrCheckpoint, "nor resumes another configuration's")

	got, err := Search(context.Background(), cubeModel, Config{Workers: 1, Checkpoint: dir, Resume: true, Identity: "cube 40"})
	require.NoError(t, err)
	sameSearch(t, want, got)
	left, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Empty(t, left, "a finished search removes its checkpoint")
}

func TestFPSetRoundTrips(t *testing.T) {
	s := NewFPSet(0)
	for i := range uint64(3000) {
		s.Add(i * 0x9e3779b97f4a7c15)
	}
	var buf strings.Builder
	require.NoError(t, s.writeTo(&buf))
	back, err := readFPSet(strings.NewReader(buf.String()))
	require.NoError(t, err)
	for i := range s.shards {
		require.Equal(t, s.shards[i].slots, back.shards[i].slots)
	}
	require.Equal(t, s.Len(), back.Len())
	_, err = readFPSet(strings.NewReader(buf.String()[:buf.Len()-8]))
	require.Error(t, err, "a cut file is damage")
}

// TestParallelAddsKeepTheMergeOrder makes every merge add its successors
// with both workers at once (addInParallel) and requires the very search
// the one-worker merge makes, which adds them one by one: the same states
// in the same order (so the same transitions and counterexamples), in
// memory, on disk and under a budget that leaves room; and under one that
// stops the search midway, the budget kept.
func TestParallelAddsKeepTheMergeOrder(t *testing.T) {
	model := cube{side: 60} // 216,000 states, levels of thousands
	want, err := Search(context.Background(), model, Config{Workers: 1})
	require.NoError(t, err)
	require.True(t, want.Complete)

	saved := parallelAddMin
	t.Cleanup(func() { parallelAddMin = saved })
	for _, cfg := range []Config{
		{Workers: 2},
		{Workers: 2, WorkDir: t.TempDir()},
		{Workers: 2, WorkDir: t.TempDir(), MemoryBudget: 16 << 20},
	} {
		parallelAddMin = 1
		got, err := Search(context.Background(), model, cfg)
		require.NoError(t, err)
		sameSearch(t, want, got)
	}

	// A budget the visited set outgrows: the merges share their adds
	// while the growth they may need fits, then add one by one, and the
	// search stops at the budget, never past it, at the very state where
	// the search that never shares its adds stops.
	const budget = 1 << 20
	var stops []Report[uint8]
	for _, fewest := range []int{1, math.MaxInt} {
		parallelAddMin = fewest
		stopped, err := Search(context.Background(), model, Config{Workers: 2, WorkDir: t.TempDir(), MemoryBudget: budget})
		require.NoError(t, err)
		require.Equal(t, StoppedMemory, stopped.Stopped)
		require.LessOrEqual(t, stopped.Memory, int64(budget))
		stops = append(stops, stopped)
	}
	stopped := stops[0]
	require.Equal(t, []any{stops[1].States, stops[1].Transitions, stops[1].Depth, stops[1].Memory},
		[]any{stopped.States, stopped.Transitions, stopped.Depth, stopped.Memory}, "shared adds and one-by-one adds stop alike")
	require.Less(t, stopped.States, want.States)
}
