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
	"cmp"
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"time"

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
	// Bound is BOUNDED's limit on half-open sessions when the profile sets
	// no cap (a server without a cap is held to the same standard).
	Bound int
	// Agree checks AGREE on every state: the fault-free continuation from
	// the state must end with each client and the server agreeing.
	Agree bool
	// Workers expand a level in parallel (0: GOMAXPROCS).
	Workers int
	// MaxStates stops the search once that many states are stored (0: no
	// limit); the report is then incomplete, never a pass.
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
	// Counterexamples holds one shortest counterexample per violated
	// property, ordered by property.
	Counterexamples []Counterexample
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
}

// Properties lists what the explorer checks, in report order.
var Properties = []string{protocol.AuthC, protocol.AuthS, protocol.Cmd, protocol.Bounded, protocol.Live, protocol.Agree}

// trail is a path as a persistent list: states share their common prefix,
// and only the trails of states still in the frontier stay alive.
type trail struct {
	parent *trail
	step   sim.Step
	depth  int
}

func (t *trail) steps() []sim.Step {
	if t == nil {
		return nil
	}
	out := make([]sim.Step, t.depth)
	for ; t != nil; t = t.parent {
		out[t.depth-1] = t.step
	}
	return out
}

type node struct {
	w     *sim.World
	led   ledger
	trail *trail
}

// child is a new successor found while expanding a level: only its
// fingerprint and how to reach it, so that the duplicates a level produces
// cost 24 bytes each; the winners are rebuilt once the level is merged.
type child struct {
	fp     uint64
	parent int // index in the level
	step   int // index in the parent's enabled steps
}

// violation is a property failure found at a level.
type violation struct {
	level    int // the BFS level of the state the violation starts from
	property string
	reason   string
	parent   int // the state's index in the level
	step     int // the step's index, -1 for a state property
	steps    []sim.Step
}

// ErrConfig marks a configuration the explorer cannot run.
var ErrConfig = errors.New("explore: bad configuration")

// Run explores every world reachable within cfg's budgets.
func Run(ctx context.Context, cfg Config) (Report, error) {
	if cfg.Handshake == nil || cfg.Clients < 1 || cfg.Sessions < 1 {
		return Report{}, fmt.Errorf("%w: need a handshake, at least one client and one session (have %d, %d)", ErrConfig, cfg.Clients, cfg.Sessions)
	}
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.GOMAXPROCS(0)
	}
	p := cfg.Handshake.Profile()
	if cfg.Bound <= 0 {
		cfg.Bound = max(p.HalfOpenCap, cfg.Clients+cfg.Injects)
	}
	if p.HalfOpenCap > 0 {
		cfg.Bound = p.HalfOpenCap
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
		return Report{}, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	e := &explorer{cfg: cfg, found: map[string]violation{}, visited: newFPSet(1 << 16)}
	return e.run(ctx, node{w: w})
}

type explorer struct {
	cfg         Config
	level       int
	visited     *fpSet
	transitions uint64
	found       map[string]violation
}

func (e *explorer) fingerprint(n node) uint64 {
	return uint64(mixer(n.w.Fingerprint()).add(n.led.hash()))
}

func (e *explorer) run(ctx context.Context, root node) (Report, error) {
	start := time.Now()
	e.visited.add(e.fingerprint(root))
	level := []node{root}
	depth := 0
	complete := true
	for len(level) > 0 {
		if err := ctx.Err(); err != nil {
			complete = false
			break
		}
		if e.cfg.MaxStates > 0 && e.visited.n >= e.cfg.MaxStates {
			complete = false
			break
		}
		e.level = depth
		next := e.expand(level)
		if len(next) > 0 {
			depth++
		}
		level = next
		if len(e.cfg.StopOn) > 0 && !slices.ContainsFunc(e.cfg.StopOn, func(p string) bool { _, ok := e.found[p]; return !ok }) {
			complete = len(level) == 0
			break
		}
		if e.cfg.Progress != nil {
			e.cfg.Progress(Progress{States: uint64(e.visited.n), Transitions: e.transitions, Depth: depth, Frontier: len(level)})
		}
	}
	r := Report{
		States:        uint64(e.visited.n),
		Transitions:   e.transitions,
		Depth:         depth,
		Complete:      complete,
		Elapsed:       time.Since(start),
		BytesPerState: float64(e.visited.bytes()) / float64(e.visited.n),
	}
	for _, prop := range Properties {
		if v, ok := e.found[prop]; ok {
			r.Counterexamples = append(r.Counterexamples, Counterexample{Property: prop, Reason: v.reason, Steps: v.steps})
		}
	}
	return r, nil
}

// expand checks every state of the level, finds its successors in
// parallel, and returns the next level: the new states, in the order of
// the first (parent, step) that reached each.
func (e *explorer) expand(level []node) []node {
	workers := min(e.cfg.Workers, len(level))
	chunk := (len(level) + workers - 1) / workers
	kids := make([][]child, workers)
	viols := make([][]violation, workers)
	trans := make([]uint64, workers)
	parallel(workers, func(wk int) {
		var steps []sim.Step
		for i := wk * chunk; i < min((wk+1)*chunk, len(level)); i++ {
			steps = e.successors(level, i, steps[:0], &kids[wk], &viols[wk], &trans[wk])
		}
	})
	for wk := range workers {
		e.transitions += trans[wk]
		for _, v := range viols[wk] {
			// Only the first level a property fails at gives shortest
			// counterexamples; within it, the first (state, step) wins.
			v.level = e.level
			old, ok := e.found[v.property]
			if !ok || old.level == v.level && (v.parent < old.parent || v.parent == old.parent && v.step < old.step) {
				e.found[v.property] = v
			}
		}
	}
	all := slices.Concat(kids...)
	slices.SortFunc(all, func(a, b child) int {
		return cmp.Or(cmp.Compare(a.fp, b.fp), cmp.Compare(a.parent, b.parent), cmp.Compare(a.step, b.step))
	})
	var next []child
	for _, c := range all {
		if e.visited.add(c.fp) {
			next = append(next, c) // the first of equal fingerprints: least (parent, step)
		}
	}
	slices.SortFunc(next, func(a, b child) int {
		return cmp.Or(cmp.Compare(a.parent, b.parent), cmp.Compare(a.step, b.step))
	})
	out := make([]node, len(next))
	chunk = (len(next) + workers - 1) / max(workers, 1)
	parallel(workers, func(wk int) {
		var steps []sim.Step
		prev := -1
		for i := wk * chunk; i < min((wk+1)*chunk, len(next)); i++ {
			c := next[i]
			if c.parent != prev {
				steps, prev = level[c.parent].w.Enabled(steps[:0]), c.parent
			}
			out[i], _ = e.step(level[c.parent], steps[c.step])
		}
	})
	return out
}

// parallel runs f(0..n-1) on n goroutines and waits for them.
func parallel(n int, f func(int)) {
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { f(i) })
	}
	wg.Wait()
}

// successors checks state i of the level and appends its unvisited
// successors to kids. It reads the visited set but never writes it, so
// workers share it without locks while a level expands.
func (e *explorer) successors(level []node, i int, steps []sim.Step, kids *[]child, viols *[]violation, trans *uint64) []sim.Step {
	n := level[i]
	e.checkState(n, i, viols)
	steps = n.w.Enabled(steps)
	for si, s := range steps {
		c, claims := e.step(n, s)
		*trans++
		for _, v := range claims {
			v.parent, v.step = i, si
			*viols = append(*viols, v)
		}
		if h := c.w.Server.HalfOpen(); h > e.cfg.Bound {
			*viols = append(*viols, violation{property: protocol.Bounded, parent: i, step: si,
				reason: fmt.Sprintf("%d half-open sessions, above the bound %d", h, e.cfg.Bound), steps: c.trail.steps()})
		}
		if fp := e.fingerprint(c); !e.visited.has(fp) {
			*kids = append(*kids, child{fp: fp, parent: i, step: si})
		}
	}
	return steps
}

// step applies s to a copy of n's world and returns the successor with
// the violations its claims complete. An injection is delivered in the
// same transition: the adversary owns the network, so it may as well
// arrive at once — the adversary could have injected it later instead —
// and an injection waiting in flight only adds interleavings.
func (e *explorer) step(n node, s sim.Step) (node, []violation) {
	w := n.w.Clone()
	c := node{w: w, led: n.led, trail: &trail{parent: n.trail, step: s, depth: depth(n.trail) + 1}}
	var rs [2]sim.Result
	rs[0] = apply(w, s)
	nr := 1
	if s.Kind == sim.StepInject {
		if sp, ok := w.Adversary().(interface{ Spend() }); ok {
			sp.Spend()
		}
		d := sim.Step{Kind: sim.StepDeliver, At: w.Now, Slot: rs[0].SentSlot, ID: rs[0].Sent.ID}
		rs[1], nr = apply(w, d), 2
		c.trail = &trail{parent: c.trail, step: d, depth: c.trail.depth + 1}
	}
	var viols []violation
	for _, r := range rs[:nr] {
		for _, cl := range r.ClaimList() {
			var prop string
			if c.led, prop = c.led.observe(cl, w.Honest); prop != "" {
				viols = append(viols, violation{property: prop, steps: c.trail.steps(),
					reason: fmt.Sprintf("%v with no matching claim before it", cl)})
			}
		}
	}
	return c, viols
}

// apply takes a step the world enabled; a refusal is a bug in the world.
func apply(w *sim.World, s sim.Step) sim.Result {
	r, err := w.Apply(s)
	if err != nil {
		panic(fmt.Sprintf("explore: enabled step %v refused: %v", s, err))
	}
	return r
}

func depth(t *trail) int {
	if t == nil {
		return 0
	}
	return t.depth
}
