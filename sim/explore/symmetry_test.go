package explore

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verishake/verishake/adversary"
	"github.com/verishake/verishake/protocol"
)

// TestSymmetryKeepsVerdicts: with two clients, keeping one state per
// renaming of the clients finds the same violations with counterexamples
// of the same length, and between half the states and fewer: every class
// of renamings of two clients has one or two members.
func TestSymmetryKeepsVerdicts(t *testing.T) {
	patent, hardened := protocol.Patent(), protocol.Hardened()
	patent.Retries, hardened.Retries = 0, 0
	noSeq, err := protocol.VariantByName("no-command-seq")
	require.NoError(t, err)
	for _, c := range []struct {
		name string
		p    protocol.Profile
		cfg  Config
	}{
		{"patent, adversary", patent, Config{Injects: 1, Agree: true}},
		{"patent, faults", patent, Config{Losses: 1, Dups: 1, Commands: 1, Agree: true}},
		{"no-command-seq, a duplicate", noSeq.Of(hardened), Config{Dups: 1, Commands: 1}},
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
				require.Len(t, got.Steps, len(want.Steps), want.Property)
			}
		})
	}
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
