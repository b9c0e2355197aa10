package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verishake/verishake/protocol"
)

func TestVerifyHardenedHolds(t *testing.T) {
	if raceDetector {
		// Millions of states take minutes under the race detector; the
		// explorer's own concurrency is raced in package sim/explore, and
		// this test runs in every plain `go test ./...`.
		t.Skip("verify on hardened explores 10 million states: too slow under -race")
	}
	dir := t.TempDir()
	junit := filepath.Join(dir, "verify.xml")
	status, out, errOut := runCLI("verify", "--json", "--junit", junit, "--cex", dir)
	require.Equal(t, exitOK, status, errOut)
	var rep verifyReport
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	require.NotNil(t, rep.Holds)
	require.True(t, *rep.Holds)
	require.Greater(t, rep.States, uint64(1000))
	require.Greater(t, rep.StatesPerSec, 0.0)
	var ids []string
	for _, p := range rep.Properties {
		ids = append(ids, p.ID)
		require.True(t, p.Held(), "%s: %s", p.ID, p.Verdict)
		require.Nil(t, p.Counterexample)
	}
	require.Equal(t, allProperties, ids)

	requireSchema(t, verdictSchema(t), "verify --json", out)
	suite := ingestJUnit(t, junit)
	requireJUnitMatches(t, suite, rep.Properties)
	require.Equal(t, len(allProperties), suite.Totals.Passed)
}

// The patent loses properties, and each loss the explorer finds comes with
// a counterexample that `verishake replay` reproduces; the JSON and the
// JUnit report it in the shared verdict schema.
func TestVerifyPatentLosesWithReplayableCounterexamples(t *testing.T) {
	dir := t.TempDir()
	junitPath := filepath.Join(dir, "verify.xml")
	status, out, _ := runCLI("verify", "--profile", "patent", "--json", "--junit", junitPath, "--cex", dir)
	require.Equal(t, exitViolation, status)
	var rep verifyReport
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	// The report follows the verdict schema, and its JUnit says the same:
	// violated properties failures with their reasons, FORGE (no check
	// covers it under the patent) skipped.
	props := requireSchema(t, verdictSchema(t), "verify --json", out)
	suite := ingestJUnit(t, junitPath)
	requireJUnitMatches(t, suite, props)
	require.Equal(t, 1, suite.Totals.Skipped)
	require.Equal(t, protocol.Forge, suite.Tests[3].Name)
	kinds := map[string]bool{}
	for _, p := range props {
		kinds[p.Verdict] = true
	}
	require.Len(t, kinds, 3, "holds, violated and unknown all appear")
	lost := map[string]propertyResult{}
	for _, p := range rep.Properties {
		if p.Verdict == verdictViolated {
			lost[p.ID] = p
		}
	}
	for _, id := range []string{protocol.AuthS, protocol.Cmd, protocol.Bounded, protocol.Live, protocol.Agree} {
		require.Contains(t, lost, id)
	}
	require.NotContains(t, lost, protocol.AuthC)
	require.NotContains(t, lost, protocol.Forge)
	for id, p := range lost {
		require.NotNil(t, p.Counterexample, id)
		require.Equal(t, id, p.Counterexample.Property)
		if p.Counterexample.File == "" {
			requireReproduces(t, id, p.Counterexample.Replay)
			continue
		}
		st, _, replayErr := runCLI("replay", p.Counterexample.File)
		require.Contains(t, replayErr, "reproduce", "%s: %s", id, replayErr)
		require.NotEqual(t, exitUsage, st, "%s: %s", id, replayErr)
	}
}

// Every catalog variant is caught by the property it breaks.
func TestVariantsAllCaught(t *testing.T) {
	dir := t.TempDir()
	for _, v := range protocol.Variants() {
		t.Run(v.Name, func(t *testing.T) {
			r, err := checkVariant(v, dir)
			require.NoError(t, err)
			require.True(t, r.Caught, "%s should break %s (%s)", v.Name, v.Breaks, r.Statistic)
			c := r.counterexample()
			require.NotNil(t, c)
			require.NotEmpty(t, c.Replay)
			if r.Checker == "explore" {
				require.Positive(t, c.Steps)
				_, _, replayErr := runCLI("replay", c.File)
				require.Contains(t, replayErr, "reproduce")
			}
		})
	}
}

func TestVariantsJSON(t *testing.T) {
	status, out, _ := runCLI("variants", "--json")
	require.Equal(t, exitOK, status)
	var got struct {
		Variants []variantResult `json:"variants"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &got))
	require.Len(t, got.Variants, len(protocol.Variants()))
	require.Equal(t, "no-client-token-check", got.Variants[0].Name)
	require.Equal(t, protocol.AuthC, got.Variants[0].Expected)
}

func TestCheckAndVerifyBadUsage(t *testing.T) {
	for _, args := range [][]string{
		{"check", "--clients", "0"},
		{"check", "--variant", "nope"},
		{"check", "--adversary", "x-ray"},
		{"check", "--workers", "-1"},
		{"verify", "--profile", "weak"},
		{"verify", "--junit", filepath.Join(t.TempDir(), "no", "such", "dir", "x.xml")},
		{"variants", "--bogus"},
	} {
		status, out, errOut := runCLI(args...)
		require.Equal(t, exitUsage, status, "%v", args)
		require.Empty(t, out)
		require.Equal(t, 1, strings.Count(errOut, "\n"), "%v: %q", args, errOut)
		require.Contains(t, errOut, strings.TrimPrefix(args[1], "--"), "%v names the flag", args)
	}
}

// A search cut short by --max-states, with nothing found, is unknown: exit
// 3, "holds": null for every property, never a pass and never "violated".
func TestCheckIncompleteIsUnknown(t *testing.T) {
	status, out, _ := runCLI("check", "--max-states", "1000", "--cex", t.TempDir())
	require.Equal(t, exitUnknown, status, out)
	require.Contains(t, out, "INCOMPLETE")
	require.NotContains(t, out, "holds")
	require.NotContains(t, out, "violated")

	status, out, _ = runCLI("check", "--max-states", "1000", "--json", "--cex", t.TempDir())
	require.Equal(t, exitUnknown, status)
	var rep struct {
		Complete   bool `json:"complete"`
		Properties []struct {
			ID      string `json:"id"`
			Holds   *bool  `json:"holds"`
			Verdict string `json:"verdict"`
		} `json:"properties"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	require.False(t, rep.Complete)
	require.NotEmpty(t, rep.Properties)
	for _, p := range rep.Properties {
		require.Nil(t, p.Holds, "%s: holds must be null when unknown", p.ID)
		require.Equal(t, verdictUnknown, p.Verdict, p.ID)
	}
	require.Contains(t, out, `"holds":null`)
}

// requireReproduces runs a simulation's reproducing command as a shell
// would: "sim ... --trace trace.jsonl; replay trace.jsonl". The simulation
// exits 1 on its violation, so the two must be joined by ";" (with "&&" the
// replay never runs), and the replay must reproduce the property.
func requireReproduces(t *testing.T, id, command string) {
	t.Helper()
	t.Chdir(t.TempDir()) // the command writes trace.jsonl where it runs
	parts := strings.Split(command, "; ")
	require.Len(t, parts, 2, "%s: %q", id, command)
	require.NotContains(t, command, "&&")
	for i, part := range parts {
		args, err := splitShellWords(strings.TrimPrefix(part, "verishake "))
		require.NoError(t, err)
		status, _, errOut := runCLI(args...)
		require.Equal(t, exitViolation, status, "%s: %s", id, part)
		if i == 1 {
			require.Contains(t, errOut, "reproduced: "+id+" violated", "%s: %s", id, part)
		}
	}
}
