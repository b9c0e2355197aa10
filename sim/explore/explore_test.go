package explore

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verishake/verishake/adversary"
	"github.com/verishake/verishake/protocol"
	"github.com/verishake/verishake/sim"
)

func run(t *testing.T, p protocol.Profile, cfg Config) Report {
	t.Helper()
	cfg.Handshake = p.MustCompile()
	cfg.Clients, cfg.Sessions = max(cfg.Clients, 1), max(cfg.Sessions, 1)
	r, err := Run(context.Background(), cfg)
	require.NoError(t, err)
	return r
}

// TestTinyWorldCountedByHand: the patent with one client, one handshake, no
// adversary. Without faults the world is a line: idle, Hello in flight,
// Validation in flight, Confirm1 in flight, Confirm2 in flight, verified —
// 6 states, 5 transitions (the patent has no timers to fire). Allowing one
// loss adds one dead end per message in flight (4 states, 4 transitions);
// after the loss nothing else may be lost, and no timer re-sends anything.
func TestTinyWorldCountedByHand(t *testing.T) {
	r := run(t, protocol.Patent(), Config{})
	require.True(t, r.Complete)
	require.Equal(t, uint64(6), r.States)
	require.Equal(t, uint64(5), r.Transitions)
	require.Equal(t, 5, r.Depth)
	require.Empty(t, r.Counterexamples)

	r = run(t, protocol.Patent(), Config{Losses: 1})
	require.Equal(t, uint64(10), r.States)
	require.Equal(t, uint64(9), r.Transitions)
	live, ok := r.Violated(protocol.Live)
	require.True(t, ok, "a lost message leaves the patent's client waiting for ever")
	require.Len(t, live.Steps, 2, "start, drop the Hello")
	require.Equal(t, sim.StepDrop, live.Steps[1].Kind)
}

func TestHardenedHoldsUnderFaults(t *testing.T) {
	p := protocol.Hardened()
	p.Retries = 1
	r := run(t, p, Config{Losses: 1, Dups: 1, Commands: 1, Agree: true})
	require.True(t, r.Complete)
	require.Empty(t, r.Counterexamples)
	require.Greater(t, r.States, uint64(1000))
}

func TestHardenedHoldsUnderAttack(t *testing.T) {
	p := protocol.Hardened()
	p.Retries = 1
	r := run(t, p, Config{Injects: 1, Commands: 1, Agree: true, Adversary: adversary.NewExplorer(adversary.Default(), 1, 2)})
	require.True(t, r.Complete)
	require.Empty(t, r.Counterexamples)
}

func TestPatentLosesWithShortestCounterexamples(t *testing.T) {
	r := run(t, protocol.Patent(), Config{Losses: 1, Dups: 1, Commands: 1, Agree: true})
	lengths := map[string]int{}
	for _, c := range r.Counterexamples {
		lengths[c.Property] = len(c.Steps)
	}
	// AUTH-S: start, Hello, Validation, duplicate the Confirm1, deliver
	// both: the server verifies twice. CMD: the same with the command.
	require.Equal(t, map[string]int{protocol.AuthS: 6, protocol.Cmd: 9, protocol.Live: 2, protocol.Agree: 2}, lengths)
}

func TestSameReportWhateverTheWorkers(t *testing.T) {
	a := run(t, protocol.Patent(), Config{Losses: 1, Dups: 1, Commands: 1, Workers: 1})
	b := run(t, protocol.Patent(), Config{Losses: 1, Dups: 1, Commands: 1, Workers: 3})
	a.Elapsed, b.Elapsed = 0, 0
	a.Memory, b.Memory = 0, 0 // the budget counts at least a chunk a worker
	require.Equal(t, a, b)
}

func TestMaxStatesIsIncompleteNotAPass(t *testing.T) {
	p := protocol.Hardened()
	p.Retries = 1
	r := run(t, p, Config{Losses: 1, Dups: 1, MaxStates: 50})
	require.False(t, r.Complete)
	require.Equal(t, uint64(50), r.States, "the limit is kept to the state")
	for _, workers := range []int{1, 2, 3} {
		again := run(t, p, Config{Losses: 1, Dups: 1, MaxStates: 50, Workers: workers})
		again.Elapsed, again.Memory = r.Elapsed, r.Memory
		require.Equal(t, r, again, "the same states whatever the workers")
	}
	// A limit the search reaches with nothing left to explore is no cut.
	all := run(t, protocol.Patent(), Config{Losses: 1})
	exact := run(t, protocol.Patent(), Config{Losses: 1, MaxStates: int(all.States)})
	require.True(t, exact.Complete)
	require.Equal(t, all.States, exact.States)
}

// The explorer's counterexample is never longer than the simulator's: BFS
// finds the shortest path, the simulator a random one.
func TestCounterexampleNoLongerThanSimulation(t *testing.T) {
	v, err := protocol.VariantByName("no-command-seq")
	require.NoError(t, err)
	p := v.Of(protocol.Hardened())
	r := run(t, p, Config{Dups: 1, Commands: 1, StopOn: []string{protocol.Cmd}})
	cex, ok := r.Violated(protocol.Cmd)
	require.True(t, ok)

	cfg := sim.DefaultConfig()
	cfg.Profile, cfg.Clients, cfg.Handshakes, cfg.Commands = p, 1, 1, 1
	cfg.Push.Dup = 1 // every push is duplicated, the command too
	rep, err := sim.Run(cfg, sim.RunOptions{})
	require.NoError(t, err)
	require.NotEmpty(t, rep.Violations)
	require.Equal(t, protocol.Cmd, rep.Violations[0].Property)
	require.LessOrEqual(t, uint64(len(cex.Steps)), rep.Violations[0].Step)
}

// StopAtFirst ends the search at the first level with any violation: the
// patent under one loss and one duplicate loses LIVE at depth 2 (a lost
// Hello), long before its deeper violations (AUTH-S needs 6 steps). The
// stopped search reports what the full one reports at that depth, and is
// incomplete.
func TestStopAtFirstStopsAtTheShallowestViolation(t *testing.T) {
	full := run(t, protocol.Patent(), Config{Losses: 1, Dups: 1, Commands: 1})
	require.True(t, full.Complete)
	first := run(t, protocol.Patent(), Config{Losses: 1, Dups: 1, Commands: 1, StopAtFirst: true})
	require.False(t, first.Complete)
	require.NotEmpty(t, first.Counterexamples)
	require.Less(t, first.States, full.States)
	require.Less(t, len(first.Counterexamples), len(full.Counterexamples))
	shallowest := full.Counterexamples[0].Path()
	for _, c := range full.Counterexamples {
		shallowest = min(shallowest, c.Path())
	}
	for _, c := range first.Counterexamples {
		want, ok := full.Violated(c.Property)
		require.True(t, ok, c.Property)
		require.Equal(t, want.Path(), c.Path(), c.Property)
		require.Equal(t, shallowest, c.Path(), c.Property)
	}
}
