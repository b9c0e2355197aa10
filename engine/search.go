package engine

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/cespare/xxhash/v2"
)

// Config bounds a search.
type Config struct {
	// Workers expand a level in parallel (0: GOMAXPROCS). The report is the
	// same whatever their number.
	Workers int
	// MaxStates stops the search once that many states are stored (0: no
	// limit), inside a level if the cap is met there (after the part of
	// the level that met it); the report is then incomplete, and a
	// property not violated so far is unknown, never held.
	MaxStates int
	// StopOn ends the search after the level at which every property it
	// names has been violated; the report is then incomplete.
	StopOn []string
	// StopAtFirst ends the search after the first level at which any
	// property is violated, with the shortest counterexamples of what
	// broke first: for a caller that needs only to know whether every
	// property holds. The report is then incomplete.
	StopAtFirst bool
	// Progress, if set, is called after each level and, with a WorkDir,
	// after each block of a level read from disk.
	Progress func(Progress)
	// WorkDir, if set, keeps every level's frontier and trail in files of
	// a directory the search makes in it and removes when it ends: memory
	// then holds the visited set and a few blocks of the level being
	// expanded, not whole levels. Counterexamples are the same.
	WorkDir string
	// MemoryBudget bounds the bytes the search holds (0: no bound): the
	// visited set, the level set, the buffers of the states being expanded
	// and of their successors and, without a WorkDir, the frontiers and
	// trails. A level is expanded a part at a time, each part's successors
	// merged before the next part is expanded, and the search checks the
	// budget before each part and before the visited set grows: a search
	// that would need more stops, incomplete, with Report.Stopped
	// StoppedMemory, inside the level if that is where the budget ends.
	MemoryBudget int64
	// Checkpoint, if set, is a directory where the search keeps its
	// levels (in place of WorkDir) and, after each completed level, what
	// it needs to go on from there: a search killed at any moment resumes
	// from its last completed level (Resume) to the report it would have
	// given. The files are removed when the search finishes; a search cut
	// short keeps them. A directory holding a checkpoint is refused unless
	// Resume is set.
	Checkpoint string
	// Resume continues the search checkpointed in Checkpoint, which must
	// have been made with the same model and Identity.
	Resume bool
	// Identity names the model and its configuration in a checkpoint: a
	// resume with another is refused (ErrCheckpoint).
	Identity string
	// Compact, if not Exact, keeps the visited set lossily, in less
	// memory (see Compaction): the report then says how many states it
	// may have omitted (Report.Omitted). Not with Checkpoint.
	Compact Compaction
	// CompactBytes is the size of a HashCompaction or Bitstate table (0: a
	// quarter of MemoryBudget, or 256 MiB without one).
	CompactBytes int64
}

// Progress is the state of a running search.
type Progress struct {
	States, Transitions uint64
	// Depth is the levels explored so far; Frontier the states waiting
	// to be expanded (in the level being expanded and in the next).
	Depth, Frontier int
	// Memory is the bytes the search holds as the budget counts them;
	// Disk the bytes of its files in the work directory.
	Memory, Disk int64
}

// Why a search stopped short (Report.Stopped), besides a disk error.
const (
	StoppedMemory    = "memory budget"
	StoppedMaxStates = "max states"
	StoppedContext   = "cancelled"
	// StoppedTable: a HashCompaction table is 4/5 full (Config.CompactBytes).
	StoppedTable = "compaction table full"
)

// Report is what a search found.
type Report[A any] struct {
	States, Transitions uint64
	// Depth is the number of levels explored past the initial state.
	Depth int
	// Complete is true when every reachable state was explored.
	Complete bool
	Elapsed  time.Duration
	// Properties are the names of the properties checked, in order.
	Properties []string
	// Counterexamples holds one shortest counterexample per violated
	// property, in the order of Properties.
	Counterexamples []Counterexample[A]
	// VisitedBytes is the memory the visited set holds.
	VisitedBytes int
	// Taken counts the transitions by action kind, for a Kinded model.
	Taken [256]uint64
	// Stopped says why an incomplete search stopped: StoppedMaxStates,
	// StoppedMemory, StoppedContext, or what went wrong with the work
	// directory (a full disk, say); empty when it stopped on StopOn or
	// StopAtFirst, or was complete.
	Stopped string
	// Memory is the most bytes the search held as MemoryBudget counts
	// them; Disk the most bytes its files took in the work directory.
	Memory, Disk int64
	// Compaction is Config.Compact. With a lossy one, Complete means that
	// the search ran out of new states, not that it saw every reachable
	// one, and a property holds in every state it kept: Omitted is the
	// expected number of states it wrongly took for ones seen before
	// (so the probability that it omitted any is at most Omitted).
	Compaction Compaction
	Omitted    float64
}

// Counterexample is a run from the initial state to a violation.
type Counterexample[A any] struct {
	Property string
	Reason   string
	// Actions replay from Init: each is one its state enabled.
	Actions []A
	// Continuation is how many of the last Actions are a Continue
	// property's continuation from the violating state.
	Continuation int
}

// Path is the length of the path to the violating state: breadth-first
// search makes it shortest.
func (c Counterexample[A]) Path() int { return len(c.Actions) - c.Continuation }

// Verdicts a report gives a property.
const (
	Holds    = "holds"
	Violated = "violated"
	Unknown  = "unknown"
)

// Verdict is the report's verdict on property: violated with a
// counterexample, holds after a complete search, unknown otherwise.
func (r Report[A]) Verdict(property string) string {
	if _, ok := r.Violated(property); ok {
		return Violated
	}
	if r.Complete {
		return Holds
	}
	return Unknown
}

// Violated returns the counterexample for property, if it was violated.
func (r Report[A]) Violated(property string) (Counterexample[A], bool) {
	i := slices.IndexFunc(r.Counterexamples, func(c Counterexample[A]) bool { return c.Property == property })
	if i < 0 {
		return Counterexample[A]{}, false
	}
	return r.Counterexamples[i], true
}

// ErrModel marks a model the engine cannot search.
var ErrModel = errors.New("engine: bad model")

// Search explores every state of m reachable within cfg, breadth first,
// and reports for each violated property a shortest counterexample: the
// first level at which a property fails is the length of the shortest
// path to a violation, and within a level the least (state, action) in
// search order wins, so the report does not depend on cfg.Workers.
func Search[S, A any](ctx context.Context, m Model[S, A], cfg Config) (Report[A], error) {
	props := m.Properties()
	seen := map[string]bool{}
	for i := range props {
		p := &props[i]
		if p.Name == "" || seen[p.Name] {
			return Report[A]{}, fmt.Errorf("%w: property %d has an empty or repeated name %q", ErrModel, i, p.Name)
		}
		if p.kind() == "" {
			return Report[A]{}, fmt.Errorf("%w: property %s must set exactly one of State, Step, Stuck, Continue", ErrModel, p.Name)
		}
		seen[p.Name] = true
	}
	for _, name := range cfg.StopOn {
		if !seen[name] {
			return Report[A]{}, fmt.Errorf("%w: StopOn names %q, which the model does not check", ErrModel, name)
		}
	}
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.GOMAXPROCS(0)
	}
	if cfg.Resume && cfg.Checkpoint == "" {
		return Report[A]{}, fmt.Errorf("%w: Resume without a Checkpoint directory", ErrCheckpoint)
	}
	if cfg.MemoryBudget < 0 {
		return Report[A]{}, fmt.Errorf("engine: memory budget %d: want 0 (none) or more", cfg.MemoryBudget)
	}
	if cfg.Compact > Bitstate || cfg.CompactBytes < 0 {
		return Report[A]{}, fmt.Errorf("engine: compaction %v of %d bytes: want exact, hash or bitstate, and 0 bytes (the default) or more", cfg.Compact, cfg.CompactBytes)
	}
	if cfg.Compact.Lossy() && cfg.Checkpoint != "" {
		return Report[A]{}, fmt.Errorf("%w: a search with %v compaction is not checkpointed", ErrCheckpoint, cfg.Compact)
	}
	s := &search[S, A]{m: m, cfg: cfg, props: props, found: map[int]violation{}, chunkLen: chunkSize}
	table := cfg.CompactBytes
	if table == 0 {
		table = 256 << 20
		if cfg.MemoryBudget > 0 {
			table = cfg.MemoryBudget / 4
		}
	}
	switch cfg.Compact {
	case HashCompaction:
		s.visited = newHCSet(table)
	case Bitstate:
		s.visited = newBitSet(table)
	default:
		s.visited = NewFPSet(1 << 12)
	}
	s.fingerprinter, _ = m.(Fingerprinter[S])
	s.peeker, _ = m.(Peeker[S, A])
	s.redundant, _ = m.(Redundant[S, A])
	s.kinded, _ = m.(Kinded[A])
	return s.run(ctx)
}

// search is one run of Search. Each level is a frontier of encoded
// states in byte arenas; how each state was reached is kept as two
// integers (its parent's index in the previous level and the index of the
// action among those its parent enabled), from which a counterexample is
// rebuilt by running the model again.
type search[S, A any] struct {
	m             Model[S, A]
	fingerprinter Fingerprinter[S]
	peeker        Peeker[S, A]
	redundant     Redundant[S, A]
	kinded        Kinded[A]
	cfg           Config
	props         []Property[S, A]

	level       int
	visited     visitedSet
	added       addMarks // addInParallel's findings for the merge it ran
	fresh       LevelSet
	transitions uint64
	found       map[int]violation // by property index
	trails      []trail
	workers     []*worker[S, A]
	capped      bool
	mu          sync.Mutex
	spare       [][]byte // the workers' arena chunks, to reuse (scratch)
	levelSpare  [][]byte // chunks of levels and segments expanded, to reuse

	disk      *spill   // nil: levels and trails in memory
	seg       frontier // the states of a level read from disk, a segment at a time
	segBytes  int      // how much of a level is read from disk, or expanded in memory, at a time
	chunkLen  int      // an arena chunk is full past this
	stopped   string   // why the search stops short (Report.Stopped)
	peakMem   int64
	peakDisk  int64
	before    time.Duration // the search's time before it was resumed
	levelHeld int64         // in memory: the arena bytes of the level being expanded
	nextHeld  int64         // in memory: the arena bytes of the next level so far
	fanout    float64       // actions per state in the last part expanded (0: none yet)
	// scratchHW is what the budget counts for the workers' buffers: the
	// most any part expanded so far could have needed, every action a new
	// successor as long as the part's first state. It is a count, not the
	// buffers' capacity, so that a search stopped by its budget stops at
	// the same state in every run: which worker took which block, and
	// which claimed a successor first, change the capacities, not it.
	scratchHW int64
}

// violation is a property's first failure: at a level, from the state
// with index parent, by action (-1: the state itself fails it).
type violation struct {
	level, parent, action int
	reason                string
}

// trail says how each state of a level was reached.
type trail struct{ parent, action []int32 }

// frontier is one level's states, encoded.
type frontier struct {
	refs   []ref
	chunks [][]byte
}

type ref struct {
	chunk    int32
	off, end uint32
}

// kid is a successor new to the visited set, found while a level expands.
type kid struct {
	fp             uint64
	parent, action int32
	ref            ref // chunk: the worker's own
}

type block struct{ worker, start, end int }

// maxSegmentBytes is the most of a level on disk read at a time (under a
// budget, 1/32 of it if that is less, but not under 16 KiB); tests lower
// it to cut small levels into many segments.
var maxSegmentBytes = 4 * chunkSize

const (
	blockSize = 128
	chunkSize = 1 << 20
)

func (s *search[S, A]) fingerprint(st *S, enc *[]byte) uint64 {
	if s.fingerprinter != nil {
		return s.fingerprinter.Fingerprint(st)
	}
	*enc = s.m.Encode((*enc)[:0], st)
	return xxhash.Sum64(*enc)
}

func (s *search[S, A]) full() bool { return s.cfg.MaxStates > 0 && s.visited.Len() >= s.cfg.MaxStates }

// stop records the first reason the search stops short.
func (s *search[S, A]) stop(reason string) {
	if s.stopped == "" {
		s.stopped = reason
	}
}

// memory is what the budget counts: the visited set, the level set, the
// arenas of levels and segments (in use and spare), the workers' scratch
// and, in memory, the frontier's refs and the trails. Each term is a
// function of the search's counts alone, never of timing.
func (s *search[S, A]) memory(refs int) int64 {
	m := s.stored(refs) + s.scratch()
	s.peakMem = max(s.peakMem, m)
	return m
}

// stored is memory but the workers' scratch.
func (s *search[S, A]) stored(refs int) int64 {
	m := int64(s.visited.Bytes()) + int64(len(s.fresh.e))*16 + int64(refs)*12 + s.levelHeld + s.nextHeld
	m += arenaBytes(s.levelSpare) + arenaBytes(s.seg.chunks) + int64(cap(s.seg.refs))*12
	for _, t := range s.trails {
		m += 8 * int64(len(t.parent))
	}
	return m
}

// scratch is what the budget counts for the workers' successor records
// and arena chunks, in use and spare: the most a part has needed
// (scratchHW), and at least a chunk a worker.
func (s *search[S, A]) scratch() int64 {
	return max(s.scratchHW, int64(len(s.workers))*s.chunkCap())
}

// trimScratch gives back to the collector the workers' buffers above what
// the budget counts for them (scratch): their capacity depends on which
// worker took which block, and the budget must bound it.
func (s *search[S, A]) trimScratch() {
	kept := arenaBytes(s.spare)
	for _, wk := range s.workers {
		kept += int64(cap(wk.kids)) * kidBytesEach
	}
	for len(s.spare) > 0 && kept > s.scratch() {
		kept -= int64(cap(s.spare[len(s.spare)-1]))
		s.spare = s.spare[:len(s.spare)-1]
	}
	for _, wk := range s.workers {
		if kept <= s.scratch() {
			break
		}
		kept -= int64(cap(wk.kids)) * kidBytesEach
		wk.kids = nil
	}
}

// recycleScratch returns the workers' arena chunks, once a part is
// merged, to the spare ones.
func (s *search[S, A]) recycleScratch(workers int) {
	for _, wk := range s.workers[:workers] {
		s.spare = s.recycle(s.spare, wk.chunks)
		wk.chunks = nil
	}
	s.trimScratch()
}

// recycle adds to pool the chunks of the capacity chunk makes (not a
// state's own chunk, nor the initial state's encoding), so that every
// chunk a pool gives out is alike.
func (s *search[S, A]) recycle(pool, chunks [][]byte) [][]byte {
	for _, c := range chunks {
		if int64(cap(c)) == s.chunkCap() {
			pool = append(pool, c)
		}
	}
	return pool
}

// refsHeld is how many refs to a level of states memory holds.
func (s *search[S, A]) refsHeld(states int) int {
	if s.disk != nil {
		return 0
	}
	return states
}

// roomToGrow reports whether the visited set may grow fp's shard within
// the budget: while it grows, it holds the shard's old table and new.
func (s *search[S, A]) roomToGrow(fp uint64, refs int) bool {
	return s.memory(refs)+int64(s.visited.GrowBytes(fp)) <= s.cfg.MemoryBudget
}

// fullStop is why the search stops when the visited set has no room.
func (s *search[S, A]) fullStop() string {
	if s.cfg.Compact == HashCompaction {
		return StoppedTable
	}
	return StoppedMemory
}

// overBudget reports whether the search holds more than its budget.
func (s *search[S, A]) overBudget(refs int) bool {
	return s.cfg.MemoryBudget > 0 && s.memory(refs) > s.cfg.MemoryBudget
}

func (s *search[S, A]) run(ctx context.Context) (Report[A], error) {
	start := time.Now()
	for range s.cfg.Workers {
		s.workers = append(s.workers, &worker[S, A]{s: s, viols: make([]found, len(s.props))})
	}
	var root S
	s.m.Init(&root)
	var enc []byte
	s.visited.Add(s.fingerprint(&root, &enc))
	rootEnc := s.m.Encode(nil, &root)
	defer func() { s.visited.free() }()
	s.segBytes = maxSegmentBytes
	if b := s.cfg.MemoryBudget; b > 0 {
		s.segBytes = int(min(max(b/32, 16<<10), int64(s.segBytes)))
		s.chunkLen = min(chunkSize, s.segBytes/2)
	}
	var level *frontier
	depth, levelSize := 0, 1
	if s.cfg.WorkDir != "" || s.cfg.Checkpoint != "" {
		var sp *spill
		var err error
		switch {
		case s.cfg.Resume:
			sp = &spill{dir: s.cfg.Checkpoint}
		case s.cfg.Checkpoint != "":
			sp, err = startCheckpoint(s.cfg.Checkpoint)
		default:
			sp, err = newSpill(s.cfg.WorkDir)
		}
		if err != nil {
			return Report[A]{}, err
		}
		defer sp.close()
		s.disk = sp
		switch {
		case s.cfg.Resume:
			if depth, levelSize, err = s.resume(); err != nil {
				return Report[A]{}, err
			}
		default:
			err = s.writeRoot(rootEnc)
			if err == nil && s.cfg.Checkpoint != "" {
				err = s.writeCheckpoint(0, 1, 0)
			}
			if err != nil {
				s.stop(err.Error())
				levelSize = 0
			}
		}
	} else {
		level = &frontier{chunks: [][]byte{rootEnc}}
		level.refs = []ref{{0, 0, uint32(len(level.chunks[0]))}}
		s.trails = []trail{{parent: []int32{-1}, action: []int32{-1}}}
	}
	complete := s.stopped == ""
	for levelSize > 0 {
		if ctx.Err() != nil {
			s.stop(StoppedContext)
			complete = false
			break
		}
		s.level = depth
		if s.disk != nil {
			next, err := s.expandFromDisk(ctx, levelSize)
			if err != nil {
				return Report[A]{}, err
			}
			levelSize = next
		} else {
			next, err := s.expand(level)
			if err != nil {
				return Report[A]{}, err
			}
			s.levelSpare = s.recycle(s.levelSpare, level.chunks)
			level, levelSize = next, len(next.refs)
			s.levelHeld, s.nextHeld = arenaBytes(level.chunks), 0
			if s.overBudget(levelSize) {
				s.stop(StoppedMemory)
			}
		}
		if levelSize > 0 {
			depth++
		}
		if s.capped {
			s.stop(StoppedMaxStates)
		}
		if s.stopped != "" {
			complete = false
			break
		}
		if s.cfg.Checkpoint != "" && levelSize > 0 {
			if err := s.writeCheckpoint(depth, levelSize, s.before+time.Since(start)); err != nil {
				s.stop(err.Error())
				complete = false
				break
			}
		}
		if len(s.cfg.StopOn) > 0 && s.allFound(s.cfg.StopOn) || s.cfg.StopAtFirst && len(s.found) > 0 {
			complete = levelSize == 0
			break
		}
		if s.cfg.Progress != nil {
			p := Progress{States: uint64(s.visited.Len()), Transitions: s.transitions, Depth: depth, Frontier: levelSize,
				Memory: s.memory(s.refsHeld(levelSize))}
			if s.disk != nil {
				p.Disk = s.disk.disk
			}
			s.cfg.Progress(p)
		}
	}
	s.memory(s.refsHeld(levelSize))
	r := Report[A]{States: uint64(s.visited.Len()), Transitions: s.transitions, Depth: depth, Complete: complete,
		Elapsed: s.before + time.Since(start), VisitedBytes: s.visited.Bytes(), Stopped: s.stopped, Memory: s.peakMem, Disk: s.peakDisk,
		Compaction: s.cfg.Compact, Omitted: s.visited.omitted()}
	for _, wk := range s.workers {
		for k, n := range wk.taken {
			r.Taken[k] += n
		}
	}
	for pi, p := range s.props {
		r.Properties = append(r.Properties, p.Name)
		if v, ok := s.found[pi]; ok {
			acts, cont, err := s.rebuild(pi, v)
			if err != nil {
				var damaged *trailError
				if errors.As(err, &damaged) {
					// The work directory failed under the search: the
					// property stays unknown, the reason in Stopped.
					r.Complete = false
					s.stop(err.Error())
					r.Stopped = s.stopped
					continue
				}
				return r, err
			}
			r.Counterexamples = append(r.Counterexamples, Counterexample[A]{Property: p.Name, Reason: v.reason, Actions: acts, Continuation: cont})
		}
	}
	if s.cfg.Checkpoint != "" && r.Stopped == "" {
		s.disk.clearCheckpoint()
	}
	return r, nil
}

// writeRoot writes level 0 of a search on disk: the initial state.
func (s *search[S, A]) writeRoot(enc []byte) error {
	w, err := createFile(s.disk.levelPath(0))
	if err != nil {
		return fmt.Errorf("work directory: %w", err)
	}
	w.state(enc)
	if err := w.close(s.cfg.Checkpoint != ""); err != nil {
		return fmt.Errorf("work directory: %w", err)
	}
	s.disk.disk += w.bytes
	return nil
}

func (s *search[S, A]) allFound(names []string) bool {
	for _, name := range names {
		i := slices.IndexFunc(s.props, func(p Property[S, A]) bool { return p.Name == name })
		if _, ok := s.found[i]; !ok {
			return false
		}
	}
	return true
}

// expand checks every state of the level, finds its successors in
// parallel, and returns the next level in the order of the first
// (parent, action) that reached each new state. It goes a segment at a
// time, as a level on disk does, each merged before the next is
// expanded, so that the budget and MaxStates are met within the level:
// memory holds the level, the part of the next found so far and one
// segment's successors, never all of a level's successors at once.
func (s *search[S, A]) expand(level *frontier) (*frontier, error) {
	next := &frontier{}
	s.trails = append(s.trails, trail{}) // the next level's, counted as it grows
	t := &s.trails[len(s.trails)-1]
	s.levelHeld, s.nextHeld = arenaBytes(level.chunks), 0
	for start := 0; start < len(level.refs); {
		end := start
		for bytes := 0; end < len(level.refs) && (bytes < s.segBytes || end == start); end++ {
			bytes += int(level.refs[end].end - level.refs[end].off)
		}
		seg := frontier{refs: level.refs[start:end], chunks: level.chunks}
		held := func() int { return len(level.refs) + len(next.refs) }
		err := s.expandParts(&seg, start, held, func(blocks []block, workers int) {
			s.mergeToMemory(blocks, next, t, len(level.refs))
			s.recycleScratch(workers)
		})
		if err != nil {
			return nil, err
		}
		if s.overBudget(len(level.refs) + len(next.refs)) {
			s.stop(StoppedMemory)
		}
		if s.capped || s.stopped != "" {
			break
		}
		if start = end; start < len(level.refs) && s.cfg.Progress != nil {
			s.cfg.Progress(Progress{States: uint64(s.visited.Len()), Transitions: s.transitions, Depth: s.level,
				Frontier: len(level.refs) - start + len(next.refs), Memory: s.memory(len(level.refs) + len(next.refs))})
		}
	}
	return next, nil
}

// mergeToMemory keeps the segment's new states, in search order, in next
// and t, each encoding copied into next's own arena, so that the level
// holds what it keeps and no more: a worker's chunks also hold the
// successors another worker claimed first. held is how many states the
// level being expanded holds.
func (s *search[S, A]) mergeToMemory(blocks []block, next *frontier, t *trail, held int) {
	parallel := s.addInParallel(blocks, held+len(next.refs))
	// room is what the budget leaves: each state kept takes a ref, a
	// trail entry and its encoding in the next level's arena, and the
	// merge stops, before the state, where they would not fit.
	// (addInParallel runs only where every kid fits.)
	budgeted := s.cfg.MemoryBudget > 0 && !parallel
	var room int64
	if budgeted {
		room = s.cfg.MemoryBudget - s.memory(held+len(next.refs))
	}
	for _, b := range blocks {
		wk := s.workers[b.worker]
		for k := b.start; k < b.end; k++ {
			c := &wk.kids[k]
			r := c.ref
			enc := wk.chunks[r.chunk][r.off:r.end]
			need, newChunk := int64(12+8), needsChunk(next.chunks, len(enc), s.chunkLen)
			if newChunk {
				need += max(s.chunkCap(), int64(len(enc)))
			}
			if budgeted && need > room {
				s.stop(StoppedMemory)
				return
			}
			var keep, halt bool
			if parallel {
				keep = s.added.next(c.fp)
			} else {
				visited := s.visited.Bytes()
				keep, halt = s.admit(c, held+len(next.refs))
				room -= int64(s.visited.Bytes() - visited)
			}
			if halt {
				return
			}
			if !keep {
				continue
			}
			room -= need
			t.parent, t.action = append(t.parent, c.parent), append(t.action, c.action)
			next.refs = append(next.refs, appendArena(&next.chunks, enc, s.chunkLen, s.levelChunk))
			if newChunk {
				s.nextHeld += int64(cap(next.chunks[len(next.chunks)-1]))
			}
		}
	}
}

// admit adds c to the visited set, in the merge's order, and reports
// whether the merge keeps it, or halts there: at --max-states, or when
// the visited set may not grow within the budget (refs: the frontier's
// refs memory holds).
func (s *search[S, A]) admit(c *kid, refs int) (keep, halt bool) {
	if s.full() {
		if !s.visited.Has(c.fp) {
			s.capped = true
			return false, true
		}
		return false, false
	}
	budget := s.cfg.MemoryBudget > 0 || s.cfg.Compact == HashCompaction // a full table stops the search as a budget does
	if budget && s.visited.Grows(c.fp) && !s.visited.Has(c.fp) && !s.roomToGrow(c.fp, refs) {
		s.stop(s.fullStop())
		return false, true
	}
	return s.visited.Add(c.fp), false
}

// parallelAddMin is the fewest successors addInParallel shares out: below
// it, starting the goroutines costs more than the adds.
var parallelAddMin = 4096

// addInParallel adds the successors in blocks to the visited set with
// every worker at once, each owning a share of the set's shards, and
// records in s.added which kids were new, when nothing can halt the merge midway:
// the set is exact, --max-states is out of reach and no growth of a
// shard can cross the budget (refs: as for admit). Each shard then sees
// its fingerprints in the merge's order, so the kids found new are the
// very ones admit would keep; it reports whether it ran. Without it the
// merge is the one part of a level the workers do not share, and its
// adds, cache misses in a table of hundreds of megabytes, are most of it.
func (s *search[S, A]) addInParallel(blocks []block, refs int) bool {
	fs, ok := s.visited.(*FPSet)
	workers := len(s.workers)
	if !ok || workers < 2 {
		return false
	}
	total := 0
	for _, b := range blocks {
		total += b.end - b.start
	}
	if total < parallelAddMin || s.cfg.MaxStates > 0 && fs.Len()+total > s.cfg.MaxStates {
		return false
	}
	if s.cfg.MemoryBudget > 0 {
		var perShard [fpShards]int
		encs := int64(0)
		for _, b := range blocks {
			for _, c := range s.workers[b.worker].kids[b.start:b.end] {
				perShard[shardOf(c.fp)]++
				encs += int64(c.ref.end - c.ref.off)
			}
		}
		grow, largest := 0, 0
		for i, n := range perShard {
			t, l := fs.growthBound(i, n)
			grow, largest = grow+t, max(largest, l)
		}
		// admit's check at each growth sees at most all of the growth
		// before it, the kept refs and their trail entries, and in
		// memory their encodings in the next level's arena.
		arena := int64(0)
		if s.disk == nil {
			arena = encs + (encs/int64(s.chunkLen)+2)*s.chunkCap()
		}
		if s.stored(refs+total)+s.scratch()+int64(8*total+grow+largest)+arena > s.cfg.MemoryBudget {
			return false
		}
	}
	m := &s.added
	m.unseen = slices.Grow(m.unseen[:0], workers)[:workers]
	m.at = slices.Grow(m.at[:0], workers)[:workers]
	clear(m.at)
	added, grew := make([]int, workers), make([]int, workers)
	var wg sync.WaitGroup
	for g := range workers {
		wg.Go(func() {
			unseen, n, bytes := m.unseen[g][:0], 0, 0
			for _, b := range blocks {
				for _, c := range s.workers[b.worker].kids[b.start:b.end] {
					if shardOf(c.fp)%workers != g {
						continue
					}
					fresh, grown := fs.addToShard(c.fp)
					unseen, bytes = append(unseen, fresh), bytes+grown
					if fresh {
						n++
					}
				}
			}
			m.unseen[g], added[g], grew[g] = unseen, n, bytes
		})
	}
	wg.Wait()
	for g := range workers {
		fs.n, fs.bytes = fs.n+added[g], fs.bytes+grew[g]
	}
	return true
}

// addMarks are what addInParallel found: for each worker, whether each
// kid of its shards was new, in the merge's order. Each worker writes a
// slice of its own, not a mark in each kid: workers marking neighbouring
// kids would fight over their cache lines.
type addMarks struct {
	unseen [][]bool
	at     []int
}

// next is whether the merge's next kid, whose fingerprint is fp, was new.
func (m *addMarks) next(fp uint64) bool {
	g := shardOf(fp) % len(m.unseen)
	fresh := m.unseen[g][m.at[g]]
	m.at[g]++
	return fresh
}

// expandFromDisk expands the level in the work directory (states of
// them), a segment at a time, writing the next level and its trail as
// its states are found; it returns the next level's size. A failing work
// directory stops the search, with the reason in s.stopped.
func (s *search[S, A]) expandFromDisk(ctx context.Context, states int) (int, error) {
	sp, l := s.disk, s.level
	lr, err := openLevel(sp.levelPath(l), states)
	if err != nil {
		s.stop(fmt.Sprintf("work directory: %v", err))
		return 0, nil
	}
	defer lr.close()
	next, err := createFile(sp.levelPath(l + 1))
	if err != nil {
		s.stop(fmt.Sprintf("work directory: %v", err))
		return 0, nil
	}
	trailW, err := createFile(sp.trailPath(l + 1))
	if err != nil {
		next.close(false)
		s.stop(fmt.Sprintf("work directory: %v", err))
		return 0, nil
	}
	size := 0
	for base := 0; lr.left > 0; base += len(s.seg.refs) {
		if ctx.Err() != nil {
			s.stop(StoppedContext)
			break
		}
		if err := lr.read(&s.seg, s.segBytes, s.levelChunk); err != nil {
			s.stop(fmt.Sprintf("work directory: level %d: %v", l, err))
			break
		}
		err := s.expandParts(&s.seg, base, func() int { return 0 }, func(blocks []block, workers int) {
			size += s.mergeToDisk(blocks, workers, next, trailW)
			s.memory(0)
			s.recycleScratch(workers)
		})
		if err != nil {
			next.close(false)
			trailW.close(false)
			return 0, err
		}
		s.levelSpare = s.recycle(s.levelSpare, s.seg.chunks)
		s.seg.chunks = s.seg.chunks[:0]
		if err := cmp.Or(next.err, trailW.err); err != nil {
			s.stop(fmt.Sprintf("work directory: writing level %d: %v", l+1, err))
		}
		if s.overBudget(0) {
			s.stop(StoppedMemory)
		}
		if s.cfg.Progress != nil {
			s.cfg.Progress(Progress{States: uint64(s.visited.Len()), Transitions: s.transitions, Depth: l,
				Frontier: lr.left + size, Memory: s.memory(0), Disk: sp.disk + next.bytes + trailW.bytes})
		}
		if s.capped || s.stopped != "" {
			break
		}
	}
	for _, w := range []*fileWriter{next, trailW} {
		if err := w.close(s.cfg.Checkpoint != ""); err != nil {
			s.stop(fmt.Sprintf("work directory: writing level %d: %v", l+1, err))
		}
		sp.disk += w.bytes
	}
	s.peakDisk = max(s.peakDisk, sp.disk)
	if s.cfg.Checkpoint == "" {
		sp.remove(sp.levelPath(l)) // a checkpoint removes it once it names the next
	}
	return size, nil
}

// mergeToDisk keeps the segment's new states, in search order, writing
// each to the next level's file and its trail, and returns how many.
func (s *search[S, A]) mergeToDisk(blocks []block, workers int, next, trailW *fileWriter) int {
	n := 0
	parallel := s.addInParallel(blocks, 0)
	for _, b := range blocks {
		wk := s.workers[b.worker]
		for k := b.start; k < b.end; k++ {
			c := &wk.kids[k]
			var keep, halt bool
			if parallel {
				keep = s.added.next(c.fp)
			} else {
				keep, halt = s.admit(c, 0)
			}
			if halt {
				return n
			}
			if !keep {
				continue
			}
			trailW.step(c.parent, c.action)
			r := c.ref
			next.state(wk.chunks[r.chunk][r.off:r.end])
			n++
		}
	}
	return n
}

// expandParts expands seg, whose first state is state base of the level,
// a part at a time, and merges each part with merge before the next, so
// that what a segment's successors take is bounded even where states have
// many: a part is as many states as partLimit's bytes of successors would
// need at the rate of the part before (every action a new successor, an
// encoding as long as its parent's). The parts depend only on the model
// and the configuration, never on timing, so that a search cut short in
// a level is the same for any number of workers. held is how many refs to
// frontier states memory holds, for the budget.
func (s *search[S, A]) expandParts(seg *frontier, base int, held func() int, merge func(blocks []block, workers int)) error {
	limit := s.partLimit()
	for k := 0; k < len(seg.refs); {
		if b := s.cfg.MemoryBudget; b > 0 && s.stored(held())+max(s.scratch(), limit) > b {
			s.stop(StoppedMemory)
			return nil
		}
		n := len(seg.refs) - k
		if s.fanout > 0 {
			enc := float64(seg.refs[k].end - seg.refs[k].off)
			n = min(n, max(1, int(float64(limit)/(s.fanout*(float64(kidBytesEach)+enc)))))
		}
		part := frontier{refs: seg.refs[k : k+n], chunks: seg.chunks}
		before := s.transitions
		blocks, workers, err := s.expandSegment(&part, base+k)
		if err != nil {
			return err
		}
		s.fanout = float64(s.transitions-before) / float64(n)
		// What the part could have needed, every action a new successor
		// as long as the part's first state, but no more than the part
		// was sized for: parts are sized so that it is at most the limit.
		enc := int64(seg.refs[k].end - seg.refs[k].off)
		s.scratchHW = max(s.scratchHW, min(limit, int64(s.transitions-before)*(kidBytesEach+enc)))
		merge(blocks, workers)
		if k += n; s.capped || s.stopped != "" {
			return nil
		}
	}
	return nil
}

// partLimit is the most bytes of successors a part should gather: a few
// segments' worth, and under a budget an eighth of it.
func (s *search[S, A]) partLimit() int64 {
	limit := int64(8 * s.segBytes)
	if b := s.cfg.MemoryBudget; b > 0 {
		limit = min(limit, b/8)
	}
	return limit
}

// expandSegment checks every state of seg, whose first is state base of
// the level, finds their successors in parallel, and merges what the
// workers found but the successors: it returns the blocks of successors
// in search order and how many workers hold them.
func (s *search[S, A]) expandSegment(seg *frontier, base int) ([]block, int, error) {
	n := len(seg.refs)
	blocks := make([]block, (n+blockSize-1)/blockSize)
	workers := min(len(s.workers), len(blocks))
	var nextBlock atomic.Int64
	s.fresh.Reset(n)
	var wg sync.WaitGroup
	var failMu sync.Mutex
	var failure error
	for wi := range workers {
		wk := s.workers[wi]
		wk.reset()
		wg.Go(func() {
			for {
				b := int(nextBlock.Add(1)) - 1
				if b >= len(blocks) {
					return
				}
				first := len(wk.kids)
				for i := b * blockSize; i < min((b+1)*blockSize, n); i++ {
					if err := wk.expand(seg, i, base); err != nil {
						failMu.Lock()
						failure = cmp.Or(failure, err)
						failMu.Unlock()
						return
					}
				}
				blocks[b] = block{wi, first, len(wk.kids)}
			}
		})
	}
	wg.Wait()
	if failure != nil {
		return nil, 0, failure
	}
	for _, wk := range s.workers[:workers] {
		s.transitions += wk.trans
		for pi, f := range wk.viols {
			if !f.ok {
				continue
			}
			f.level = s.level
			old, ok := s.found[pi]
			if !ok || old.level == f.level && (f.parent < old.parent || f.parent == old.parent && f.action < old.action) {
				s.found[pi] = f.violation
			}
		}
	}
	return blocks, workers, nil
}

// kidBytesEach is what a successor's record takes in a worker's kids.
const kidBytesEach = int64(unsafe.Sizeof(kid{}))

// worker expands states with scratch states of its own: once its buffers
// have grown it allocates nothing per transition but what the model does.
type worker[S, A any] struct {
	s      *search[S, A]
	cur    S
	acts   []A
	succ   []successor[S]
	trans  uint64
	taken  [256]uint64 // over the whole search
	kids   []kid
	chunks [][]byte
	viols  []found
	sink   uint64 // what the cache touches read, so that they are not optimised away
}

// successor is one action's successor while a state expands.
type successor[S any] struct {
	next S
	enc  []byte // next's encoding, when the fingerprint came from it
	fp   uint64
	skip bool // redundant, or not new
	lazy bool // next is not made yet: fp came from Peek
}

// found is a worker's first violation of a property at this level.
type found struct {
	violation
	ok bool
}

func (wk *worker[S, A]) reset() {
	wk.trans, wk.kids = 0, wk.kids[:0]
	clear(wk.viols)
}

func (wk *worker[S, A]) record(pi, parent, action int, err error) {
	if f := &wk.viols[pi]; !f.ok {
		*f = found{violation{parent: parent, action: action, reason: err.Error()}, true}
	}
}

// open reports whether property pi is still looked for: only the first
// level at which it fails gives shortest counterexamples. Workers read
// found while a level expands; only the merge writes it.
func (wk *worker[S, A]) open(pi int) bool {
	_, ok := wk.s.found[pi]
	return !ok && !wk.viols[pi].ok
}

// expand checks state at of the segment level (state base+at of its
// level) and keeps its successors that are
// new to the visited set and first reached by this (state, action).
func (wk *worker[S, A]) expand(level *frontier, at, base int) error {
	s := wk.s
	r := level.refs[at]
	i := base + at
	if err := s.m.Decode(level.chunks[r.chunk][r.off:r.end], &wk.cur); err != nil {
		return fmt.Errorf("%w: state %d of level %d does not decode: %w", ErrModel, i, s.level, err)
	}
	for pi := range s.props {
		p := &s.props[pi]
		switch {
		case p.State != nil && wk.open(pi):
			if err := p.State(&wk.cur); err != nil {
				wk.record(pi, i, -1, err)
			}
		case p.Continue != nil && wk.open(pi):
			if err := p.Continue(&wk.cur, nil); err != nil {
				wk.record(pi, i, -1, err)
			}
		}
	}
	wk.acts = s.m.Actions(&wk.cur, wk.acts[:0])
	if len(wk.acts) == 0 {
		for pi := range s.props {
			if p := &s.props[pi]; p.Stuck != nil && wk.open(pi) {
				if err := p.Stuck(&wk.cur); err != nil {
					wk.record(pi, i, -1, err)
				}
			}
		}
	}
	n := len(wk.acts)
	wk.trans += uint64(n)
	for len(wk.succ) < n {
		wk.succ = append(wk.succ, successor[S]{})
	}
	// Every successor first, each in a state of its own, and only then
	// the lookups: they are cache misses in tables of megabytes, and
	// asking for all of a state's lines at once lets the processor wait
	// for them together.
	for ai := range n {
		a, sc := &wk.acts[ai], &wk.succ[ai]
		if s.kinded != nil {
			wk.taken[s.kinded.Kind(a)]++
		}
		sc.lazy, sc.skip = false, false
		if s.redundant != nil && s.redundant.Same(&wk.cur, wk.acts, ai) {
			sc.skip = true
			continue
		}
		if s.peeker != nil {
			if sc.fp, sc.lazy = s.peeker.Peek(&wk.cur, a); sc.lazy {
				continue
			}
		}
		s.m.Apply(&wk.cur, a, &sc.next)
		for pi := range s.props {
			if p := &s.props[pi]; p.Step != nil && wk.open(pi) {
				if err := p.Step(&wk.cur, a, &sc.next); err != nil {
					wk.record(pi, i, ai, err)
				}
			}
		}
		sc.fp = s.fingerprint(&sc.next, &sc.enc)
	}
	for ai := range n {
		wk.sink += s.visited.Touch(wk.succ[ai].fp)
	}
	for ai := range n {
		sc := &wk.succ[ai]
		sc.skip = sc.skip || s.visited.Has(sc.fp)
	}
	for ai := range n {
		if sc := &wk.succ[ai]; !sc.skip {
			wk.sink += s.fresh.Touch(sc.fp)
		}
	}
	for ai := range n {
		sc := &wk.succ[ai]
		if sc.skip || !s.fresh.Claim(sc.fp, uint64(i)<<32|uint64(ai)) {
			continue
		}
		if sc.lazy {
			s.m.Apply(&wk.cur, &wk.acts[ai], &sc.next)
		}
		if sc.lazy || s.fingerprinter != nil {
			sc.enc = s.m.Encode(sc.enc[:0], &sc.next)
		}
		wk.kids = append(wk.kids, kid{fp: sc.fp, parent: int32(i), action: int32(ai), ref: wk.save(sc.enc)})
	}
	return nil
}

// save appends an encoding to the worker's arena.
func (wk *worker[S, A]) save(enc []byte) ref {
	return appendArena(&wk.chunks, enc, wk.s.chunkLen, wk.s.chunk)
}

// appendArena appends enc to the last of chunks, or to a new chunk from
// fresh (of at least len(enc) bytes) once that one is filled past full
// or has no room for enc: a chunk never grows past its capacity, so that
// every chunk a pool holds has the capacity it was made with.
func appendArena(chunks *[][]byte, enc []byte, full int, fresh func(n int) []byte) ref {
	k := len(*chunks) - 1
	if needsChunk(*chunks, len(enc), full) {
		*chunks = append(*chunks, fresh(len(enc)))
		k++
	}
	c := &(*chunks)[k]
	off := len(*c)
	*c = append(*c, enc...)
	return ref{chunk: int32(k), off: uint32(off), end: uint32(len(*c))}
}

// needsChunk reports whether appendArena puts an encoding of n bytes in
// a new chunk.
func needsChunk(chunks [][]byte, n, full int) bool {
	k := len(chunks) - 1
	return k < 0 || len(chunks[k]) >= full || len(chunks[k])+n > cap(chunks[k])
}

// chunkCap is the capacity of an arena chunk.
func (s *search[S, A]) chunkCap() int64 { return int64(s.chunkLen + s.chunkLen/8) }

// chunk returns an empty chunk of at least n bytes for a worker's arena,
// reusing a spare one.
func (s *search[S, A]) chunk(n int) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return takeChunk(&s.spare, s.chunkCap(), n)
}

// levelChunk returns an empty chunk of at least n bytes for a level's or
// a segment's arena, reusing one of a level or segment expanded. Only
// the merge and the reading of a segment take them, one at a time, in
// search order.
func (s *search[S, A]) levelChunk(n int) []byte { return takeChunk(&s.levelSpare, s.chunkCap(), n) }

// takeChunk takes the last chunk of pool, or makes one of capacity size;
// for n above size, a chunk of its own (a state longer than a chunk).
func takeChunk(pool *[][]byte, size int64, n int) []byte {
	if int64(n) > size {
		return make([]byte, 0, n)
	}
	if n := len(*pool); n > 0 {
		c := (*pool)[n-1]
		*pool = (*pool)[:n-1]
		return c[:0]
	}
	return make([]byte, 0, size)
}

// arenaBytes is the memory arena chunks hold.
func arenaBytes(chunks [][]byte) int64 {
	var n int64
	for _, c := range chunks {
		n += int64(cap(c))
	}
	return n
}

// rebuild runs the model from Init along a violation's path and returns
// its actions, with a Continue property's continuation appended (and its
// length).
func (s *search[S, A]) rebuild(pi int, v violation) ([]A, int, error) {
	idx, err := s.path(v)
	if err != nil {
		return nil, 0, err
	}
	var cur, next S
	s.m.Init(&cur)
	var out, acts []A
	for n, k := range idx {
		acts = s.m.Actions(&cur, acts[:0])
		if int(k) >= len(acts) {
			return nil, 0, fmt.Errorf("%w: rebuilding %s's counterexample: %d actions enabled where the search took the %d-th (the model is not deterministic)", ErrModel, s.props[pi].Name, len(acts), k+1)
		}
		a := acts[k]
		out = append(out, a)
		s.m.Apply(&cur, &a, &next)
		if n == len(idx)-1 && v.action >= 0 {
			// The violating step itself: judge it again.
			if p := &s.props[pi]; p.Step != nil && p.Step(&cur, &a, &next) == nil {
				return nil, 0, s.notReproduced(pi)
			}
		}
		cur, next = next, cur
	}
	p := &s.props[pi]
	n := len(out)
	switch {
	case p.State != nil && p.State(&cur) == nil,
		p.Stuck != nil && (len(s.m.Actions(&cur, acts[:0])) > 0 || p.Stuck(&cur) == nil),
		p.Continue != nil && p.Continue(&cur, &out) == nil:
		return nil, 0, s.notReproduced(pi)
	}
	return out, len(out) - n, nil
}

// notReproduced is rebuild's error for a path that does not fail its
// property when the model runs it again.
func (s *search[S, A]) notReproduced(pi int) error {
	return fmt.Errorf("%w: rebuilding %s's counterexample: the path the search found does not violate it when run again (the model is not deterministic)", ErrModel, s.props[pi].Name)
}

// trailError is a trail file of the work directory that cannot be read.
type trailError struct{ err error }

func (e *trailError) Error() string { return "work directory: " + e.err.Error() }
func (e *trailError) Unwrap() error { return e.err }

// path is the action indices from the initial state to the state a
// violation starts from (and its action), read back level by level from
// the trails.
func (s *search[S, A]) path(v violation) ([]int32, error) {
	var idx []int32
	for l, j := v.level, int32(v.parent); l > 0; l-- {
		if s.disk == nil {
			idx = append(idx, s.trails[l].action[j])
			j = s.trails[l].parent[j]
			continue
		}
		f, err := os.Open(s.disk.trailPath(l))
		if err != nil {
			return nil, &trailError{err}
		}
		parent, action, err := trailEntry(f, j)
		f.Close()
		if err != nil {
			return nil, &trailError{fmt.Errorf("trail of level %d, state %d: %w", l, j, err)}
		}
		idx = append(idx, action)
		j = parent
	}
	slices.Reverse(idx)
	if v.action >= 0 {
		idx = append(idx, int32(v.action))
	}
	return idx, nil
}
