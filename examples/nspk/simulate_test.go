package nspk

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verishake/verishake/engine"
)

// TestRandomWalksFindTheAttackToo: the engine's random scheduler runs the
// same model as its search: random walks over the original protocol come
// upon Lowe's attack (a counterexample that reproduces, never shorter than
// the search's shortest), and over the fixed protocol see no violation,
// which is reported as how much was seen, not as a pass.
func TestRandomWalksFindTheAttackToo(t *testing.T) {
	cfg := engine.WalkConfig{Walks: 2000, MaxDepth: 10, Seed: 1}
	orig, err := New(Config{})
	require.NoError(t, err)
	r, err := engine.Simulate(context.Background(), orig, cfg)
	require.NoError(t, err)
	cex, ok := r.Violated(ResponderAgreement)
	require.True(t, ok, "2000 random walks of the 38-state original find the attack")
	require.GreaterOrEqual(t, cex.Path(), 4, "no walk beats the shortest attack")

	fixed, err := New(Config{Fixed: true})
	require.NoError(t, err)
	r, err = engine.Simulate(context.Background(), fixed, cfg)
	require.NoError(t, err)
	require.Empty(t, r.Counterexamples)
	require.Contains(t, r.Verdict(ResponderAgreement), "not violated in 2000 walks")
}
