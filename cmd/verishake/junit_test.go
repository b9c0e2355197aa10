package main

import (
	"path/filepath"
	"strings"
	"testing"

	junit "github.com/joshdk/go-junit"
	"github.com/stretchr/testify/require"

	"github.com/verishake/verishake/protocol"
)

// ingestJUnit parses path with a JUnit reader CI tools use, and returns its
// one suite.
func ingestJUnit(t *testing.T, path string) junit.Suite {
	t.Helper()
	suites, err := junit.IngestFile(path)
	require.NoError(t, err)
	require.Len(t, suites, 1, "one <testsuite> per run")
	return suites[0]
}

// requireJUnitMatches checks a suite against the verdicts it reports: one
// case per property, violated as a failure whose type is the property and
// whose message is its reason, unknown as skipped, holds as passed; every
// case decided by a check has that check's time, and the suite has one.
func requireJUnitMatches(t *testing.T, s junit.Suite, props []propertyResult) {
	t.Helper()
	require.Len(t, s.Tests, len(props))
	require.Positive(t, s.Totals.Duration, "the suite has a time")
	for i, p := range props {
		c := s.Tests[i]
		require.Equal(t, p.ID, c.Name)
		if p.By != "" {
			require.Positive(t, c.Duration, "%s has the time of the checks that decided it", p.ID)
		}
		switch p.Verdict {
		case verdictViolated:
			require.Equal(t, junit.StatusFailed, c.Status, p.ID)
			var e junit.Error
			require.ErrorAs(t, c.Error, &e)
			require.Equal(t, p.ID, e.Type)
			require.Equal(t, p.Reason, e.Message)
			require.NotEmpty(t, p.Reason)
			require.Contains(t, e.Body, p.Counterexample.Replay)
		case verdictUnknown:
			require.Equal(t, junit.StatusSkipped, c.Status, p.ID)
			require.True(t, strings.HasPrefix(c.Message, "unknown"), c.Message)
		default:
			require.Equal(t, junit.StatusPassed, c.Status, p.ID)
		}
	}
}

func TestCheckJUnit(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "check.xml")
	status, out, errOut := runCLI("check", "--profile", "patent", "--json", "--junit", path, "--cex", dir)
	require.Equal(t, exitViolation, status, errOut)
	props := requireSchema(t, verdictSchema(t), "check --json", out)
	s := ingestJUnit(t, path)
	requireJUnitMatches(t, s, props)
	require.Positive(t, s.Totals.Failed)
	require.Positive(t, s.Totals.Passed, "AUTH-C holds under the patent")

	// Cut short: every property skipped, none passed.
	status, out, _ = runCLI("check", "--max-states", "1000", "--json", "--junit", path, "--cex", dir)
	require.Equal(t, exitUnknown, status)
	s = ingestJUnit(t, path)
	requireJUnitMatches(t, s, requireSchema(t, verdictSchema(t), "check --json", out))
	require.Equal(t, s.Totals.Tests, s.Totals.Skipped)
}

// verify's JUnit is checked with its report in
// TestVerifyPatentLosesWithReplayableCounterexamples (violated, unknown)
// and TestVerifyHardenedHolds (all passed): each verify run costs seconds.

func TestVariantsJUnit(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "variants.xml")
	status, _, errOut := runCLI("variants", "--check", "--junit", path, "--cex", dir)
	require.Equal(t, exitOK, status, errOut)
	s := ingestJUnit(t, path)
	require.Len(t, s.Tests, len(protocol.Variants()))
	require.Equal(t, len(protocol.Variants()), s.Totals.Passed, "every variant caught")
	for i, v := range protocol.Variants() {
		c := s.Tests[i]
		require.Equal(t, v.Name, c.Name)
		require.Positive(t, c.Duration, v.Name)
		require.Contains(t, c.SystemOut, v.Breaks+" caught by ")
		require.Contains(t, c.SystemOut, "reproduce: verishake ")
	}

	// --junit without --check tests nothing, and says so.
	status, _, errOut = runCLI("variants", "--junit", path)
	require.Equal(t, exitUsage, status)
	require.Contains(t, errOut, "--junit needs --check")
}

// A variant the checker misses is a failure naming the property it should
// break.
func TestVariantsJUnitNotCaught(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v.xml")
	require.NoError(t, writeJUnit(path, variantSuites([]variantResult{{Name: "mine", Expected: protocol.Cmd, Checker: "explore", Seconds: 0.5,
		Properties: []propertyResult{{ID: protocol.Cmd, Verdict: verdictHolds}}}})))
	s := ingestJUnit(t, path)
	require.Equal(t, junit.StatusFailed, s.Tests[0].Status)
	var e junit.Error
	require.ErrorAs(t, s.Tests[0].Error, &e)
	require.Equal(t, protocol.Cmd, e.Type)
	require.Contains(t, e.Message, "mine should break CMD")
}
