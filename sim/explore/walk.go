package explore

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/verishake/verishake/sim"
)

// Walk and RandomWalks go over the state space Run explores, on one
// goroutine, showing every step to hooks: for tools that want more of
// each transition than Run keeps (coverage of the machines' tables, the
// state graph). They take the same steps from the same initial world
// (Root, Take) and tell states apart by the same fingerprints, with the
// same reductions, so Walk counts the states Run counts.

// Hooks see a walk. Any may be nil.
type Hooks struct {
	// Pre is called before each step is applied, with the world as it is;
	// Post after, with the world as the step left it and its result. A
	// transition that injects a message is two steps, the injection and
	// its delivery. The hooks must not change w.
	Pre  func(w *sim.World, s *sim.Step)
	Post func(w *sim.World, s *sim.Step, r *sim.Result)
	// State is called once for each state, when it is first reached, with
	// its number (the initial world's is 0).
	State func(id int, w *sim.World)
	// Edge is called for each transition: the states it goes from and to,
	// its steps, and whether the state it reaches is new.
	Edge func(from, to int, steps []sim.Step, fresh bool)
}

// WalkReport is what a walk found.
type WalkReport struct {
	States, Transitions uint64
	Depth               int
	// Taken counts the steps of each kind (an injection's delivery is not
	// counted apart from it, as in Report.Taken).
	Taken map[sim.StepKind]uint64
}

// ErrStateLimit is Walk's error when the space has more states than
// Config.MaxStates.
var ErrStateLimit = errors.New("explore: more states than the limit")

// walker walks one state space.
type walker struct {
	sym, rename bool // Run's reductions, as it decides them
	hooks       Hooks
	names       sim.Names
	res         sim.Result
	taken       map[sim.StepKind]uint64
}

func newWalker(cfg Config, hooks Hooks) (*walker, *sim.World, error) {
	w, err := Root(cfg)
	if err != nil {
		return nil, nil, err
	}
	return &walker{sym: cfg.Symmetry && cfg.Clients > 1 && w.Symmetric(), rename: cfg.RenameTokens && w.Renamable(),
		hooks: hooks, taken: map[sim.StepKind]uint64{}}, w, nil
}

// take applies step s of w, and an injection's delivery, as Take does,
// showing each to the hooks and recording the claims in led. It returns
// the steps taken.
func (wk *walker) take(w *sim.World, led *ledger, s sim.Step, steps []sim.Step) ([]sim.Step, error) {
	one := func(s sim.Step) error {
		if wk.hooks.Pre != nil {
			wk.hooks.Pre(w, &s)
		}
		if err := w.ApplyInto(&s, &wk.res); err != nil {
			return err
		}
		if wk.hooks.Post != nil {
			wk.hooks.Post(w, &s, &wk.res)
		}
		for _, cl := range wk.res.ClaimList() {
			led.observe(cl, w)
		}
		steps = append(steps, s)
		return nil
	}
	if err := one(s); err != nil {
		return steps, err
	}
	switch s.Kind {
	case sim.StepInject, sim.StepFlood:
		if sp, ok := w.Adversary().(interface{ Spend() }); ok {
			sp.Spend()
		}
	}
	if s.Kind == sim.StepInject {
		if err := one(deliverInjected(w, &wk.res)); err != nil {
			return steps, fmt.Errorf("explore: delivering injection %v: %w", s, err)
		}
	}
	return steps, nil
}

func (wk *walker) fingerprint(w *sim.World, led ledger) uint64 {
	return fingerprintOf(w, led, led.hash(), &wk.names, wk.sym, wk.rename)
}

// node is a state waiting in the walk's frontier: its snapshot, or its
// world when it has none.
type node struct {
	id   int
	snap []byte
	w    *sim.World
	led  ledger
}

// Walk goes over every state Run would, breadth first, calling the hooks.
// Like Run it skips a step that does what an earlier step of the same
// state does (sameAsEarlierStep): Edge is not called for it.
// With cfg.MaxStates set it stops with ErrStateLimit on finding one state
// more (a state graph is wanted whole or not at all).
func Walk(ctx context.Context, cfg Config, hooks Hooks) (WalkReport, error) {
	wk, root, err := newWalker(cfg, hooks)
	if err != nil {
		return WalkReport{}, err
	}
	ids := map[uint64]int{wk.fingerprint(root, nil): 0}
	if hooks.State != nil {
		hooks.State(0, root)
	}
	save := func(id int, w *sim.World, led ledger) node {
		if b, err := w.AppendSnapshot(nil); err == nil {
			return node{id: id, snap: led.append(b)}
		}
		return node{id: id, w: w.Clone(), led: slices.Clone(led)}
	}
	rep := WalkReport{}
	base, cur := root.Clone(), root.Clone()
	var led, curLed ledger
	var enabled, steps []sim.Step
	level := []node{save(0, root, nil)}
	for len(level) > 0 {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		var next []node
		for _, n := range level {
			if n.w != nil {
				base.CopyFrom(n.w)
				led = append(led[:0], n.led...)
			} else {
				rest, err := base.LoadSnapshot(n.snap)
				if err != nil || !led.decode(rest) {
					return rep, fmt.Errorf("explore: walk: state %d does not decode: %v", n.id, err)
				}
			}
			enabled = base.Enabled(enabled[:0])
			for si, s := range enabled {
				rep.Transitions++
				wk.taken[s.Kind]++
				if sameAsEarlier(base, enabled, si) {
					// Run skips it too: an earlier step reaches the same
					// state (fingerprints taken up to a renaming of
					// tokens can tell the two apart by where in flight
					// the equal messages lie).
					continue
				}
				cur.CopyFrom(base)
				curLed = append(curLed[:0], led...)
				if steps, err = wk.take(cur, &curLed, s, steps[:0]); err != nil {
					return rep, fmt.Errorf("explore: walk: enabled step %v refused: %w", s, err)
				}
				fp := wk.fingerprint(cur, curLed)
				id, seen := ids[fp]
				if !seen {
					if cfg.MaxStates > 0 && len(ids) >= cfg.MaxStates {
						rep.States, rep.Taken = uint64(len(ids)), wk.taken
						return rep, fmt.Errorf("%w: %d", ErrStateLimit, cfg.MaxStates)
					}
					id = len(ids)
					ids[fp] = id
					if hooks.State != nil {
						hooks.State(id, cur)
					}
					next = append(next, save(id, cur, curLed))
				}
				if hooks.Edge != nil {
					hooks.Edge(n.id, id, steps, !seen)
				}
			}
		}
		if len(next) > 0 {
			rep.Depth++
		}
		level = next
	}
	rep.States, rep.Taken = uint64(len(ids)), wk.taken
	return rep, nil
}

// RandomReport is what random walks found.
type RandomReport struct {
	Runs  int
	Steps uint64
	// States is the number of distinct states the walks reached,
	// fingerprinted as Run does: comparable with Report.States.
	States uint64
	Taken  map[sim.StepKind]uint64
}

// maxRandomSteps bounds one random walk; the budgets end every path far
// sooner.
const maxRandomSteps = 1 << 16

// RandomWalks takes runs random walks from the initial world, each step
// chosen uniformly among those enabled (with a generator seeded by seed)
// until none is: a random simulation of the very model Run explores, whose
// distinct states say how much of the space random testing reaches.
func RandomWalks(ctx context.Context, cfg Config, runs int, seed uint64, hooks Hooks) (RandomReport, error) {
	wk, root, err := newWalker(cfg, hooks)
	if err != nil {
		return RandomReport{}, err
	}
	rng := rand.New(rand.NewPCG(seed, 0x7a1c_5eed))
	seen := map[uint64]struct{}{wk.fingerprint(root, nil): {}}
	rep := RandomReport{Runs: runs}
	w := root.Clone()
	var led ledger
	var enabled, steps []sim.Step
	for range runs {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		w.CopyFrom(root)
		led = led[:0]
		for range maxRandomSteps {
			if enabled = w.Enabled(enabled[:0]); len(enabled) == 0 {
				break
			}
			s := enabled[rng.IntN(len(enabled))]
			wk.taken[s.Kind]++
			if steps, err = wk.take(w, &led, s, steps[:0]); err != nil {
				return rep, fmt.Errorf("explore: random walk: enabled step %v refused: %w", s, err)
			}
			rep.Steps++
			seen[wk.fingerprint(w, led)] = struct{}{}
		}
	}
	rep.States, rep.Taken = uint64(len(seen)), wk.taken
	return rep, nil
}
