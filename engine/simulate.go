package engine

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"
)

// WalkConfig bounds a random simulation of a model.
type WalkConfig struct {
	// Walks is how many random walks to take from Init; MaxDepth how many
	// actions each takes at most (a walk also ends where no action is
	// enabled).
	Walks, MaxDepth int
	// Seed makes the run: the same seed, the same walks.
	Seed uint64
}

// WalkReport is what a random simulation saw. A property it did not see
// violated is not thereby held: Verdict says how much was seen.
type WalkReport[A any] struct {
	Walks, Actions uint64
	// Deepest is the longest walk, in actions.
	Deepest int
	Seed    uint64
	Elapsed time.Duration
	// Properties are the names of the properties checked, in order.
	Properties []string
	// Counterexamples holds, per violated property, the first walk that
	// violated it, up to the violation (and a Continue property's
	// continuation), in the order of Properties.
	Counterexamples []Counterexample[A]
}

// Violated returns the counterexample for property, if a walk violated it.
func (r WalkReport[A]) Violated(property string) (Counterexample[A], bool) {
	for _, c := range r.Counterexamples {
		if c.Property == property {
			return c, true
		}
	}
	return Counterexample[A]{}, false
}

// Verdict is Violated for a property a walk violated; otherwise it says
// how much the simulation saw without a violation, never Holds.
func (r WalkReport[A]) Verdict(property string) string {
	if _, ok := r.Violated(property); ok {
		return Violated
	}
	return fmt.Sprintf("not violated in %d walks (%d actions, the longest %d)", r.Walks, r.Actions, r.Deepest)
}

// Simulate is the random scheduler of any model: it takes cfg.Walks walks
// from Init, each choosing uniformly among the enabled actions, and judges
// every property at every state and step as Search does. A counterexample
// is the walk that found it; rebuilt from Init, it violates the property
// again, or Simulate reports the model nondeterministic.
func Simulate[S, A any](ctx context.Context, m Model[S, A], cfg WalkConfig) (WalkReport[A], error) {
	if cfg.Walks < 1 || cfg.MaxDepth < 1 {
		return WalkReport[A]{}, fmt.Errorf("%w: simulate: need at least one walk of at least one action (have %d walks of %d)", ErrModel, cfg.Walks, cfg.MaxDepth)
	}
	props := m.Properties()
	for i := range props {
		if props[i].Name == "" || props[i].kind() == "" {
			return WalkReport[A]{}, fmt.Errorf("%w: property %d %q must have a name and exactly one check", ErrModel, i, props[i].Name)
		}
	}
	start := time.Now()
	r := WalkReport[A]{Seed: cfg.Seed}
	for _, p := range props {
		r.Properties = append(r.Properties, p.Name)
	}
	found := make([]*Counterexample[A], len(props))
	var cur, next S
	var acts, path []A
	for walk := range cfg.Walks {
		if ctx.Err() != nil {
			break
		}
		rng := rand.New(rand.NewPCG(cfg.Seed, uint64(walk)))
		m.Init(&cur)
		path = path[:0]
		for depth := 0; ; depth++ {
			for pi := range props {
				p := &props[pi]
				if found[pi] != nil {
					continue
				}
				var err error
				cont := path
				switch {
				case p.State != nil:
					err = p.State(&cur)
				case p.Continue != nil:
					err = p.Continue(&cur, nil)
				}
				if err != nil {
					n := len(cont)
					cont = append([]A(nil), cont...)
					if p.Continue != nil {
						// Run it again on a copy rebuilt from the path, to
						// record the continuation without losing cur.
						rebuilt := replay(m, cont)
						_ = p.Continue(&rebuilt, &cont)
					}
					found[pi] = &Counterexample[A]{Property: p.Name, Reason: err.Error(), Actions: cont, Continuation: len(cont) - n}
				}
			}
			if depth == cfg.MaxDepth {
				break
			}
			acts = m.Actions(&cur, acts[:0])
			if len(acts) == 0 {
				for pi := range props {
					if p := &props[pi]; p.Stuck != nil && found[pi] == nil {
						if err := p.Stuck(&cur); err != nil {
							found[pi] = &Counterexample[A]{Property: p.Name, Reason: err.Error(), Actions: append([]A(nil), path...)}
						}
					}
				}
				break
			}
			a := acts[rng.IntN(len(acts))]
			m.Apply(&cur, &a, &next)
			path = append(path, a)
			r.Actions++
			for pi := range props {
				if p := &props[pi]; p.Step != nil && found[pi] == nil {
					if err := p.Step(&cur, &a, &next); err != nil {
						found[pi] = &Counterexample[A]{Property: p.Name, Reason: err.Error(), Actions: append([]A(nil), path...)}
					}
				}
			}
			cur, next = next, cur
			r.Deepest = max(r.Deepest, depth+1)
		}
		r.Walks++
	}
	for pi, c := range found {
		if c == nil {
			continue
		}
		if !reproduces(m, &props[pi], c) {
			return r, fmt.Errorf("%w: simulate: %s's counterexample does not violate it when run again (the model is not deterministic)", ErrModel, c.Property)
		}
		r.Counterexamples = append(r.Counterexamples, *c)
	}
	r.Elapsed = time.Since(start)
	return r, nil
}

// replay runs actions from Init and returns the state they reach.
func replay[S, A any](m Model[S, A], actions []A) S {
	var cur, next S
	m.Init(&cur)
	for i := range actions {
		m.Apply(&cur, &actions[i], &next)
		cur, next = next, cur
	}
	return cur
}

// reproduces runs a walk's counterexample again from Init and judges its
// property where the walk did.
func reproduces[S, A any](m Model[S, A], p *Property[S, A], c *Counterexample[A]) bool {
	path := c.Actions[:c.Path()]
	var cur, next S
	m.Init(&cur)
	for i := range path {
		m.Apply(&cur, &path[i], &next)
		if i == len(path)-1 && p.Step != nil {
			return p.Step(&cur, &path[i], &next) != nil
		}
		cur, next = next, cur
	}
	switch {
	case p.State != nil:
		return p.State(&cur) != nil
	case p.Stuck != nil:
		var acts []A
		return len(m.Actions(&cur, acts)) == 0 && p.Stuck(&cur) != nil
	case p.Continue != nil:
		var cont []A
		return p.Continue(&cur, &cont) != nil
	}
	return false
}
