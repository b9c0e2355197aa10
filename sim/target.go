package sim

import (
	"fmt"
	"slices"

	"github.com/verishake/verishake/protocol"
	"github.com/verishake/verishake/trace"
)

// judge re-judges a targeted trace step by step, with the same code that
// found it: the claim and bound monitors for AUTH-C, AUTH-S, CMD, BOUNDED
// (and FORGE, for guesses), World.Deadlocked for the explorer's LIVE and
// World.Disagreement for AGREE.
type judge struct {
	target trace.Target
	prefix uint64 // steps before the continuation
	mon    *Monitors
	found  []trace.Violation // the first violation of each property, in order
	cont   []Step            // AGREE: the continuation the model takes
	agree  *trace.Violation  // AGREE: its verdict at the end of the continuation
}

func newJudge(cfg Config, t trace.Target, steps uint64) (*judge, error) {
	switch t.Property {
	case protocol.AuthC, protocol.AuthS, protocol.Cmd, protocol.Bounded, protocol.Live, protocol.Forge:
		if t.Continuation != 0 {
			return nil, fmt.Errorf("target %s has a continuation of %d steps; only AGREE has one", t.Property, t.Continuation)
		}
	case protocol.Agree:
		if t.Continuation < 0 || uint64(t.Continuation) > steps {
			return nil, fmt.Errorf("target AGREE: continuation of %d steps in a trace of %d", t.Continuation, steps)
		}
	default:
		return nil, fmt.Errorf("unknown target property %q", t.Property)
	}
	return &judge{target: t, prefix: steps - uint64(t.Continuation),
		mon: NewMonitors(cfg.Profile, cfg.Clients, 0)}, nil
}

// before is called before step n+1 is taken on w.
func (j *judge) before(w *World, n uint64, s *Step) error {
	if j.target.Property == protocol.Agree && n == j.prefix {
		if err := j.runContinuation(w, n); err != nil {
			return err
		}
	}
	if n >= j.prefix && j.target.Property == protocol.Agree {
		k := int(n - j.prefix)
		if k >= len(j.cont) || j.cont[k] != *s {
			return fmt.Errorf("step %d is not the fault-free continuation's step %d", n+1, k+1)
		}
	}
	return nil
}

// runContinuation runs AGREE's continuation on a copy of w, the state the
// path reaches after n steps.
func (j *judge) runContinuation(w *World, n uint64) error {
	if !w.AgreeApplies(j.target.RetriesCapped) {
		return fmt.Errorf("AGREE is not asked of the state after step %d: a client has used up its retries or lifetime", n)
	}
	c := w.Clone()
	var buf []Step
	j.cont = j.cont[:0]
	if reason, bad := c.Disagreement(&buf, &j.cont); bad {
		j.agree = &trace.Violation{Property: protocol.Agree, Step: n, T: w.Now, Reason: reason}
	}
	return nil
}

// observe checks step n, which w took with result r.
func (j *judge) observe(w *World, n uint64, r *Result) {
	m := j.mon
	j.note(m.Forge.Observe(w, r), w, n)
	for i := range r.NClaims {
		j.note(m.Auth.Observe(w.Now, &r.Claims[i]), w, n)
	}
	j.note(m.Bounded.Observe(w.Server.HalfOpen()), w, n)
}

func (j *judge) note(v *trace.Violation, w *World, n uint64) {
	if v == nil || slices.ContainsFunc(j.found, func(f trace.Violation) bool { return f.Property == v.Property }) {
		return
	}
	v.Step, v.T = n, w.Now
	j.found = append(j.found, *v)
}

// finish ends the judgment after the last step n: the violations found,
// the target's first, and whether the target was violated.
func (j *judge) finish(w *World, n uint64) ([]trace.Violation, bool, error) {
	switch j.target.Property {
	case protocol.Agree:
		if n == j.prefix {
			if err := j.runContinuation(w, n); err != nil {
				return nil, false, err
			}
		}
		if len(j.cont) != j.target.Continuation {
			return nil, false, fmt.Errorf("the fault-free continuation takes %d steps, the trace has %d", len(j.cont), j.target.Continuation)
		}
		if j.agree != nil {
			j.found = append([]trace.Violation{*j.agree}, j.found...)
		}
	case protocol.Live:
		if c, stuck := w.Deadlocked(); stuck {
			j.found = append([]trace.Violation{{Property: protocol.Live, Step: n, T: w.Now, RegID: uint64(c + 1),
				Reason: fmt.Sprintf("client %d waits in %v with nothing in flight and no timer set", c+1, w.Clients[c].State)}}, j.found...)
		}
	}
	i := slices.IndexFunc(j.found, func(v trace.Violation) bool { return v.Property == j.target.Property })
	if i > 0 {
		// The target first: it is what the trace was written for.
		v := j.found[i]
		j.found = append([]trace.Violation{v}, slices.Delete(j.found, i, i+1)...)
	}
	if j.found == nil {
		j.found = []trace.Violation{}
	}
	return j.found, i >= 0, nil
}
