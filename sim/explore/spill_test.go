package explore

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verishake/verishake/adversary"
	"github.com/verishake/verishake/engine"
	"github.com/verishake/verishake/protocol"
)

// The handshake searched with its levels on disk under a small budget
// finds the same states, verdicts and counterexamples as in memory.
func TestSpilledHandshakeMatchesInMemory(t *testing.T) {
	cfg := Config{Losses: 1, Dups: 1, Injects: 1, Commands: 1, Agree: true, Workers: 2,
		Adversary: adversary.NewExplorer(adversary.Default(), 1, 2)}
	want := run(t, protocol.Patent(), cfg)
	require.True(t, want.Complete)
	require.NotEmpty(t, want.Counterexamples, "the patent falls to the adversary")

	work := t.TempDir()
	cfg.Adversary = adversary.NewExplorer(adversary.Default(), 1, 2)
	cfg.WorkDir, cfg.MemoryBudget = work, 2<<20
	got := run(t, protocol.Patent(), cfg)
	require.Empty(t, got.Stopped)
	require.Positive(t, got.Disk)
	require.LessOrEqual(t, got.Memory, cfg.MemoryBudget)
	require.Equal(t, want.States, got.States)
	require.Equal(t, want.Transitions, got.Transitions)
	require.Equal(t, want.Depth, got.Depth)
	require.Equal(t, want.Complete, got.Complete)
	require.Equal(t, want.Counterexamples, got.Counterexamples)
	left, err := os.ReadDir(work)
	require.NoError(t, err)
	require.Empty(t, left)
	t.Logf("%d states, %d levels, %d bytes on disk at most, %d in memory", got.States, got.Depth, got.Disk, got.Memory)

	cfg.Adversary = adversary.NewExplorer(adversary.Default(), 1, 2)
	cfg.MemoryBudget = 64 << 10
	cut := run(t, protocol.Patent(), cfg)
	require.False(t, cut.Complete)
	require.Equal(t, engine.StoppedMemory, cut.Stopped)
	require.Less(t, cut.States, want.States)
	require.LessOrEqual(t, cut.BytesPerState*float64(cut.States), float64(cfg.MemoryBudget), "the visited set stays within the budget")
}
