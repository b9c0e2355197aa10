package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/verishake/verishake/adversary"
	"github.com/verishake/verishake/dist/beam/models"
	"github.com/verishake/verishake/engine"
	"github.com/verishake/verishake/internal/verifier"
	"github.com/verishake/verishake/protocol"
	"github.com/verishake/verishake/sim"
	"github.com/verishake/verishake/trace"
)

// checkReport is `verishake check --json`'s object, with what the Beam
// search cost under "beam".
type checkReport struct {
	Profile       string           `json:"profile"`
	Variant       string           `json:"variant"`
	Bounds        models.Bounds    `json:"bounds"`
	Adversary     string           `json:"adversary"`
	States        uint64           `json:"states"`
	Transitions   uint64           `json:"transitions"`
	Depth         int              `json:"depth"`
	Complete      bool             `json:"complete"`
	Seconds       float64          `json:"seconds"`
	StatesPerSec  float64          `json:"states_per_sec"`
	BytesPerState float64          `json:"bytes_per_state"` // of the visited fingerprints on disk
	Symmetry      bool             `json:"symmetry"`
	RenameTokens  bool             `json:"rename_tokens"`
	Interrupted   bool             `json:"interrupted,omitempty"`
	Stopped       string           `json:"stopped,omitempty"`
	WorkDir       string           `json:"work_dir,omitempty"`
	Disk          int64            `json:"disk,omitempty"`
	Properties    []propertyResult `json:"properties"`
	Beam          *beamReport      `json:"beam,omitempty"`
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

// propertyResult is one property's verdict, as verishake check gives it.
type propertyResult struct {
	ID             string          `json:"id"`
	Holds          *bool           `json:"holds"` // null: unknown
	Verdict        string          `json:"verdict"`
	Reason         string          `json:"reason,omitempty"`
	Counterexample *counterexample `json:"counterexample,omitempty"`
	By             string          `json:"by,omitempty"`
}

// counterexample is how a violation is reproduced.
type counterexample struct {
	File     string `json:"file,omitempty"`
	Steps    int    `json:"steps"`
	Property string `json:"property"`
	Replay   string `json:"replay"`
}

// set gives p verdict v, and Holds with it.
func (p *propertyResult) set(v string) {
	p.Verdict, p.Holds = v, nil
	if v != engine.Unknown {
		holds := v == engine.Holds
		p.Holds = &holds
	}
}

// checkStatus is 0 when every property holds, 1 when one is violated, and
// 3 when none is violated but some are unknown.
func checkStatus(props []propertyResult) int {
	status := exitOK
	for _, p := range props {
		switch p.Verdict {
		case engine.Violated:
			return exitViolation
		case engine.Unknown:
			status = exitUnknown
		}
	}
	return status
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

// writeCounterexample writes steps as a trace `verishake replay`
// re-runs, in --cex, named as verishake check names it.
func (c *checkFlags) writeCounterexample(property string, steps []sim.Step, continuation int) (string, error) {
	if c.cex == "" {
		return "", nil
	}
	b := c.job.Bounds
	conf := fmt.Sprintf("c%d-s%d-l%d-d%d-i%d-r%d", b.Clients, b.Sessions, b.Losses, b.Dups, b.Injects, b.Retries)
	if b.Retransmits > 0 {
		conf += fmt.Sprintf("-g%d", b.Retransmits)
	}
	conf += fmt.Sprintf("-k%d", b.Commands)
	if c.caps != adversary.Default() {
		conf += "-" + c.caps.String()
	}
	name := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.", r) {
			return r
		}
		return '-'
	}, c.profile.Name+"-"+conf+"-"+property)
	f, path, err := verifier.CreateCounterexample(c.cex, name)
	if err != nil {
		return "", fmt.Errorf("--cex: %w", err)
	}
	cfg := sim.DefaultConfig()
	cfg.Profile, cfg.Variant, cfg.Seed = c.profile, c.job.Variant, 0
	cfg.Clients, cfg.Handshakes, cfg.Commands = b.Clients, b.Clients*b.Sessions, b.Commands
	target := trace.Target{Property: property, Continuation: continuation}
	if property == protocol.Agree {
		hs, err := c.job.Config()
		if err != nil {
			f.Close()
			return "", err
		}
		target.RetriesCapped = hs.RetriesCapped
	}
	if _, err := sim.TraceSteps(f, cfg, steps, target); err != nil {
		f.Close()
		return "", fmt.Errorf("counterexample %s: %w", path, err)
	}
	return path, f.Close()
}
