package verifier

import (
	"context"
	"fmt"
	"slices"

	"github.com/verishake/verishake/engine"
	"github.com/verishake/verishake/protocol"
	"github.com/verishake/verishake/sim"
	"github.com/verishake/verishake/sim/explore"
)

// CompactReport is what a check reports of a lossy search: the expected
// number of states it omitted, which bounds the probability that it
// omitted any.
type CompactReport struct {
	Mode string `json:"mode"`
	// TableBytes is the lossy table's size.
	TableBytes int64 `json:"table_bytes"`
	// ExpectedOmitted is the expected number of reachable states the
	// search wrongly took for ones seen before and never expanded;
	// OmissionProbability (at most 1) bounds the probability that it
	// omitted any.
	ExpectedOmitted     float64 `json:"expected_omitted"`
	OmissionProbability float64 `json:"omission_probability"`
}

// LossyBy is a holds verdict's "by" in a lossy search: it holds in every
// state the search kept (the report's compact says how many it may have
// omitted).
const LossyBy = "explore, lossy"

// CompactTable is the size of the lossy table: size, or by default a
// quarter of the budget, at most 512 MiB.
func CompactTable(size, budget int64) int64 {
	switch {
	case size > 0:
		return size
	case budget > 0:
		return min(budget/4, 512<<20)
	}
	return 512 << 20
}

// exploreCompacted is explore.Run, or with a lossy compaction the same model
// searched by the engine with it, which explore.Config cannot ask for.
func exploreCompacted(ctx context.Context, compact engine.Compaction, size int64, cfg explore.Config) (explore.Report, *CompactReport, error) {
	if !compact.Lossy() {
		rep, err := explore.Run(ctx, cfg)
		return rep, nil, err
	}
	root, err := explore.Root(cfg)
	if err != nil {
		return explore.Report{}, nil, err
	}
	m, err := explore.NewModel(cfg)
	if err != nil {
		return explore.Report{}, nil, err
	}
	ec := engine.Config{Workers: cfg.Workers, MaxStates: cfg.MaxStates, Progress: cfg.Progress, WorkDir: cfg.WorkDir,
		MemoryBudget: cfg.MemoryBudget, Compact: compact, CompactBytes: CompactTable(size, cfg.MemoryBudget)}
	ec.StopOn, ec.StopAtFirst = cfg.StopOn, cfg.StopAtFirst
	for _, p := range cfg.StopOn {
		if p == protocol.Agree && !cfg.Agree || !slices.Contains(explore.Properties, p) {
			ec.StopOn = nil // as explore.Run: a property never checked is never violated
		}
	}
	er, err := engine.Search(ctx, m, ec)
	if err != nil {
		return explore.Report{}, nil, fmt.Errorf("explore: %w", err)
	}
	rep := explore.Report{States: er.States, Transitions: er.Transitions, Depth: er.Depth, Complete: er.Complete,
		Elapsed: er.Elapsed, BytesPerState: float64(er.VisitedBytes) / float64(max(er.States, 1)),
		Symmetry: cfg.Symmetry && cfg.Clients > 1 && root.Symmetric(), RenameTokens: cfg.RenameTokens && root.Renamable(),
		Taken: map[sim.StepKind]uint64{}, Stopped: er.Stopped, Memory: er.Memory, Disk: er.Disk}
	for k, n := range er.Taken {
		if n > 0 {
			rep.Taken[sim.StepKind(k)] = n
		}
	}
	for _, c := range er.Counterexamples {
		rep.Counterexamples = append(rep.Counterexamples, explore.Counterexample{Property: c.Property, Reason: c.Reason,
			Steps: m.Steps(c.Actions), Continuation: c.Continuation})
	}
	cr := &CompactReport{Mode: compact.String(), TableBytes: int64(er.VisitedBytes), ExpectedOmitted: er.Omitted,
		OmissionProbability: min(er.Omitted, 1)}
	return rep, cr, nil
}

// markLossy says in each holds verdict that it is a lossy search's.
func markLossy(props []Property) {
	for i := range props {
		if props[i].Verdict == VerdictHolds {
			props[i].By = LossyBy
		}
	}
}
