package main

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

// recordedCheck is one `check --json` run recorded before the explorer
// moved onto the engine: the state space's size and every verdict with
// its counterexample's length.
type recordedCheck struct {
	Args        []string          `json:"args"`
	Exit        int               `json:"exit"`
	States      uint64            `json:"states"`
	Transitions uint64            `json:"transitions"`
	Depth       int               `json:"depth"`
	Complete    bool              `json:"complete"`
	Properties  []recordedVerdict `json:"properties"`
}

// recordedVerdict is a property's verdict and, when violated, the length
// of its counterexample.
type recordedVerdict struct {
	ID      string `json:"id"`
	Verdict string `json:"verdict"`
	Steps   int    `json:"steps"`
}

// TestCheckIsWhatItWasBeforeTheEngine runs `check` at the default bounds
// on both profiles, at verify's two-client bounds and its fault bounds,
// and requires exactly the figures recorded (testdata says by which
// command and build) with the explorer that preceded the engine: the same
// states, transitions and depth, the same verdicts and the same
// counterexample lengths. The engine's search order is the old one's, so
// any difference is a change in what is explored.
func TestCheckIsWhatItWasBeforeTheEngine(t *testing.T) {
	if raceDetector {
		t.Skip("about 5 million states: too slow under the race detector (the engine's concurrency is raced in engine and sim/explore)")
	}
	raw, err := os.ReadFile("testdata/explorer-before-engine.json")
	require.NoError(t, err)
	var recorded struct {
		Checks []recordedCheck `json:"checks"`
	}
	require.NoError(t, json.Unmarshal(raw, &recorded))
	require.NotEmpty(t, recorded.Checks)
	for _, want := range recorded.Checks {
		args := append([]string{"check"}, want.Args...)
		status, out, errOut := runCLI(append(args, "--json", "--cex", t.TempDir())...)
		require.Equal(t, want.Exit, status, "%v: %s", want.Args, errOut)
		var got recordedCheck
		require.NoError(t, json.Unmarshal([]byte(out), &got), out)
		got.Args, got.Exit = want.Args, status
		// The counterexample's length is in its object now ({file, steps, ...}).
		var cexes struct {
			Properties []struct {
				Counterexample *struct {
					Steps int `json:"steps"`
				} `json:"counterexample"`
			} `json:"properties"`
		}
		require.NoError(t, json.Unmarshal([]byte(out), &cexes))
		for i, p := range cexes.Properties {
			if p.Counterexample != nil {
				got.Properties[i].Steps = p.Counterexample.Steps
			}
		}
		require.Equal(t, want, got, "%v", want.Args)
	}
}
