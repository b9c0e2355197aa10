// Package explore is the exhaustive scheduler: breadth-first over every
// step a sim.World enables, within budgets, with the visited states kept
// as 64-bit fingerprints. It checks AUTH-C, AUTH-S, CMD and BOUNDED on every
// transition, deadlock freedom (LIVE) and AGREE on every state, and reports
// for each violated property the shortest counterexample it found: a list
// of sim.Steps that replays through sim.World.Apply.
//
// Breadth-first order is what makes counterexamples shortest: the first
// level at which a property fails is the length of the shortest path to a
// violating state. Each level is expanded in parallel and then merged in a
// fixed order, so the same configuration gives the same report whatever the
// number of workers.
package explore

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/verishake/verishake/engine"
	"github.com/verishake/verishake/protocol"
	"github.com/verishake/verishake/sim"
)

// Config bounds an exploration.
type Config struct {
	// Handshake is the compiled profile the machines run.
	Handshake *protocol.Handshake
	// Clients is the number of honest clients; Sessions the handshakes each
	// may start; Commands the commands the server issues per verified session.
	Clients, Sessions, Commands int
	// Losses, Dups, Corrupts and Injects bound the network's and the
	// adversary's nondeterministic steps along any one path.
	Losses, Dups, Corrupts, Injects int
	// Adversary proposes injections (nil: none). It must implement
	// sim.Explorable to offer any.
	Adversary sim.Adversary
	// Agree checks AGREE on every state: the fault-free continuation from
	// the state must end with each client and the server agreeing.
	Agree bool
	// Symmetry keeps one state per renaming of the honest clients (see
	// sim.World.SymmetricFingerprint): with two or more clients, states
	// that differ only in which client is which are one state. It is sound
	// for the properties checked, which speak of one RegID at a time, and
	// it is used only when the world's adversary treats every honest client
	// alike (sim.World.Symmetric); Report.Symmetry says whether it was.
	Symmetry bool
	// RenameTokens keeps one state per renaming of the symbolic tokens
	// (see sim.Names): states that differ only in the names their tokens
	// got are one state. Sound for the same reason (tokens are only ever
	// compared for equality); used when the world is sim.World.Renamable;
	// Report.RenameTokens says whether it was.
	RenameTokens bool
	// Workers expand a level in parallel (0: GOMAXPROCS).
	Workers int
	// MaxStates stops the search once that many states are stored (0: no
	// limit): the level being merged keeps its first states up to the
	// limit, in the search's order, and the report is incomplete, never a
	// pass.
	MaxStates int
	// StopOn ends the search after the level at which every property it
	// lists has been violated (a variant check wants one counterexample,
	// not the whole state space); the report is then incomplete.
	StopOn []string
	// Progress, if set, is called after each level.
	Progress func(Progress)
}

// Progress is the state of a running exploration.
type Progress struct {
	States, Transitions uint64
	Depth, Frontier     int
}

// Report is what an exploration found.
type Report struct {
	States, Transitions uint64
	// Depth is the number of levels explored (the longest shortest path).
	Depth int
	// Complete is false when MaxStates or the context stopped the search:
	// properties not violated so far are then unknown, not held.
	Complete bool
	Elapsed  time.Duration
	// BytesPerState is the fingerprint table's size over the states stored.
	BytesPerState float64
	// Symmetry is true when states were merged up to a renaming of the
	// honest clients (Config.Symmetry, with two clients or more and an
	// adversary that treats them alike).
	Symmetry bool
	// RenameTokens is true when states were merged up to a renaming of
	// their tokens (Config.RenameTokens, on a renamable world).
	RenameTokens bool
	// Counterexamples holds one shortest counterexample per violated
	// property, ordered by property.
	Counterexamples []Counterexample
	// Taken counts the transitions tried by step kind: a kind the bounds
	// allow and the search never took is a gap in the model.
	Taken map[sim.StepKind]uint64
}

// StatesPerSec is the exploration rate.
func (r Report) StatesPerSec() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.States) / r.Elapsed.Seconds()
}

// Violated returns the counterexample for property, if it was violated.
func (r Report) Violated(property string) (Counterexample, bool) {
	i := slices.IndexFunc(r.Counterexamples, func(c Counterexample) bool { return c.Property == property })
	if i < 0 {
		return Counterexample{}, false
	}
	return r.Counterexamples[i], true
}

// Counterexample is a path from the initial world to a violation.
type Counterexample struct {
	Property string
	Reason   string
	Steps    []sim.Step
	// Continuation is how many of the last Steps are AGREE's fault-free
	// continuation (sim.World.Disagreement), taken from the violating
	// state: the shortest path to that state is the steps before them.
	Continuation int
}

// Path is the length of the path to the violating state: the steps less
// AGREE's continuation. It is what breadth-first search makes shortest.
func (c Counterexample) Path() int { return len(c.Steps) - c.Continuation }

// Properties lists what the explorer checks, in report order.
var Properties = []string{protocol.AuthC, protocol.AuthS, protocol.Cmd, protocol.Bounded, protocol.Live, protocol.Agree}

// violation is a property failure found at a level: the state it starts
// from (its index in the level) and the step taken (-1 for a property of
// the state itself). Its steps are rebuilt once the search is over.
type violation struct {
	level    int
	property string
	reason   string
	parent   int
	step     int
}

// ErrConfig marks a configuration the explorer cannot run.
var ErrConfig = errors.New("explore: bad configuration")

// Run explores every world reachable within cfg's budgets.
func Run(ctx context.Context, cfg Config) (Report, error) {
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.GOMAXPROCS(0)
	}
	w, err := newWorld(cfg)
	if err != nil {
		return Report{}, err
	}
	p := cfg.Handshake.Profile()
	e := &explorer{cfg: cfg, retries: p.Retries, bounded: sim.BoundedMonitor{Cap: p.HalfOpenCap}, root: w.Clone(), found: map[string]violation{}, visited: engine.NewFPSet(1 << 16),
		sym: cfg.Symmetry && cfg.Clients > 1 && w.Symmetric(), rename: cfg.RenameTokens && w.Renamable()}
	return e.run(ctx, w)
}

// newWorld is the initial world of cfg's exploration.
func newWorld(cfg Config) (*sim.World, error) {
	if cfg.Handshake == nil || cfg.Clients < 1 || cfg.Sessions < 1 {
		return nil, fmt.Errorf("%w: need a handshake, at least one client and one session (have %d, %d)", ErrConfig, cfg.Clients, cfg.Sessions)
	}
	if x, ok := cfg.Adversary.(interface{ SetBudget(int) }); ok {
		x.SetBudget(cfg.Injects)
	}
	w, err := sim.NewWorld(cfg.Handshake, sim.WorldOptions{
		Clients:    cfg.Clients,
		Handshakes: cfg.Clients * cfg.Sessions,
		Commands:   cfg.Commands,
		Adversary:  cfg.Adversary,
		Limits: sim.Limits{Drops: cfg.Losses, Dups: cfg.Dups, Corrupts: cfg.Corrupts, Injects: cfg.Injects,
			StartsPerClient: cfg.Sessions},
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return w, nil
}

// The explorer keeps each level of the search as a frontier of states,
// each a world and its ledger. A state's world is kept as a snapshot
// (sim.World.AppendSnapshot, a few hundred bytes) in large byte arenas,
// or, for a world that cannot be snapshot (a token source or adversary of
// its own), as a clone. Paths are kept as two small integers per state
// (the state's index in the previous level and the index of the step
// among those its parent enabled); a counterexample is rebuilt by
// replaying its path from the initial world.
type explorer struct {
	cfg     Config
	retries int
	bounded sim.BoundedMonitor
	root    *sim.World // the initial world, untouched, for replaying paths
	snap    bool       // the frontier holds snapshots, not clones
	sym     bool       // states are fingerprinted up to client renaming
	rename  bool       // ... and up to token renaming

	level       int // the level being expanded
	visited     *engine.FPSet
	fresh       engine.LevelSet // the level's new fingerprints, while it expands
	transitions uint64
	found       map[string]violation
	trails      []trail // per level: how each state was reached
	workers     []*worker
	mu          sync.Mutex
	spare       [][]byte // arena chunks to reuse
	capped      bool     // a merge left children out at MaxStates
}

// trail says how each state of a level was reached: state j came from
// state parent[j] of the previous level by its step[j]-th enabled step.
type trail struct{ parent, step []int32 }

// frontier is one level's states, in the order of the (parent, step)
// that first reached each.
type frontier struct {
	refs   []ref    // snapshot mode: where each state's bytes are
	chunks [][]byte // the arenas refs point into
	worlds []*sim.World
	leds   []ledger
}

type ref struct {
	chunk    int32
	off, end uint32
}

func (f *frontier) len() int {
	if f.worlds != nil {
		return len(f.worlds)
	}
	return len(f.refs)
}

// child is a new successor found while expanding a level: its fingerprint,
// how it was reached, and where its snapshot went.
type child struct {
	fp     uint64
	parent int32 // index in the level
	step   int32 // index in the parent's enabled steps
	ref    ref   // chunk: the worker's own chunk index
}

// block is a run of states of a level one worker expanded: its children
// are kids[start:end] of that worker, in (parent, step) order.
type block struct{ worker, start, end int }

// blockSize is how many states a worker takes at a time.
const blockSize = 128

// chunkSize is an arena chunk's size; a snapshot never spans two chunks.
const chunkSize = 1 << 20

// foundBefore reports whether property was violated at an earlier level:
// only the first level a property fails at gives shortest counterexamples.
// Workers read found while a level expands; only the merge writes it.
func (e *explorer) foundBefore(property string) bool {
	_, ok := e.found[property]
	return ok
}

func (e *explorer) run(ctx context.Context, w *sim.World) (Report, error) {
	start := time.Now()
	for range e.cfg.Workers {
		e.workers = append(e.workers, e.newWorker())
	}
	root := frontier{}
	if b, err := w.AppendSnapshot(e.chunk()); err == nil {
		e.snap = true
		root.chunks = [][]byte{ledger(nil).append(b)}
		root.refs = []ref{{0, 0, uint32(len(root.chunks[0]))}}
	} else {
		root.worlds, root.leds = []*sim.World{w}, []ledger{nil}
	}
	e.visited.Add(e.fingerprint(w, nil, ledger(nil).hash(), new(sim.Names)))
	e.trails = []trail{{parent: []int32{-1}, step: []int32{-1}}}
	level := &root
	depth := 0
	complete := true
	for level.len() > 0 {
		if err := ctx.Err(); err != nil {
			complete = false
			break
		}
		e.level = depth
		next := e.expand(level)
		e.release(level)
		if next.len() > 0 {
			depth++
		}
		level = next
		if e.capped {
			// Past MaxStates a level merges nothing new: the search goes
			// on only to learn whether anything new was left out.
			complete = false
			break
		}
		if len(e.cfg.StopOn) > 0 && !slices.ContainsFunc(e.cfg.StopOn, func(p string) bool { _, ok := e.found[p]; return !ok }) {
			complete = level.len() == 0
			break
		}
		if e.cfg.Progress != nil {
			e.cfg.Progress(Progress{States: uint64(e.visited.Len()), Transitions: e.transitions, Depth: depth, Frontier: level.len()})
		}
	}
	r := Report{
		States:        uint64(e.visited.Len()),
		Transitions:   e.transitions,
		Depth:         depth,
		Complete:      complete,
		Elapsed:       time.Since(start),
		BytesPerState: float64(e.visited.Bytes()) / float64(e.visited.Len()),
		Symmetry:      e.sym,
		RenameTokens:  e.rename,
		Taken:         map[sim.StepKind]uint64{},
	}
	for _, wk := range e.workers {
		for k, n := range wk.taken {
			if n > 0 {
				r.Taken[sim.StepKind(k)] += n
			}
		}
	}
	for _, prop := range Properties {
		if v, ok := e.found[prop]; ok {
			steps, cont := e.steps(v)
			r.Counterexamples = append(r.Counterexamples, Counterexample{Property: prop, Reason: v.reason, Steps: steps, Continuation: cont})
		}
	}
	return r, nil
}

// fingerprint is the state's fingerprint: the world's and the ledger's
// (whose hash is lh), with symmetry up to client renaming, with token
// renaming up to the tokens' names (names is the caller's scratch).
func (e *explorer) fingerprint(w *sim.World, l ledger, lh uint64, names *sim.Names) uint64 {
	return fingerprintOf(w, l, lh, names, e.sym, e.rename)
}

func fingerprintOf(w *sim.World, l ledger, lh uint64, names *sim.Names, sym, rename bool) uint64 {
	switch {
	case sym && rename:
		return w.SymmetricFingerprintNamed(names, func(id protocol.RegID) uint64 { return l.hashOfNamed(id, names) })
	case sym:
		return w.SymmetricFingerprint(l.hashOf)
	case rename:
		return w.FingerprintNamed(names, func() uint64 { return l.hashNamed(names) })
	}
	return uint64(mixer(w.Fingerprint()).add(lh))
}

// reduced reports whether states are merged up to a renaming: their
// fingerprints are then hashed from scratch, not kept step by step.
func (e *explorer) reduced() bool { return e.sym || e.rename }

// full reports whether MaxStates states are stored.
func (e *explorer) full() bool { return e.cfg.MaxStates > 0 && e.visited.Len() >= e.cfg.MaxStates }

// chunk returns an empty arena chunk.
func (e *explorer) chunk() []byte {
	if n := len(e.spare); n > 0 {
		c := e.spare[n-1]
		e.spare = e.spare[:n-1]
		return c[:0]
	}
	return make([]byte, 0, chunkSize+chunkSize/8)
}

func (e *explorer) chunkLocked() []byte {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.chunk()
}

// release hands an expanded level's arenas back for reuse.
func (e *explorer) release(f *frontier) {
	e.spare = append(e.spare, f.chunks...)
	f.chunks, f.refs, f.worlds, f.leds = nil, nil, nil, nil
}

// expand checks every state of the level, finds its successors in
// parallel, and returns the next level: the new states, in the order of
// the first (parent, step) that reached each.
func (e *explorer) expand(level *frontier) *frontier {
	n := level.len()
	workers := min(len(e.workers), (n+blockSize-1)/blockSize)
	blocks := make([]block, (n+blockSize-1)/blockSize)
	var nextBlock atomic.Int64
	for _, wk := range e.workers {
		wk.reset()
	}
	// A level of the default bounds has about as many new states as it
	// has states, each reached about five times. A table of 2n to 4n
	// entries holds them; a smaller one stays in the caches better (5%
	// faster with two workers than 4n to 8n), and the few successors that
	// find no room are saved unjudged.
	e.fresh.Reset(n)
	parallel(workers, func(wi int) {
		wk := e.workers[wi]
		for {
			b := int(nextBlock.Add(1)) - 1
			if b >= len(blocks) {
				return
			}
			first := len(wk.kids)
			for i := b * blockSize; i < min((b+1)*blockSize, n); i++ {
				wk.expand(level, i)
			}
			blocks[b] = block{wi, first, len(wk.kids)}
		}
	})
	// Violations: the least (state, step) at this level for each property.
	for _, wk := range e.workers {
		e.transitions += wk.trans
		for _, v := range wk.viols {
			if !v.ok {
				continue
			}
			v.level = e.level
			old, ok := e.found[v.property]
			if !ok || old.level == v.level && (v.parent < old.parent || v.parent == old.parent && v.step < old.step) {
				e.found[v.property] = v.violation
			}
		}
	}
	// The children in (parent, step) order: the first of equal
	// fingerprints is the one kept.
	next := &frontier{}
	base := make([]int32, len(e.workers))
	for wi, wk := range e.workers {
		base[wi] = int32(len(next.chunks))
		next.chunks = append(next.chunks, wk.chunks...)
		wk.chunks = nil
	}
	var t trail
	for _, b := range blocks {
		wk := e.workers[b.worker]
		for k := b.start; k < b.end; k++ {
			c := &wk.kids[k]
			if k+8 < b.end {
				// Ask for a later kid's slot now: the adds are cache misses.
				wk.sink += e.visited.Touch(wk.kids[k+8].fp)
			}
			if e.full() {
				// A new state past the limit goes unexplored.
				e.capped = e.capped || !e.visited.Has(c.fp)
				continue
			}
			if !e.visited.Add(c.fp) {
				continue
			}
			t.parent, t.step = append(t.parent, c.parent), append(t.step, c.step)
			if e.snap {
				r := c.ref
				r.chunk += base[b.worker]
				next.refs = append(next.refs, r)
			} else {
				next.worlds = append(next.worlds, wk.worlds[k])
				next.leds = append(next.leds, wk.leds[k])
			}
		}
	}
	e.trails = append(e.trails, t)
	return next
}

// parallel runs f(0..n-1) on n goroutines and waits for them.
func parallel(n int, f func(int)) {
	if n == 1 {
		f(0)
		return
	}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { f(i) })
	}
	wg.Wait()
}

// worker expands states: it loads each into its base world, and tries
// every enabled step on a scratch copy. It allocates nothing per
// transition once its buffers have grown.
type worker struct {
	e                *explorer
	base, cont       *sim.World
	led              ledger
	ledHash          uint64 // led's hash
	steps, contSteps []sim.Step
	succ             []succ // one per enabled step
	res              [2]sim.Result
	sink             uint64 // what the cache touches read, so that they are not optimised away
	names            sim.Names

	taken [256]uint64 // transitions by step kind (a uint8), over the whole search

	// Per level.
	trans  uint64
	kids   []child
	chunks [][]byte // the arena the kids' snapshots are in
	worlds []*sim.World
	leds   []ledger
	viols  [len(propIndex)]found
}

// found is a worker's first violation of a property at this level.
type found struct {
	violation
	ok bool
}

// propIndex numbers the properties for the workers' tables.
var propIndex = [...]string{protocol.AuthC, protocol.AuthS, protocol.Cmd, protocol.Bounded, protocol.Live, protocol.Agree}

func propNumber(p string) int {
	for i, q := range propIndex {
		if q == p {
			return i
		}
	}
	panic("explore: unknown property " + p)
}

func (e *explorer) newWorker() *worker {
	return &worker{e: e, base: e.root.Clone(), cont: e.root.Clone()}
}

func (wk *worker) reset() {
	wk.trans, wk.kids, wk.worlds, wk.leds = 0, wk.kids[:0], nil, nil
	wk.viols = [len(propIndex)]found{}
}

// has reports whether the worker already holds a violation of property at
// this level: its first is its least, since it takes states in order.
func (wk *worker) has(property string) bool { return wk.viols[propNumber(property)].ok }

func (wk *worker) record(v violation) {
	f := &wk.viols[propNumber(v.property)]
	if !f.ok {
		*f = found{v, true}
	}
}

// load makes the worker's base world and ledger state i of the level.
func (wk *worker) load(level *frontier, i int) {
	if level.worlds != nil {
		wk.base.CopyFrom(level.worlds[i])
		wk.led = append(wk.led[:0], level.leds[i]...)
	} else {
		r := level.refs[i]
		rest, err := wk.base.LoadSnapshot(level.chunks[r.chunk][r.off:r.end])
		if err != nil || !wk.led.decode(rest) {
			panic(fmt.Sprintf("explore: state %d of level %d does not decode: %v", i, wk.e.level, err))
		}
	}
	if wk.e.reduced() {
		return // fingerprints are taken from scratch
	}
	wk.ledHash = wk.led.hash()
	// The world keeps its slot and message hash sums from here on, and
	// every copy of it inherits them.
	wk.base.Fingerprint()
}

// expand checks state i of the level and records its successors that the
// visited set does not hold. It reads the visited set but never writes
// it, so workers share it without locks while a level expands.
//
// It takes every step first, each on a world of its own, and only then
// looks the successors up: the lookups are cache misses in tables of
// megabytes, and asking for all of a state's lines at once lets the
// processor wait for them together.
func (wk *worker) expand(level *frontier, i int) {
	e := wk.e
	wk.load(level, i)
	wk.checkState(i)
	wk.steps = wk.base.Enabled(wk.steps[:0])
	n := len(wk.steps)
	for len(wk.succ) < n {
		wk.succ = append(wk.succ, succ{w: e.root.Clone()})
	}
	wk.trans += uint64(n)
	for si := range n {
		wk.taken[wk.steps[si].Kind]++
		sc := &wk.succ[si]
		if sc.same = wk.sameAsEarlier(si); sc.same {
			// An earlier step reaches the same state with the same
			// claims, and the earlier of two wins: nothing to learn.
			continue
		}
		w := sc.w
		// A drop or a duplication makes no claim and leaves the machines as
		// they were: its fingerprint is taken without taking it, and the
		// world is built only if the state is new.
		fp, lazy := uint64(0), false
		switch {
		case !e.reduced():
			if fp, lazy = wk.base.FingerprintAfter(&wk.steps[si]); lazy {
				fp = uint64(mixer(fp).add(wk.ledHash))
			}
		case !e.sym:
			fp, lazy = wk.base.FingerprintNamedAfter(&wk.names, &wk.steps[si], func() uint64 { return wk.led.hashNamed(&wk.names) })
		}
		if lazy {
			sc.lazy, w, sc.fp = true, wk.base, fp
		} else {
			sc.lazy = false
			wk.step(sc, &wk.steps[si], i, si)
			sc.fp = e.fingerprint(w, sc.led, sc.ledHash, &wk.names)
		}
		// BOUNDED as the simulator's monitor judges it, so that a replay
		// of the counterexample finds the same.
		if v := e.bounded.Observe(w.Server.HalfOpen()); v != nil && !e.foundBefore(protocol.Bounded) {
			wk.record(violation{property: protocol.Bounded, parent: i, step: si, reason: v.Reason})
		}
	}
	// Tight loops of independent loads: their misses are in flight
	// together, and the lookups after them hit the cache.
	sink := uint64(0)
	for si := range n {
		sink += e.visited.Touch(wk.succ[si].fp)
	}
	for si := range n {
		sc := &wk.succ[si]
		sc.fresh = !sc.same && !e.visited.Has(sc.fp)
	}
	for si := range n {
		if sc := &wk.succ[si]; sc.fresh {
			sink += e.fresh.Touch(sc.fp)
		}
	}
	wk.sink += sink
	for si := range n {
		sc := &wk.succ[si]
		if !sc.fresh || !e.fresh.Claim(sc.fp, uint64(i)<<32|uint64(si)) {
			continue
		}
		if sc.lazy {
			sc.w.CopyFrom(wk.base)
			applyStep(sc.w, &wk.steps[si], &wk.res)
			sc.led = append(sc.led[:0], wk.led...)
		}
		c := child{fp: sc.fp, parent: int32(i), step: int32(si)}
		if e.snap {
			c.ref = wk.save(sc.w, sc.led)
		} else {
			wk.worlds = append(wk.worlds, sc.w.Clone())
			wk.leds = append(wk.leds, slices.Clone(sc.led))
		}
		wk.kids = append(wk.kids, c)
	}
}

// succ is a successor being looked at: its world, ledger and fingerprint.
type succ struct {
	w       *sim.World
	led     ledger
	ledHash uint64
	fp      uint64
	fresh   bool // not in the visited set
	same    bool // an earlier step of the state has the same effect
	lazy    bool // w is not built yet: fp came from FingerprintAfter
}

// sameAsEarlier reports whether step si of the base world does what an
// earlier step does: the same network step on a message equal to an
// earlier one's (a retransmission, a duplicate), or the same injection.
// Messages in flight count as a multiset and a machine sees only the
// message, so both steps reach worlds with equal fingerprints, by equal
// claims.
func (wk *worker) sameAsEarlier(si int) bool {
	s := &wk.steps[si]
	switch s.Kind {
	case sim.StepDeliver, sim.StepDrop, sim.StepDup:
		m := wk.base.Message(s.Slot)
		for sj := si - 1; m != nil && sj >= 0; sj-- {
			if t := &wk.steps[sj]; t.Kind == s.Kind && *wk.base.Message(t.Slot) == *m {
				return true
			}
		}
	case sim.StepInject, sim.StepInsider:
		for sj := si - 1; sj >= 0; sj-- {
			t := &wk.steps[sj]
			if t.Kind == s.Kind && t.Msg == s.Msg && t.Guess == s.Guess {
				return true
			}
		}
	}
	return false
}

// save appends the snapshot of w and l to the worker's arena.
func (wk *worker) save(w *sim.World, l ledger) ref {
	if len(wk.chunks) == 0 || len(wk.chunks[len(wk.chunks)-1]) >= chunkSize {
		wk.chunks = append(wk.chunks, wk.e.chunkLocked())
	}
	k := len(wk.chunks) - 1
	b := wk.chunks[k]
	off := len(b)
	b, err := w.AppendSnapshot(b)
	if err != nil {
		panic(fmt.Sprintf("explore: a world that had a snapshot has none: %v", err))
	}
	b = l.append(b)
	wk.chunks[k] = b
	return ref{chunk: int32(k), off: uint32(off), end: uint32(len(b))}
}

// step applies the si-th enabled step s of the base world (state i) to
// a copy of it and of its ledger in sc, and records the violations its
// claims complete. An injection is delivered in the same transition: the
// adversary owns the network, so it may as well arrive at once — the
// adversary could have injected it later instead — and an injection
// waiting in flight only adds interleavings.
func (wk *worker) step(sc *succ, s *sim.Step, i, si int) {
	w := sc.w
	w.CopyFrom(wk.base)
	sc.led = append(sc.led[:0], wk.led...)
	nr := applyStep(w, s, &wk.res)
	changed := false
	for r := range wk.res[:nr] {
		for _, cl := range wk.res[r].ClaimList() {
			prop, ch := sc.led.observe(cl, w)
			changed = changed || ch
			if prop != "" && !wk.e.foundBefore(prop) && !wk.has(prop) {
				wk.record(violation{property: prop, parent: i, step: si,
					reason: fmt.Sprintf("%v with no matching claim before it", cl)})
			}
		}
	}
	sc.ledHash = wk.ledHash
	if changed && !wk.e.reduced() {
		sc.ledHash = sc.led.hash() // (the reduced fingerprints hash it themselves)
	}
}

// applyStep takes step s on w, and for an injection or an insider's
// message the delivery of the message, writing the results into res; it
// returns how many. Injections and floods are charged to the adversary's
// budget; the insider's own handshake is not.
func applyStep(w *sim.World, s *sim.Step, res *[2]sim.Result) int {
	apply(w, s, &res[0])
	switch s.Kind {
	case sim.StepInject, sim.StepFlood:
		if sp, ok := w.Adversary().(interface{ Spend() }); ok {
			sp.Spend()
		}
	}
	if s.Kind != sim.StepInject {
		return 1
	}
	d := deliverInjected(w, &res[0])
	apply(w, &d, &res[1])
	return 2
}

func deliverInjected(w *sim.World, r *sim.Result) sim.Step {
	return sim.Step{Kind: sim.StepDeliver, At: w.Now, Slot: r.SentSlot, ID: r.Sent.ID}
}

// apply takes a step the world enabled; a refusal is a bug in the world.
func apply(w *sim.World, s *sim.Step, r *sim.Result) {
	if err := w.ApplyInto(s, r); err != nil {
		panic(fmt.Sprintf("explore: enabled step %v refused: %v", *s, err))
	}
}

// steps rebuilds a violation's counterexample: the path to the state it
// starts from, replayed from the initial world, then its step (with the
// delivery of an injection), or for AGREE the fault-free continuation,
// whose length it also returns.
func (e *explorer) steps(v violation) ([]sim.Step, int) {
	var idx []int32
	for l, j := v.level, int32(v.parent); l > 0; l-- {
		idx = append(idx, e.trails[l].step[j])
		j = e.trails[l].parent[j]
	}
	slices.Reverse(idx)
	if v.step >= 0 {
		idx = append(idx, int32(v.step))
	}
	w := e.root.Clone()
	var out, enabled []sim.Step
	var res [2]sim.Result
	for _, k := range idx {
		enabled = w.Enabled(enabled[:0])
		s := enabled[k]
		out = append(out, s)
		if applyStep(w, &s, &res) == 2 {
			out = append(out, deliverInjected(w, &res[0]))
		}
	}
	if v.property == protocol.Agree {
		n := len(out)
		w.Disagreement(&enabled, &out)
		return out, len(out) - n
	}
	return out, 0
}
