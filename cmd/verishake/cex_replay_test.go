package main

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verishake/verishake/protocol"
)

// Every counterexample the explorer writes replays to the very property it
// was written for: a file is named by its property, and `replay` must say
// it reproduced that property first, whatever else broke on the way. The
// runs: `verify` on the patent, `check` on the patent, and `variants
// --check` (every catalog variant at its bounds).
func TestEveryCounterexampleReplaysToItsProperty(t *testing.T) {
	files := 0
	replays := func(t *testing.T, what string, props []propertyResult) {
		for _, p := range props {
			if p.Verdict != verdictViolated || p.Counterexample.File == "" {
				continue // holds, or found by a simulation: its command reruns it
			}
			files++
			require.Equal(t, "verishake replay "+p.Counterexample.File, p.Counterexample.Replay)
			require.Equal(t, p.ID, p.Counterexample.Property)
			st, _, replayErr := runCLI("replay", p.Counterexample.File)
			require.Equal(t, exitViolation, st, "%s %s: %s", what, p.ID, replayErr)
			require.Contains(t, replayErr, "reproduced: "+p.ID+" violated at step", "%s: %s replays as something else:\n%s", what, p.ID, replayErr)
		}
	}
	status, out, errOut := runCLI("verify", "--profile", "patent", "--json", "--cex", t.TempDir())
	require.Equal(t, exitViolation, status, errOut)
	var rep verifyReport
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	replays(t, "verify --profile patent", rep.Properties)

	status, out, errOut = runCLI("check", "--profile", "patent", "--json", "--cex", t.TempDir())
	require.Equal(t, exitViolation, status, errOut)
	var cr checkReport
	require.NoError(t, json.Unmarshal([]byte(out), &cr))
	replays(t, "check --profile patent", cr.Properties)

	dir := t.TempDir()
	for _, v := range protocol.Variants() {
		r, err := checkVariant(v, dir)
		require.NoError(t, err)
		if r.Checker != "explore" {
			continue
		}
		replays(t, "variants --check "+v.Name, r.Properties)
	}
	require.GreaterOrEqual(t, files, 10, "the patent and most variants write explorer counterexamples")
}

// check alone catches short tokens: the explorer offers the guess that hits
// a fresh 8-bit token, and a guessed Ts verifies a session its client never
// confirmed (FORGE, the rate, stays the simulator's).
func TestCheckCatchesShortTokensByGuessing(t *testing.T) {
	dir := t.TempDir()
	status, out, errOut := runCLI("check", "--variant", "short-tokens", "--losses", "0", "--dups", "0", "--json", "--cex", dir)
	require.Equal(t, exitViolation, status, errOut)
	var cr checkReport
	require.NoError(t, json.Unmarshal([]byte(out), &cr))
	for _, p := range cr.Properties {
		if p.ID == protocol.AuthS {
			require.Equal(t, verdictViolated, p.Verdict)
			_, _, replayErr := runCLI("replay", p.Counterexample.File)
			require.Contains(t, replayErr, "reproduced: AUTH-S violated")
			return
		}
	}
	t.Fatal("no AUTH-S verdict")
}
