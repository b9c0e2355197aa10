package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/verishake/verishake/internal/verifier"
)

// checkReport is `verishake check --json`'s object, with what the Beam
// search cost under "beam".
type checkReport struct {
	verifier.CheckReport
	Beam *beamReport `json:"beam,omitempty"`
}

// beamReport is what the search cost the runner: the level pipelines
// run, and the successors the shuffles carried and their bytes (keys and
// values, before the runner's framing).
type beamReport struct {
	Runner           string  `json:"runner"`
	Endpoint         string  `json:"endpoint,omitempty"`
	Partitions       int     `json:"partitions"`
	Levels           int     `json:"levels"`
	Candidates       int64   `json:"candidates"`
	ShuffledBytes    int64   `json:"shuffled_bytes"`
	ShuffledPerState float64 `json:"shuffled_bytes_per_state"`
}

func printCheck(w io.Writer, r checkReport) {
	name := r.Profile
	if r.Variant != "" && !strings.HasSuffix(name, "+"+r.Variant) {
		name += "+" + r.Variant
	}
	b := r.Bounds
	fmt.Fprintf(w, "check %s: %d client(s) × %d session(s), losses %d, dups %d, injects %d, retries ≤ %d, commands %d, adversary %s\n",
		name, b.Clients, b.Sessions, b.Losses, b.Dups, b.Injects, b.Retries, b.Commands, r.Adversary)
	state := "complete"
	if !r.Complete {
		cut := ""
		if r.Stopped != "" {
			cut = " (" + r.Stopped + ")"
		}
		state = "INCOMPLETE" + cut + ": the search was cut short; what it did not find broken is unknown"
	}
	switch {
	case r.Symmetry && r.RenameTokens:
		state += "; one state per renaming of clients and tokens"
	case r.Symmetry:
		state += "; one state per renaming of clients"
	case r.RenameTokens:
		state += "; one state per renaming of tokens"
	}
	fmt.Fprintf(w, "%d states, %d transitions, depth %d, %.2fs (%.0f states/s, %.1f bytes/state), %s\n",
		r.States, r.Transitions, r.Depth, r.Seconds, r.StatesPerSec, r.BytesPerState, state)
	fmt.Fprintf(w, "memory budget none (not measured), work directory %s (at most %s on disk)\n", r.WorkDir, formatSize(r.Disk))
	if x := r.Beam; x != nil {
		fmt.Fprintf(w, "beam: runner %s, %d partitions, %d level pipelines, %d successors shuffled (%s, %.1f bytes a state)\n",
			x.Runner, x.Partitions, x.Levels, x.Candidates, formatSize(x.ShuffledBytes), x.ShuffledPerState)
	}
	for _, p := range r.Properties {
		fmt.Fprintf(w, "  %-8s %s", p.ID, p.Verdict)
		if p.Reason != "" {
			fmt.Fprintf(w, ": %s", p.Reason)
		}
		if c := p.Counterexample; c != nil {
			unit := "steps"
			if c.Steps == 1 {
				unit = "step"
			}
			fmt.Fprintf(w, "\n           %d %s; replay: %s", c.Steps, unit, c.Replay)
		}
		fmt.Fprintln(w)
	}
}

// formatSize writes bytes as verishake does.
var formatSize = verifier.FormatSize
