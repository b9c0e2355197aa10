package main

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verishake/verishake/sim"
)

// sim --coverage counts the rows the run took: every handshake started is
// one Start row and every command issued one Issue row, and each step is
// explained by rows. The run itself is the same with it or without.
func TestSimCoverage(t *testing.T) {
	args := []string{"sim", "--clients", "10", "--handshakes", "200", "--loss", "0.2", "--dup", "0.1", "--json"}
	status, out, errOut := runCLI(append(args, "--coverage")...)
	require.Equal(t, exitOK, status, errOut)
	var r struct {
		sim.Report
		Coverage *simCoverage `json:"coverage"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &r), out)
	require.NotNil(t, r.Coverage)
	c := r.Coverage
	require.Empty(t, c.Rows.Unexplained)
	starts, issues, giveUps := uint64(0), uint64(0), uint64(0)
	for _, rc := range c.Rows.Rows {
		switch rc.Event {
		case "Start":
			starts += rc.Count
		case "Issue":
			issues += rc.Count
		case "GiveUp":
			giveUps += rc.Count
		}
	}
	require.Equal(t, r.Handshakes, starts, "one Start row per handshake started")
	require.Equal(t, r.CommandsIssued, issues, "one Issue row per command issued")
	require.Equal(t, r.Failed, giveUps, "one GiveUp row per handshake failed")
	require.Greater(t, c.States, uint64(r.Handshakes), "a run goes through many states")

	status, plain, errOut := runCLI(args...)
	require.Equal(t, exitOK, status, errOut)
	var p sim.Report
	require.NoError(t, json.Unmarshal([]byte(plain), &p))
	p.WallSeconds, p.HandshakesPerSec, p.StepsPerSec = 0, 0, 0
	r.WallSeconds, r.HandshakesPerSec, r.StepsPerSec = 0, 0, 0
	require.Equal(t, p, r.Report, "--coverage does not change the run")
}
