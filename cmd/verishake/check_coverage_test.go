package main

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verishake/verishake/sim/coverage"
)

type checkWithCoverage struct {
	checkReport
	Coverage *coverageReport `json:"coverage"`
}

func checkCoverage(t *testing.T, args ...string) checkWithCoverage {
	t.Helper()
	args = append([]string{"check", "--profile", "patent", "--losses", "0", "--dups", "0", "--cex", t.TempDir(), "--coverage", "--json"}, args...)
	status, out, errOut := runCLI(args...)
	require.Equal(t, exitViolation, status, errOut)
	var r checkWithCoverage
	require.NoError(t, json.Unmarshal([]byte(out), &r), out)
	require.NotNil(t, r.Coverage, out)
	return r
}

func neverTaken(c coverage.Report, row coverage.Row) bool {
	for _, r := range c.NeverTaken {
		if r == row {
			return true
		}
	}
	return false
}

// check --coverage goes over the space check searched, explains every step
// by rows, and names the rows no transition took: with one session per
// client no client starts a second handshake, with two one does.
func TestCheckCoverage(t *testing.T) {
	one := checkCoverage(t)
	c := one.Coverage
	require.Equal(t, one.States, c.States, "the coverage walk goes over check's states")
	require.Empty(t, c.Rows.Unexplained)
	require.Equal(t, c.Rows.Total, c.Rows.Taken+len(c.Rows.NeverTaken))
	restart := coverage.Row{Machine: "client", From: "Verified", Event: "Start", To: "AwaitValidation"}
	require.True(t, neverTaken(c.Rows, restart), "one session per client: %v", c.Rows.NeverTaken)
	require.Contains(t, c.StepKindsNeverTaken, "drop (--losses 0)")
	require.Contains(t, c.StepKindsNeverTaken, "client_timer (no retransmission and no lifetime: no client timer)")

	require.NotNil(t, c.Random)
	require.Equal(t, 1000, c.Random.Walks)
	require.Positive(t, c.Random.States)
	require.LessOrEqual(t, c.Random.States, c.States, "random walks stay in the space")
	require.InDelta(t, 100*float64(c.Random.States)/float64(c.States), c.Random.Percent, 1e-9)

	two := checkCoverage(t, "--sessions", "2", "--coverage-walks", "0")
	require.False(t, neverTaken(two.Coverage.Rows, restart), "two sessions: a client starts again once verified")
	require.Nil(t, two.Coverage.Random, "--coverage-walks 0 takes no random walk")

	status, _, errOut := runCLI("check", "--coverage-walks", "-1")
	require.Equal(t, exitUsage, status)
	require.Contains(t, errOut, "--coverage-walks -1")
}
