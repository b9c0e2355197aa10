package nspk_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verishake/verishake/examples/nspk"
)

// The zero Config is Lowe's setting, and the runs follow Config order,
// initiators first, each honest agent's nonces counted over its runs.
func TestConfigRuns(t *testing.T) {
	require.Equal(t, []nspk.RunSpec{
		{Role: nspk.Initiator, Agent: nspk.A, Nonce: nspk.NonceOf(nspk.A, 1)},
		{Role: nspk.Responder, Agent: nspk.B, Nonce: nspk.NonceOf(nspk.B, 1)},
	}, newModel(t, lowesBounds).Runs())
	runs := newModel(t, twoRunsARole).Runs()
	require.Equal(t, []string{"Na", "Nb", "Nb2", "Na2"}, []string{runs[0].Nonce.String(), runs[1].Nonce.String(), runs[2].Nonce.String(), runs[3].Nonce.String()})
	require.Equal(t, []nspk.Agent{nspk.A, nspk.B, nspk.B, nspk.A}, []nspk.Agent{runs[0].Agent, runs[1].Agent, runs[2].Agent, runs[3].Agent})
	require.Equal(t, nspk.Responder, runs[3].Role)
}

// New names the field and the run that make a Config unusable.
func TestNewRejectsBadConfigs(t *testing.T) {
	for _, bad := range []struct {
		name string
		cfg  nspk.Config
		want string
	}{
		{"the intruder as an initiator", nspk.Config{Initiators: []nspk.Agent{nspk.A, nspk.I}}, "nspk: Config.Initiators[1] is I, want A or B"},
		{"no agent as a responder", nspk.Config{Responders: []nspk.Agent{0}}, "nspk: Config.Responders[0] is Agent(0), want A or B"},
		{"too many runs", nspk.Config{Initiators: make([]nspk.Agent, 5), Responders: make([]nspk.Agent, 4)}, "nspk: config has 9 runs, at most 8"},
	} {
		t.Run(bad.name, func(t *testing.T) {
			m, err := nspk.New(bad.cfg)
			require.Nil(t, m)
			require.ErrorContains(t, err, bad.want)
		})
	}
}
