package explore

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verishake/verishake/adversary"
	"github.com/verishake/verishake/protocol"
	"github.com/verishake/verishake/sim"
)

// TestSymmetryKeepsVerdicts: with two clients, keeping one state per
// renaming of the clients finds the same violations with counterexamples
// of the same length, and between half the states and fewer: every class
// of renamings of two clients has one or two members.
func TestSymmetryKeepsVerdicts(t *testing.T) {
	patent := protocol.Patent()
	patent.Retries = 0
	for _, c := range []struct {
		name string
		p    protocol.Profile
		cfg  Config
	}{
		{"patent, adversary", patent, Config{Injects: 1, Agree: true}},
		{"patent, faults", patent, Config{Losses: 1, Dups: 1, Commands: 1, Agree: true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := c.cfg
			cfg.Clients = 2
			if cfg.Injects > 0 {
				cfg.Adversary = adversary.NewExplorer(adversary.Default(), 2, 3)
			}
			plain := run(t, c.p, cfg)
			cfg.Symmetry = true
			if cfg.Injects > 0 {
				cfg.Adversary = adversary.NewExplorer(adversary.Default(), 2, 3)
			}
			sym := run(t, c.p, cfg)
			require.False(t, plain.Symmetry)
			require.True(t, sym.Symmetry)
			require.True(t, plain.Complete && sym.Complete)
			require.Less(t, sym.States, plain.States)
			require.GreaterOrEqual(t, 2*sym.States, plain.States)
			require.Equal(t, plain.Depth, sym.Depth)
			require.NotEmpty(t, plain.Counterexamples)
			require.Len(t, sym.Counterexamples, len(plain.Counterexamples))
			for i, want := range plain.Counterexamples {
				got := sym.Counterexamples[i]
				require.Equal(t, want.Property, got.Property)
				require.Equal(t, want.Path(), got.Path(), want.Property)
			}
		})
	}
}

// TestRenamingKeepsVerdicts: keeping one state per renaming of the
// tokens, alone and with client symmetry, finds the same violations with
// counterexamples of the same length, in no more states.
func TestRenamingKeepsVerdicts(t *testing.T) {
	patent, hardened := protocol.Patent(), protocol.Hardened()
	patent.Retries, hardened.Retries = 0, 0
	twoSessions := Config{Sessions: 2, Injects: 1}
	cases := []struct {
		name string
		p    protocol.Profile
		cfg  Config
	}{
		{"patent, 2 sessions", patent, twoSessions},
		{"patent, 2 clients", patent, Config{Clients: 2, Injects: 1}},
		{"hardened, 2 clients, a loss", hardened, Config{Clients: 2, Losses: 1}},
	}
	for _, name := range []string{"no-client-token-check", "no-server-token-check", "static-server-token", "reused-client-token"} {
		v, err := protocol.VariantByName(name)
		require.NoError(t, err)
		cases = append(cases, struct {
			name string
			p    protocol.Profile
			cfg  Config
		}{name + ", 2 sessions", v.Of(hardened), twoSessions})
	}
	violations := 0
	var sumPlain, sumReduced uint64
	for _, c := range cases {
		cfg := c.cfg
		cfg.Agree = true
		clients := max(cfg.Clients, 1)
		newAdv := func() sim.Adversary {
			if cfg.Injects == 0 {
				return nil
			}
			return adversary.NewExplorer(adversary.Default(), clients, protocol.RegID(clients+1))
		}
		cfg.Adversary = newAdv()
		plain := run(t, c.p, cfg)
		cfg.RenameTokens, cfg.Symmetry, cfg.Adversary = true, true, newAdv()
		reduced := run(t, c.p, cfg)
		t.Logf("%s: %d states, %d with renaming", c.name, plain.States, reduced.States)
		require.True(t, reduced.RenameTokens, c.name)
		require.Equal(t, clients > 1, reduced.Symmetry, c.name)
		require.True(t, plain.Complete && reduced.Complete, c.name)
		require.LessOrEqual(t, reduced.States, plain.States, c.name)
		sumPlain, sumReduced = sumPlain+plain.States, sumReduced+reduced.States
		require.Equal(t, plain.Depth, reduced.Depth, c.name)
		require.Len(t, reduced.Counterexamples, len(plain.Counterexamples), c.name)
		for i, want := range plain.Counterexamples {
			got := reduced.Counterexamples[i]
			require.Equal(t, want.Property, got.Property, c.name)
			require.Equal(t, want.Path(), got.Path(), "%s %s: path length", c.name, want.Property)
			violations++
		}
	}
	require.Greater(t, violations, 10)
	require.Less(t, 10*sumReduced, 6*sumPlain, "renaming merges states")
}

// TestSymmetryNeedsTwoClients: with one client, or an adversary that
// tells clients apart, the search is the plain one.
func TestSymmetryNeedsTwoClients(t *testing.T) {
	p := protocol.Patent()
	one := run(t, p, Config{Losses: 1, Symmetry: true})
	require.False(t, one.Symmetry)
	require.Equal(t, uint64(10), one.States, "TestTinyWorldCountedByHand's count")

	x := adversary.NewExplorer(adversary.Default(), 2, 3)
	x.Targets = x.Targets[:1]
	r := run(t, p, Config{Clients: 2, Injects: 1, Symmetry: true, Adversary: x})
	require.False(t, r.Symmetry)
}
