package explore

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verishake/verishake/adversary"
	"github.com/verishake/verishake/engine"
	"github.com/verishake/verishake/protocol"
)

// TestEngineExploresWhatTheExplorerDoes runs the generic engine on the
// handshake as a Model and the explorer on the same configurations, and
// requires the same state space (states, transitions, depth), the same
// verdicts and the same counterexamples: the engine, which knows no protocol, and the handshake's own
// explorer check each other. The configurations cover holding and broken
// profiles, the adversary, faults, two clients with symmetry and token
// renaming, and AGREE's continuation.
func TestEngineExploresWhatTheExplorerDoes(t *testing.T) {
	retry1 := func(p protocol.Profile) protocol.Profile { p.Retries = 1; return p }
	retry0 := func(p protocol.Profile) protocol.Profile { p.Retries = 0; return p }
	patent := protocol.Patent()
	noCheck := retry1(protocol.Hardened())
	noCheck.SkipServerTokenCheck = true
	cases := []struct {
		name string
		p    protocol.Profile
		cfg  Config
	}{
		{"hardened faults", retry1(protocol.Hardened()), Config{Losses: 1, Dups: 1, Commands: 2, Agree: true}},
		{"patent faults", patent, Config{Losses: 1, Dups: 1, Commands: 1, Agree: true}},
		{"hardened two clients", retry0(protocol.Hardened()), Config{Clients: 2, Losses: 1, Commands: 1, Agree: true, Symmetry: true, RenameTokens: true}},
		{"no server-token check under attack", noCheck, Config{Injects: 1, RenameTokens: true}},
		{"patent under attack", patent, Config{Injects: 1, Losses: 1, Commands: 1, Agree: true}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := c.cfg
			cfg.Handshake = c.p.MustCompile()
			cfg.Clients, cfg.Sessions = max(cfg.Clients, 1), 1
			if cfg.Injects > 0 {
				cfg.Adversary = adversary.NewExplorer(adversary.Default(), cfg.Injects, 2)
			}
			want, err := Run(context.Background(), cfg)
			require.NoError(t, err)
			if cfg.Injects > 0 {
				cfg.Adversary = adversary.NewExplorer(adversary.Default(), cfg.Injects, 2)
			}
			m, err := NewModel(cfg)
			require.NoError(t, err)
			got, err := engine.Search(context.Background(), m, engine.Config{})
			require.NoError(t, err)

			t.Logf("%d states; explorer %v, engine %v; violated %d", want.States, want.Elapsed, got.Elapsed, len(want.Counterexamples))
			require.Equal(t, want.Complete, got.Complete)
			require.Equal(t, want.States, got.States)
			require.Equal(t, want.Transitions, got.Transitions)
			require.Equal(t, want.Depth, got.Depth)
			for _, prop := range Properties {
				wantCex, wantBad := want.Violated(prop)
				gotCex, gotBad := got.Violated(prop)
				require.Equal(t, wantBad, gotBad, prop)
				if !wantBad {
					continue
				}
				// Both searches keep the least (state, step) of the first
				// level a property fails at: the same path, step for step.
				require.Equal(t, wantCex.Steps, m.Steps(gotCex.Actions), prop)
				require.Equal(t, wantCex.Continuation, gotCex.Continuation, prop)
				require.Equal(t, wantCex.Reason, gotCex.Reason, prop)
			}
		})
	}
}
