package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verishake/verishake/protocol"
)

// Every counterexample `verify` writes replays to the very property it was
// written for: a file is named by its property, and `replay` must say it
// reproduced that property first, whatever else broke on the way.
func TestEveryCounterexampleReplaysToItsProperty(t *testing.T) {
	runs := [][]string{{"--profile", "patent"}}
	for _, v := range protocol.Variants() {
		runs = append(runs, []string{"--variant", v.Name})
	}
	files := 0
	for _, args := range runs {
		dir := t.TempDir()
		status, out, errOut := runCLI(append([]string{"verify", "--json", "--cex", dir}, args...)...)
		require.Equal(t, exitViolation, status, "%v: %s", args, errOut)
		var rep verifyReport
		require.NoError(t, json.Unmarshal([]byte(out), &rep))
		for _, p := range rep.Properties {
			if p.Verdict != verdictViolated || strings.HasPrefix(p.Counterexample, "verishake ") {
				continue // holds, or found by a simulation: its command reruns it
			}
			files++
			st, _, replayErr := runCLI("replay", p.Counterexample)
			require.Equal(t, exitViolation, st, "%v %s: %s", args, p.ID, replayErr)
			require.Contains(t, replayErr, "reproduced: "+p.ID+" violated at step", "%v: %s replays as something else:\n%s", args, p.ID, replayErr)
		}
	}
	require.Greater(t, files, len(runs), "most runs write explorer counterexamples")
}
