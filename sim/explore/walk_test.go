package explore

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verishake/verishake/adversary"
	"github.com/verishake/verishake/protocol"
	"github.com/verishake/verishake/sim"
)

// walkConfigs are small state spaces of different shapes: the patent
// with the adversary (it breaks), the hardened profile with network faults
// and the insider, with and without token renaming, a space where Run's
// skipping of equal steps changes the count, and two clients with the
// symmetry and token renaming on.
func walkConfigs() map[string]func() Config {
	hardened := protocol.Hardened()
	hardened.Retries = 1
	return map[string]func() Config{
		"patent+adversary": func() Config {
			return Config{Handshake: protocol.Patent().MustCompile(), Clients: 1, Sessions: 1, Commands: 1, Injects: 1,
				Agree: true, RenameTokens: true, Adversary: adversary.NewExplorer(adversary.Default(), 1, 2)}
		},
		"hardened+faults+insider": func() Config {
			return Config{Handshake: hardened.MustCompile(), Clients: 1, Sessions: 1, Commands: 1, Losses: 1, Dups: 1,
				Adversary: adversary.NewExplorer(adversary.Capabilities{Insider: true}, 1, 2)}
		},
		"hardened+faults+insider+renaming": func() Config {
			return Config{Handshake: hardened.MustCompile(), Clients: 1, Sessions: 1, Commands: 1, Losses: 1, Dups: 1, RenameTokens: true,
				Adversary: adversary.NewExplorer(adversary.Capabilities{Insider: true}, 1, 2)}
		},
		// Two equal Validations in different slots, where the fingerprint
		// up to a renaming of tokens depends on which slot is delivered:
		// Run skips the second delivery as the same as the first, and Walk
		// must too (without it, Walk counts 154136 states here).
		"hardened+dup+impersonating-insider+renaming": func() Config {
			return Config{Handshake: hardened.MustCompile(), Clients: 1, Sessions: 1, Dups: 1, Injects: 1, RenameTokens: true,
				Adversary: adversary.NewExplorer(adversary.Capabilities{Insider: true, Impersonate: true}, 1, 2)}
		},
		"hardened+two-clients": func() Config {
			p := protocol.Hardened()
			p.Retries = 0
			return Config{Handshake: p.MustCompile(), Clients: 2, Sessions: 1, Commands: 1, Losses: 1,
				Symmetry: true, RenameTokens: true}
		},
	}
}

// Walk counts the states and transitions Run counts, with the same
// reductions: it goes over the same space.
func TestWalkCountsWhatRunCounts(t *testing.T) {
	for name, mk := range walkConfigs() {
		t.Run(name, func(t *testing.T) {
			rep, err := Run(context.Background(), mk())
			require.NoError(t, err)
			require.True(t, rep.Complete)
			states := 0
			wrep, err := Walk(context.Background(), mk(), Hooks{State: func(int, *sim.World) { states++ }})
			require.NoError(t, err)
			require.Equal(t, rep.States, wrep.States, "states")
			require.Equal(t, rep.Transitions, wrep.Transitions, "transitions")
			require.Equal(t, rep.Depth, wrep.Depth, "depth")
			require.Equal(t, rep.Taken, wrep.Taken, "step kinds")
			require.Equal(t, int(rep.States), states, "the State hook sees each state once")
			t.Logf("%d states, %d transitions, depth %d", rep.States, rep.Transitions, rep.Depth)
		})
	}
}

// Walk's hooks see every step between Pre and Post, and every transition
// once; a state limit stops it with ErrStateLimit.
func TestWalkHooksAndLimit(t *testing.T) {
	mk := walkConfigs()["patent+adversary"]
	pre, post, edges, fresh := 0, 0, 0, 0
	rep, err := Walk(context.Background(), mk(), Hooks{
		Pre:  func(*sim.World, *sim.Step) { pre++ },
		Post: func(_ *sim.World, s *sim.Step, r *sim.Result) { post++; require.Equal(t, s.Kind, r.Kind) },
		Edge: func(from, to int, steps []sim.Step, isNew bool) {
			edges++
			if isNew {
				fresh++
			}
			require.NotEmpty(t, steps)
		},
	})
	require.NoError(t, err)
	require.Equal(t, pre, post)
	require.LessOrEqual(t, uint64(edges), rep.Transitions, "a step that does what an earlier one does is no edge")
	require.Equal(t, rep.States-1, uint64(fresh), "every state but the first is reached new once")
	require.Greater(t, post, edges, "an injection is two steps")

	cfg := mk()
	cfg.MaxStates = 10
	_, err = Walk(context.Background(), cfg, Hooks{})
	require.ErrorIs(t, err, ErrStateLimit)
}

// Random walks stay inside the space Walk goes over: they reach at most
// its states, and with enough of them on a small space, some.
func TestRandomWalksReachPartOfTheSpace(t *testing.T) {
	mk := walkConfigs()["patent+adversary"]
	all, err := Walk(context.Background(), mk(), Hooks{})
	require.NoError(t, err)
	rnd, err := RandomWalks(context.Background(), mk(), 50, 1, Hooks{})
	require.NoError(t, err)
	require.Equal(t, 50, rnd.Runs)
	require.Greater(t, rnd.States, uint64(1))
	require.LessOrEqual(t, rnd.States, all.States)
	again, err := RandomWalks(context.Background(), mk(), 50, 1, Hooks{})
	require.NoError(t, err)
	require.Equal(t, rnd, again, "the same seed walks the same")
}
