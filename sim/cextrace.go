package sim

import (
	"errors"
	"fmt"
	"io"

	"github.com/verishake/verishake/protocol"
	"github.com/verishake/verishake/trace"
)

// ErrNotReproduced marks a counterexample whose steps do not violate the
// property it was written for.
var ErrNotReproduced = errors.New("counterexample does not violate its property")

// TraceSteps runs steps on a fresh world of cfg with symbolic tokens (the
// explorer's world) and writes them as a trace of source trace.SourceExplore
// whose header names target, so that `verishake replay` re-runs and draws
// an explorer's counterexample exactly as it re-runs a simulation, and
// judges it for its target property alone. It takes every step, whatever
// else breaks on the way, and returns the violations found: the target's
// first, then any other property broken on the way. Steps that do not
// violate the target are an error wrapping ErrNotReproduced: the explorer
// and the monitors disagree, which is a bug.
func TraceSteps(w io.Writer, cfg Config, steps []Step, target trace.Target) ([]trace.Violation, error) {
	h, err := cfg.Profile.Compile()
	if err != nil {
		return nil, fmt.Errorf("sim: trace steps: %w", err)
	}
	wo := cfg.worldOptions(NoAdversary{})
	wo.Tokens = &protocol.SymbolicTokens{}
	world, err := NewWorld(h, wo)
	if err != nil {
		return nil, err
	}
	j, err := newJudge(cfg, target, uint64(len(steps)))
	if err != nil {
		return nil, fmt.Errorf("sim: trace steps: %w", err)
	}
	tw := trace.NewWriter(w)
	if err := tw.Header(trace.Header{Type: trace.LineHeader, Schema: trace.Schema, Source: trace.SourceExplore, Tokens: trace.TokensSymbolic,
		Profile: cfg.Profile, Variant: cfg.Variant, Seed: cfg.Seed, Config: cfg.traceConfig(), Target: &target}); err != nil {
		return nil, err
	}
	var (
		res Result
		n   uint64
	)
	for _, s := range steps {
		if err := j.before(world, n, &s); err != nil {
			return nil, fmt.Errorf("sim: trace steps: %w: %w", ErrNotReproduced, err)
		}
		if err := world.ApplyInto(&s, &res); err != nil {
			// err has the package's prefix (ErrStep).
			return nil, fmt.Errorf("%w (trace steps: step %d)", err, n+1)
		}
		n++
		if err := tw.Step(RecordOf(n, s, &res, world)); err != nil {
			return nil, err
		}
		j.observe(world, n, &res)
	}
	viol, ok, err := j.finish(world, n)
	if err != nil {
		return nil, fmt.Errorf("sim: trace steps: %w: %w", ErrNotReproduced, err)
	}
	if !ok {
		return nil, fmt.Errorf("sim: trace steps: %w: %s (found %v)", ErrNotReproduced, target.Property, viol)
	}
	if err := tw.End(trace.End{Type: trace.LineEnd, Steps: n, T: world.Now, Stopped: "violation", Violations: viol}); err != nil {
		return nil, err
	}
	return viol, tw.Flush()
}
