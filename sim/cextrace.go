package sim

import (
	"fmt"
	"io"

	"github.com/verishake/verishake/protocol"
)

// TraceSteps runs steps on a fresh world of cfg with symbolic tokens (the
// explorer's world) and writes them as a trace of source SourceExplore,
// ending with the violations the simulator's monitors find, so that
// `verishake replay` re-runs and draws an explorer's counterexample exactly
// as it re-runs a simulation. It returns those violations. Properties only
// the explorer checks (AGREE, deadlock) are not re-judged by the monitors:
// the trace shows the path to them.
func TraceSteps(w io.Writer, cfg Config, steps []Step) ([]Violation, error) {
	h, err := cfg.Profile.Compile()
	if err != nil {
		return nil, fmt.Errorf("sim: trace steps: %w", err)
	}
	wo := cfg.worldOptions(NoAdversary{})
	wo.Tokens = &protocol.SymbolicTokens{}
	world, err := NewWorld(h, wo)
	if err != nil {
		return nil, fmt.Errorf("sim: trace steps: %w", err)
	}
	mon := NewMonitors(cfg.Profile, cfg.Clients, RetireWindow(cfg))
	tw := NewTraceWriter(w)
	c := cfg
	if err := tw.Header(Header{Type: LineHeader, Schema: TraceSchema, Source: SourceExplore, Tokens: TokensSymbolic,
		Profile: cfg.Profile, Variant: cfg.Variant, Seed: cfg.Seed, Config: &c}); err != nil {
		return nil, err
	}
	var (
		res     Result
		viol    []Violation
		n       uint64
		stopped = "done"
		end     = world.Now
	)
	for _, s := range steps {
		if v := mon.Tick(n, s.At); v != nil {
			viol, stopped, end = append(viol, *v), "violation", s.At
			break
		}
		if err := world.ApplyInto(&s, &res); err != nil {
			return nil, fmt.Errorf("sim: trace steps: step %d: %w", n+1, err)
		}
		n++
		end = world.Now
		if err := tw.Step(RecordOf(n, s, &res, world)); err != nil {
			return nil, err
		}
		if v := mon.Observe(world, n, &res); v != nil {
			viol, stopped = append(viol, *v), "violation"
			break
		}
	}
	if len(viol) == 0 {
		if v := mon.Finish(world, n, end); v != nil {
			viol = append(viol, *v)
		}
	}
	if viol == nil {
		viol = []Violation{}
	}
	if err := tw.End(End{Type: LineEnd, Steps: n, T: end, Stopped: stopped, Violations: viol}); err != nil {
		return nil, err
	}
	return viol, tw.Flush()
}
