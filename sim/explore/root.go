package explore

import (
	"fmt"

	"github.com/verishake/verishake/sim"
)

// Root returns the initial world Run explores for cfg, for a tool that
// walks the same state space one step at a time (the web explorer, the
// state graph dump). Like Run, it sets the budget of an adversary that has
// one to cfg.Injects.
func Root(cfg Config) (*sim.World, error) { return newWorld(cfg) }

// Take takes step s on w as one transition of Run: an injection is
// delivered in the same transition, and injections and floods are charged
// to the adversary's budget. It shows each step to the hooks' Pre and Post
// (State and Edge are Walk's), and returns the steps applied (the
// injection's delivery after it) and their results. A step w refuses is an
// error and leaves w unchanged; s should be one w enabled, or the budgets
// the search keeps are not kept.
func Take(w *sim.World, s sim.Step, h Hooks) ([]sim.Step, []sim.Result, error) {
	var steps []sim.Step
	var results []sim.Result
	one := func(s sim.Step) error {
		if h.Pre != nil {
			h.Pre(w, &s)
		}
		var r sim.Result
		if err := w.ApplyInto(&s, &r); err != nil {
			return err
		}
		if h.Post != nil {
			h.Post(w, &s, &r)
		}
		steps, results = append(steps, s), append(results, r)
		return nil
	}
	if err := one(s); err != nil {
		return nil, nil, err
	}
	switch s.Kind {
	case sim.StepInject, sim.StepFlood:
		if sp, ok := w.Adversary().(interface{ Spend() }); ok {
			sp.Spend()
		}
	}
	if s.Kind == sim.StepInject {
		if err := one(deliverInjected(w, &results[0])); err != nil {
			return steps, results, fmt.Errorf("explore: delivering injection %v: %w", s, err)
		}
	}
	return steps, results, nil
}
