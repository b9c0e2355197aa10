package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	junit "github.com/joshdk/go-junit"
	"github.com/stretchr/testify/require"

	"github.com/verishake/verishake/internal/verifier"
	"github.com/verishake/verishake/protocol"
)

// cheapChecks are a subset of verify's real checks that gives every
// property a verdict in about a second on hardened: the network-faults
// exploration at verify's bounds (it covers AUTH-C, AUTH-S, CMD, BOUNDED,
// LIVE and AGREE), the fault-free simulation (DELIVER) and the forge
// simulation (FORGE). What the baseline code does with a report does not
// depend on how the report was made.
var cheapChecks = []string{"explore: network faults", "sim: no faults", "sim: adversary forge"}

// cheapVerify makes verify run only the checks named keep, with
// simulations of at most 500 handshakes, for the rest of the test.
func cheapVerify(t *testing.T, maxStates int, keep ...string) {
	t.Helper()
	verifyPlan = func(p protocol.Profile, variant string) verifier.Plan {
		plan := verifier.QuickPlan(p, variant)
		plan.MaxStates = maxStates
		plan.Checks = slices.DeleteFunc(plan.Checks, func(c verifier.Check) bool { return !slices.Contains(keep, c.Name) })
		for _, c := range plan.Checks {
			if c.Sim != nil {
				c.Sim.Handshakes = min(c.Sim.Handshakes, 500)
			}
		}
		require.Len(t, plan.Checks, len(keep), "verify's plan has lost a check this test relies on")
		return plan
	}
	t.Cleanup(func() { verifyPlan = verifier.DefaultPlan })
}

// recordHardened records a baseline of hardened on verify's cheaper checks,
// which the rest of the test runs too.
func recordHardened(t *testing.T) (dir, file string) {
	t.Helper()
	if raceDetector {
		t.Skip("explores hardened several times: minutes under -race; the explorer's concurrency is raced in package sim/explore")
	}
	cheapVerify(t, verifier.DefaultMaxStates, cheapChecks...)
	dir = t.TempDir()
	file = filepath.Join(dir, "baseline.json")
	status, _, errOut := runCLI("verify", "--write-baseline", file, "--cex", dir)
	require.Equal(t, exitOK, status, errOut)
	return dir, file
}

// The demonstration: record on hardened; a variant that loses a
// property fails against it (exit 1, naming the property, in text, JSON
// and JUnit); the unchanged profile passes (exit 0).
func TestBaselineRecordOnHardenedThenAVariantRegresses(t *testing.T) {
	dir, file := recordHardened(t)
	recorded, err := readBaseline(file)
	require.NoError(t, err)
	require.Equal(t, "hardened", recorded.Profile)
	require.Len(t, recorded.Properties, len(allProperties))
	for _, p := range recorded.Properties {
		require.Equal(t, verdictHolds, p.Verdict, p.ID)
	}

	status, out, errOut := runCLI("verify", "--variant", "no-command-seq", "--baseline", file, "--cex", dir)
	require.Equal(t, exitViolation, status, errOut)
	require.Contains(t, out, "CMD      REGRESSION: no longer holds")
	require.Contains(t, out, "1 regression(s) against the baseline")

	junitPath := filepath.Join(dir, "verify.xml")
	status, out, _ = runCLI("verify", "--variant", "no-command-seq", "--baseline", file, "--json", "--junit", junitPath, "--cex", dir)
	require.Equal(t, exitViolation, status)
	requireSchema(t, verdictSchema(t), "verify --json --baseline", out)
	var rep verifyWithBaseline
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	require.NotNil(t, rep.Baseline)
	require.Equal(t, 1, rep.Baseline.Regressions)
	for _, c := range rep.Baseline.Properties {
		if c.ID == protocol.Cmd {
			require.Equal(t, changeRegression, c.Change)
			require.Equal(t, verdictHolds, c.Was)
			require.Equal(t, verdictViolated, c.Now)
			require.Positive(t, c.NowSteps)
		} else {
			require.Equal(t, changeSame, c.Change, c.ID)
		}
	}
	suites, err := junit.IngestFile(junitPath)
	require.NoError(t, err)
	require.Len(t, suites, 2, "verify's suite, then the baseline's")
	var failing []string
	for _, s := range suites {
		require.Len(t, s.Tests, len(allProperties), s.Name)
		for _, c := range s.Tests {
			if c.Status == junit.StatusFailed {
				failing = append(failing, c.Name)
			}
		}
	}
	require.Equal(t, []string{protocol.Cmd, "baseline " + protocol.Cmd}, failing)

	status, out, errOut = runCLI("verify", "--baseline", file, "--cex", dir)
	require.Equal(t, exitOK, status, errOut)
	require.Contains(t, out, "no change against the baseline")
}

// Known violations are not regressions, and a variant that changes
// nothing passes: the patent recorded, then checked with no-command-seq
// (the patent numbers no commands already), exits 0 where plain verify
// exits 1. (Without the forge simulation, which the patent keeps busy for
// seconds until LIVE fails: FORGE is unknown both times.)
func TestBaselineKnownViolationsAndANoOpVariantPass(t *testing.T) {
	cheapVerify(t, verifier.DefaultMaxStates, "explore: network faults", "sim: no faults")
	dir := t.TempDir()
	file := filepath.Join(dir, "patent.json")
	status, _, _ := runCLI("verify", "--profile", "patent", "--write-baseline", file, "--cex", dir)
	require.Equal(t, exitViolation, status)
	status, out, errOut := runCLI("verify", "--profile", "patent", "--variant", "no-command-seq", "--baseline", file, "--cex", dir)
	require.Equal(t, exitOK, status, errOut)
	require.Contains(t, out, "verify patent+no-command-seq")
	require.Contains(t, out, "some property does not hold")
	require.Contains(t, out, "no change against the baseline "+file+" (patent)")

	// Compared with and recorded to the same file: the old verdicts are
	// read before the run, the new ones written after, whole.
	status, out, errOut = runCLI("verify", "--profile", "patent", "--baseline", file, "--write-baseline", file, "--cex", dir)
	require.Equal(t, exitOK, status, errOut)
	require.Contains(t, out, "no change against the baseline")
	again, err := readBaseline(file)
	require.NoError(t, err)
	require.Equal(t, "patent", again.Profile)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		require.False(t, strings.HasPrefix(e.Name(), ".verishake-baseline-"), "no temporary file left: %s", e.Name())
	}
}

// A search that finished and is now cut short (here by a tiny state
// budget) is a regression: what it proved is unknown.
func TestBaselineCutSearchRegresses(t *testing.T) {
	dir, file := recordHardened(t)
	cheapVerify(t, 1000, cheapChecks...)
	status, out, _ := runCLI("verify", "--baseline", file, "--cex", dir)
	require.Equal(t, exitViolation, status, out)
	require.Contains(t, out, "AUTH-S   REGRESSION: was holds, now unknown")
}

// The rules, on verdicts made up for each case.
func TestBaselineJudgesEachChange(t *testing.T) {
	base := baselineFile{Format: baselineFormat, Version: baselineVersion, Profile: "p", Properties: []baselineProperty{
		{ID: protocol.AuthC, Verdict: verdictHolds},
		{ID: protocol.AuthS, Verdict: verdictViolated, Steps: 6},
		{ID: protocol.Cmd, Verdict: verdictViolated, Steps: 9},
		{ID: protocol.Forge, Verdict: verdictUnknown},
		{ID: protocol.Bounded, Verdict: verdictViolated, Steps: 1},
		{ID: protocol.Live, Verdict: verdictViolated, Steps: 2},
		{ID: protocol.Deliver, Verdict: verdictViolated},
	}}
	// steps is the explorer's counterexample length: 0 for a simulation's.
	now := func(id, verdict string, steps int) propertyResult {
		r := propertyResult{ID: id, Steps: steps}
		r.Set(verdict)
		return r
	}
	rep := verifyReport{Profile: "p", Properties: []propertyResult{
		now(protocol.AuthC, verdictHolds, 0),
		now(protocol.AuthS, verdictViolated, 4),
		now(protocol.Cmd, verdictViolated, 11),
		now(protocol.Forge, verdictViolated, 0),
		now(protocol.Bounded, verdictHolds, 0),
		now(protocol.Live, verdictUnknown, 0),
		now(protocol.Deliver, verdictViolated, 0),
		now(protocol.Agree, verdictHolds, 0),
	}}
	cmp := compareBaseline("b.json", base, rep)
	got := map[string]string{}
	for _, c := range cmp.Properties {
		got[c.ID] = c.Change
	}
	require.Equal(t, map[string]string{
		protocol.AuthC:   changeSame,
		protocol.AuthS:   changeRegression,  // 6 steps → 4: easier
		protocol.Cmd:     changeImprovement, // 9 → 11: harder
		protocol.Forge:   changeOther,       // decided, was unknown
		protocol.Bounded: changeImprovement, // now holds
		protocol.Live:    changeRegression,  // decided → unknown
		protocol.Deliver: changeSame,        // a simulation's: no length to compare
		protocol.Agree:   changeOther,       // not in the baseline
	}, got)
	require.Equal(t, 2, cmp.Regressions)
	require.Equal(t, exitViolation, baselineStatus(rep, cmp))
}

// A baseline file that is not one, or is of another version, or names a
// property or verdict that does not exist, is refused before any work:
// exit 2, one line naming the file and the field.
func TestBaselineBadFileIsRefused(t *testing.T) {
	dir := t.TempDir()
	good := `{"format":"verishake-baseline","version":1,"profile":"hardened","variant":"","properties":[%s]}`
	prop := `{"id":"AUTH-C","verdict":"holds"}`
	for _, tc := range []struct{ name, body, field string }{
		{"not-json", `{"format":`, "not a baseline file"},
		{"two-values", strings.Replace(good, "%s", prop, 1) + "{}", "more than one JSON value"},
		{"unknown-field", `{"format":"verishake-baseline","version":1,"profile":"hardened","verdicts":[]}`, `unknown field "verdicts"`},
		{"format", `{"format":"junit","version":1,"profile":"hardened","properties":[]}`, "field format"},
		{"version", `{"format":"verishake-baseline","version":2,"profile":"hardened","properties":[]}`, "field version"},
		{"profile", `{"format":"verishake-baseline","version":1,"properties":[]}`, "field profile"},
		{"empty", strings.Replace(good, "%s", "", 1), "field properties: empty"},
		{"id", strings.Replace(good, "%s", `{"id":"AUTH-X","verdict":"holds"}`, 1), "field properties[0].id"},
		{"twice", strings.Replace(good, "%s", prop+","+prop, 1), "field properties[1].id"},
		{"verdict", strings.Replace(good, "%s", `{"id":"CMD","verdict":"maybe"}`, 1), "field properties[0].verdict"},
		{"steps", strings.Replace(good, "%s", `{"id":"CMD","verdict":"violated","steps":-1}`, 1), "field properties[0].steps"},
		{"steps-of-holds", strings.Replace(good, "%s", `{"id":"CMD","verdict":"holds","steps":3}`, 1), "field properties[0].steps"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(dir, tc.name+".json")
			require.NoError(t, os.WriteFile(file, []byte(tc.body), 0o644))
			status, out, errOut := runCLI("verify", "--baseline", file)
			require.Equal(t, exitUsage, status, errOut)
			require.Empty(t, out)
			require.Equal(t, 1, strings.Count(errOut, "\n"), errOut)
			require.Contains(t, errOut, "--baseline "+file)
			require.Contains(t, errOut, tc.field)
		})
	}
	status, _, errOut := runCLI("verify", "--baseline", filepath.Join(dir, "missing.json"))
	require.Equal(t, exitUsage, status)
	require.Contains(t, errOut, "missing.json")
	status, _, errOut = runCLI("verify", "--write-baseline", filepath.Join(dir, "no", "such", "dir", "b.json"))
	require.Equal(t, exitUsage, status)
	require.Contains(t, errOut, "--write-baseline")
}
