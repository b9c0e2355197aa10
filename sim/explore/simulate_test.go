package explore

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verishake/verishake/adversary"
	"github.com/verishake/verishake/engine"
	"github.com/verishake/verishake/protocol"
)

// TestRandomWalksOverTheHandshakeModel: the engine's random scheduler runs
// the handshake's Model as the search does. On the patent under attack the
// walks find the replayed Confirm1 (AUTH-S) with a counterexample that
// replays to it through the world (the engine re-judges it; here it is
// also expanded into the steps `replay` takes); on hardened they find
// nothing, and say how much they saw.
func TestRandomWalksOverTheHandshakeModel(t *testing.T) {
	walk := engine.WalkConfig{Walks: 3000, MaxDepth: 40, Seed: 11}
	cfg := Config{Handshake: protocol.Patent().MustCompile(), Clients: 1, Sessions: 1, Commands: 1, Injects: 1, Agree: true,
		Adversary: adversary.NewExplorer(adversary.Default(), 1, 2)}
	m, err := NewModel(cfg)
	require.NoError(t, err)
	r, err := engine.Simulate(context.Background(), m, walk)
	require.NoError(t, err)
	cex, ok := r.Violated(protocol.AuthS)
	require.True(t, ok, "random walks find the patent's AUTH-S attack")
	require.GreaterOrEqual(t, len(m.Steps(cex.Actions)), 6, "no walk beats the search's shortest AUTH-S counterexample (6 steps)")

	p := protocol.Hardened()
	p.Retries = 1
	cfg.Handshake, cfg.Adversary = p.MustCompile(), adversary.NewExplorer(adversary.Default(), 1, 2)
	m, err = NewModel(cfg)
	require.NoError(t, err)
	r, err = engine.Simulate(context.Background(), m, walk)
	require.NoError(t, err)
	require.Empty(t, r.Counterexamples)
	require.Contains(t, r.Verdict(protocol.AuthS), "not violated in 3000 walks")
}
