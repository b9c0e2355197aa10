package verifier

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verishake/verishake/protocol"
)

// With StopAtFirst the run ends at the first check that violates a
// property: the patent loses LIVE and AGREE under network faults, the
// first check, and nothing after it runs or is claimed to hold. The
// plan's Explore hook runs the exploration.
func TestStopAtFirstEndsAtTheFirstViolatingCheck(t *testing.T) {
	plan := QuickPlan(protocol.Patent(), "")
	plan.StopAtFirst = true
	ran := 0
	plan.Explore = func(ctx context.Context, j Job) (CheckReport, error) {
		ran++
		return j.Run(ctx, nil)
	}
	rep, err := Run(context.Background(), protocol.Patent(), "", "", plan)
	require.NoError(t, err)
	require.True(t, rep.Stopped)
	require.Len(t, rep.Checks, 1)
	require.Equal(t, 1, ran, "the plan's Explore ran the exploration")
	require.Equal(t, "explore: network faults", rep.Checks[0].Name)
	require.NotNil(t, rep.Holds)
	require.False(t, *rep.Holds)
	for _, p := range rep.Properties {
		require.NotEqual(t, VerdictHolds, p.Verdict, "%s: a stopped run proves nothing", p.ID)
	}
	live, ok := rep.Verdict(protocol.Live)
	require.True(t, ok)
	require.Equal(t, VerdictViolated, live.Verdict)
	require.Equal(t, 2, live.Steps, "the lost Hello, though no trace was written")
	require.Nil(t, live.Counterexample, "no directory, no trace")

	// Without it, every check runs (the explorations and the fault-free
	// simulation here: the forge simulation takes seconds on the patent).
	plan.StopAtFirst = false
	plan.Checks = plan.Checks[:4]
	rep, err = Run(context.Background(), protocol.Patent(), "", "", plan)
	require.NoError(t, err)
	require.False(t, rep.Stopped)
	require.Len(t, rep.Checks, len(plan.Checks))
}

// Each of verify's exhaustive checks covers two honest clients, two
// commands a session and the insider with its own handshake; together
// they take a loss, a duplicate, a retransmission and an injection.
func TestVerifyExplorationsCoverTwoClientsCommandsAndTheInsider(t *testing.T) {
	var losses, dups, retransmits, injects, explorations int
	for _, c := range DefaultPlan(protocol.Hardened(), "").Checks {
		if c.Explore == nil {
			continue
		}
		explorations++
		b := c.Explore.Bounds
		require.Equal(t, 2, b.Clients, c.Name)
		require.Equal(t, 2, b.Commands, c.Name)
		require.True(t, c.Explore.Caps.Insider, "%s: the insider runs its handshake", c.Name)
		losses, dups, injects = losses+b.Losses, dups+b.Dups, injects+b.Injects
		if b.Retries > 0 {
			retransmits++
		}
	}
	require.Positive(t, explorations)
	for what, n := range map[string]int{"loss": losses, "duplicate": dups, "retransmission": retransmits, "injection": injects} {
		require.Positive(t, n, "no check takes a %s", what)
	}
}
