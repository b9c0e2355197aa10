package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/verishake/verishake/sim"
	"github.com/verishake/verishake/sim/coverage"
	"github.com/verishake/verishake/sim/explore"
)

// `check --coverage`, as TLC's -coverage: which rows of the machines'
// tables and which step kinds the exhaustive search took, and how much of
// the same space random walks at the same bounds reach. The rows come
// from a second pass over the state space (explore.Walk, which counts the
// states and step kinds check's search counts) with a coverage.Tally on
// every step; the random walks are explore.RandomWalks.

// coverageReport is the "coverage" object of `check --coverage --json`.
type coverageReport struct {
	// States is the number of states the exhaustive walk went over: the
	// same as check's (one state per renaming, as check counts them).
	States    uint64          `json:"states"`
	Rows      coverage.Report `json:"rows"`
	StepKinds []kindCount     `json:"step_kinds"`
	// StepKindsNeverTaken lists the kinds no transition took, each with
	// why when the bounds or the adversary rule it out.
	StepKindsNeverTaken []string        `json:"step_kinds_never_taken"`
	Random              *randomCoverage `json:"random"`
}

// randomCoverage is what random walks at check's bounds reached.
type randomCoverage struct {
	Walks  int    `json:"walks"`
	Seed   uint64 `json:"seed"`
	Steps  uint64 `json:"steps"`
	States uint64 `json:"states"`
	// Percent is States over the exhaustive count.
	Percent   float64         `json:"percent"`
	Rows      coverage.Report `json:"rows"`
	StepKinds []kindCount     `json:"step_kinds"`
}

type kindCount struct {
	Kind  string `json:"kind"`
	Count uint64 `json:"count"`
}

// coverage walks the job's state space with a tally on every step, then
// takes walks random walks from its initial world.
func (j checkJob) coverage(ctx context.Context, walks int, seed uint64) (*coverageReport, error) {
	m, err := newWebModel(j)
	if err != nil {
		return nil, err
	}
	tally := coverage.New(m.cfg.Handshake)
	all, err := explore.Walk(ctx, m.config(), explore.Hooks{Pre: tally.Pre, Post: tally.Post})
	if err != nil {
		return nil, fmt.Errorf("--coverage: %w", err)
	}
	out := &coverageReport{States: all.States, Rows: tally.Report(), StepKinds: kindCounts(all.Taken), StepKindsNeverTaken: []string{}}
	for _, k := range sim.StepKinds() {
		if all.Taken[k] == 0 {
			s := k.String()
			if why := j.ruledOut(k); why != "" {
				s += " (" + why + ")"
			}
			out.StepKindsNeverTaken = append(out.StepKindsNeverTaken, s)
		}
	}
	if walks > 0 {
		rt := coverage.New(m.cfg.Handshake)
		rnd, err := explore.RandomWalks(ctx, m.config(), walks, seed, explore.Hooks{Pre: rt.Pre, Post: rt.Post})
		if err != nil {
			return nil, fmt.Errorf("--coverage: %w", err)
		}
		out.Random = &randomCoverage{Walks: walks, Seed: seed, Steps: rnd.Steps, States: rnd.States,
			Percent: 100 * float64(rnd.States) / float64(all.States), Rows: rt.Report(), StepKinds: kindCounts(rnd.Taken)}
	}
	return out, nil
}

// ruledOut says why the job's bounds or adversary enable no step of kind
// k, or "" when they do.
func (j checkJob) ruledOut(k sim.StepKind) string {
	switch k {
	case sim.StepCorrupt:
		return "check's bounds corrupt nothing"
	case sim.StepDrop:
		if j.b.Losses == 0 {
			return "--losses 0"
		}
	case sim.StepDup:
		if j.b.Dups == 0 {
			return "--dups 0"
		}
	case sim.StepClientTimer:
		if p := j.profile; p.Retries == 0 && p.Lifetime == 0 || j.b.Retries == 0 && p.Lifetime == 0 {
			return "no retransmission and no lifetime: no client timer"
		}
	case sim.StepServerTimer:
		if j.profile.Lifetime == 0 {
			return "the profile sets no lifetime: no server timer"
		}
	case sim.StepIssue:
		if j.b.Commands == 0 {
			return "--commands 0"
		}
	case sim.StepInject:
		if j.b.Injects == 0 {
			return "--injects 0"
		}
	case sim.StepFlood:
		if j.b.Injects == 0 || !j.caps.Flood {
			return "no injection, or an adversary that does not flood"
		}
	case sim.StepInsider:
		if !j.caps.Insider {
			return "the adversary is not the insider"
		}
	}
	return ""
}

func kindCounts(m map[sim.StepKind]uint64) []kindCount {
	out := []kindCount{}
	for _, k := range sim.StepKinds() {
		if n := m[k]; n > 0 {
			out = append(out, kindCount{k.String(), n})
		}
	}
	return out
}

// printCoverage writes the coverage report as text.
func printCoverage(w io.Writer, c *coverageReport) {
	fmt.Fprintf(w, "coverage: every transition of the %d states\n", c.States)
	printRows(w, c.Rows, true)
	fmt.Fprintf(w, "  step kinds: %s\n", kindsText(c.StepKinds))
	if len(c.StepKindsNeverTaken) > 0 {
		fmt.Fprintf(w, "  step kinds never taken: %s\n", strings.Join(c.StepKindsNeverTaken, ", "))
	}
	if r := c.Random; r != nil {
		fmt.Fprintf(w, "random walks: %d walks (seed %d), %d steps, reached %d of the %d states (%.1f%%)\n",
			r.Walks, r.Seed, r.Steps, r.States, c.States, r.Percent)
		printRows(w, r.Rows, false)
		fmt.Fprintf(w, "  step kinds: %s\n", kindsText(r.StepKinds))
	}
}

// printRows writes each table's rows taken; all: every row with its
// count, else only the counts and the rows never taken.
func printRows(w io.Writer, r coverage.Report, all bool) {
	for _, machine := range []string{"client", "server"} {
		taken, total := 0, 0
		for _, rc := range r.Rows {
			if rc.Machine == machine {
				total++
				if rc.Count > 0 {
					taken++
				}
			}
		}
		fmt.Fprintf(w, "  %s table: %d of %d rows taken\n", machine, taken, total)
		for _, rc := range r.Rows {
			if rc.Machine != machine || !all && rc.Count > 0 {
				continue
			}
			mark := ""
			if rc.Count == 0 {
				mark = "  NEVER TAKEN"
			}
			fmt.Fprintf(w, "    %12d  %s --%s--> %s%s\n", rc.Count, rc.From, rc.Event, rc.To, mark)
		}
	}
	for what, n := range r.Unexplained {
		fmt.Fprintf(w, "  UNEXPLAINED (%d steps): %s\n", n, what)
	}
}

func kindsText(ks []kindCount) string {
	var parts []string
	for _, k := range ks {
		parts = append(parts, fmt.Sprintf("%s %d", k.Kind, k.Count))
	}
	return strings.Join(parts, ", ")
}
