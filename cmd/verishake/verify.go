package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/verishake/verishake/adversary"
	"github.com/verishake/verishake/protocol"
	"github.com/verishake/verishake/sim"
)

func init() {
	register(command{
		name:    "verify",
		usage:   "[--profile P] [--variant V] [--json] [--junit FILE] [--cex DIR]",
		summary: "the main job: exhaustive checks, a lossy simulation and every attack strategy; one verdict per property",
		run:     runVerify,
	})
}

// allProperties is the verdict table's order (docs/properties.md).
var allProperties = []string{protocol.AuthC, protocol.AuthS, protocol.Cmd, protocol.Forge, protocol.Bounded, protocol.Live, protocol.Deliver, protocol.Agree}

// Verify's exhaustive runs: each has two honest clients, two commands per
// session and the insider running its own handshake (it pays nothing for
// it), and each is complete. Network faults have the insider as their
// only adversary: a loss and a duplicate with no retransmission, then a
// retransmission (one, all clients together) with a loss, and with a
// duplicate. The adversary's run has one injection and no network fault
// or retransmission. Two clients with a loss, a duplicate and a
// retransmission take 11.9 million states, with the adversary and a
// retransmission 19.9 million: past verify's minute (docs/properties.md,
// "What verify explores").
var verifyExplorations = []struct {
	name, tag string
	b         bounds
	caps      adversary.Capabilities
}{
	{"explore: loss and duplication", "faults", bounds{Clients: 2, Sessions: 1, Losses: 1, Dups: 1, Retries: 0, Commands: 2}, insiderOnly},
	{"explore: loss and retransmission", "loss-retransmit", bounds{Clients: 2, Sessions: 1, Losses: 1, Retries: 1, Retransmits: 1, Commands: 2}, insiderOnly},
	{"explore: duplication and retransmission", "dup-retransmit", bounds{Clients: 2, Sessions: 1, Dups: 1, Retries: 1, Retransmits: 1, Commands: 2}, insiderOnly},
	{"explore: adversary", "adversary", bounds{Clients: 2, Sessions: 1, Injects: 1, Retries: 0, Commands: 2}, adversary.Default()},
}

// insiderOnly is the adversary of verify's fault runs: the insider, with
// its own handshake and no injection.
var insiderOnly = adversary.Capabilities{Insider: true}

// verifySim is one simulation verify makes.
type verifySim struct {
	name string
	cfg  sim.Config
}

// verifySims are the simulations: the platform with no fault (DELIVER: every
// command issued on a verified session executed once), the lossy platform
// without an adversary (LIVE, and the claim monitors at scale), then each
// attack strategy.
func verifySims(p protocol.Profile, variant string) []verifySim {
	base := sim.DefaultConfig()
	base.Profile, base.Variant, base.Seed = p, variant, 1
	lossy := base
	lossy.Handshakes = 20000
	lossy.Upstream.Loss, lossy.Push.Loss, lossy.Upstream.Dup, lossy.Push.Dup = 0.1, 0.1, 0.05, 0.05
	runs := []verifySim{{"sim: no faults", base}, {"sim: 10% loss, 5% duplication", lossy}}
	for _, s := range []string{"replay", "forge", "impersonate", "flood", "all"} {
		c := base
		c.Clients, c.Handshakes, c.Adversary = 100, 2000, s
		runs = append(runs, verifySim{"sim: adversary " + s, c})
	}
	return runs
}

// verifyReport is `verify --json`.
type verifyReport struct {
	Profile string `json:"profile"`
	Variant string `json:"variant"`
	// Holds is true when every property holds, false when one is
	// violated, null when none is violated and some are unknown.
	Holds        *bool            `json:"holds"`
	Properties   []propertyResult `json:"properties"`
	States       uint64           `json:"states"`
	StatesPerSec float64          `json:"states_per_sec"`
	Checks       []checkSummary   `json:"checks"`
}

// checkSummary is one of the runs verify made.
type checkSummary struct {
	Name       string   `json:"name"`
	States     uint64   `json:"states,omitempty"`
	Handshakes uint64   `json:"handshakes,omitempty"`
	Seconds    float64  `json:"seconds"`
	Violated   []string `json:"violated"`
}

func runVerify(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("verify", stderr)
	profile := fs.String("profile", "hardened", "profile `P`: patent or hardened")
	variant := fs.String("variant", "", "variant `V` of the profile (see verishake variants)")
	asJSON := fs.Bool("json", false, "print one JSON object")
	junit := fs.String("junit", "", "write JUnit XML, one test case per property, to `FILE`")
	cex := fs.String("cex", defaultCexDir, cexUsage)
	if status, ok := parseFlags(fs, args, 0, stderr); !ok {
		return status
	}
	p, err := resolveProfile(*profile, *variant)
	if err != nil {
		return usagef(stderr, "verify", "%v", err)
	}
	if *junit != "" {
		// Fail on an unwritable file now, not after the work.
		f, err := os.Create(*junit)
		if err != nil {
			return usagef(stderr, "verify", "--junit: %v", err)
		}
		f.Close()
	}
	rep, err := verify(p, *variant, *cex, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "verishake verify: %v\n", err)
		return exitUsage
	}
	if *junit != "" {
		if err := writeJUnit(*junit, verifySuites(rep)); err != nil {
			fmt.Fprintf(stderr, "verishake verify: --junit: %v\n", err)
			return exitUsage
		}
	}
	if *asJSON {
		out, _ := json.Marshal(rep)
		fmt.Fprintln(stdout, string(out))
	} else {
		printVerify(stdout, rep)
	}
	return checkStatus(rep.Properties)
}

// verify runs every check on p and merges them into one verdict per
// property: violated if any check violates it (the first counterexample
// is kept), holds if some check covers it and none violates it.
func verify(p protocol.Profile, variant, cexDir string, stderr io.Writer) (verifyReport, error) {
	rep := verifyReport{Profile: p.Name, Variant: variant}
	verdicts := map[string]*propertyResult{}
	for _, id := range allProperties {
		verdicts[id] = &propertyResult{ID: id}
		verdicts[id].set(verdictUnknown)
	}
	merge := func(r propertyResult, by string) {
		v := verdicts[r.ID]
		switch {
		case r.Verdict == verdictViolated && v.Verdict != verdictViolated:
			*v = r
			v.set(verdictViolated)
			v.By = by
		case r.Verdict == verdictHolds && v.Verdict == verdictUnknown && !v.cut:
			v.set(verdictHolds)
			v.By = by
		case r.Verdict == verdictHolds && v.Verdict == verdictHolds:
			v.By += "; " + by
		case r.Verdict == verdictUnknown && v.Verdict != verdictViolated:
			// One check could not finish: the property is not proved
			// there, whatever the others found.
			v.set(verdictUnknown)
			v.By, v.cut = by, true
		}
	}
	var explored, seconds float64
	for _, run := range verifyExplorations {
		job := checkJob{profile: p, variant: variant, b: run.b, caps: run.caps, agree: true, symmetry: true, rename: true, maxStates: 20_000_000, cexDir: cexDir, tag: run.tag}
		cr, err := job.run(context.Background(), nil)
		if err != nil {
			return rep, err
		}
		sum := checkSummary{Name: run.name, States: cr.States, Seconds: cr.Seconds, Violated: []string{}}
		for _, r := range cr.Properties {
			merge(r, run.name)
			if r.Verdict == "violated" {
				sum.Violated = append(sum.Violated, r.ID)
			}
		}
		rep.Checks = append(rep.Checks, sum)
		rep.States += cr.States
		explored += float64(cr.States)
		seconds += cr.Seconds
	}
	if seconds > 0 {
		rep.StatesPerSec = explored / seconds
	}
	for _, run := range verifySims(p, variant) {
		sr, err := sim.Run(run.cfg, sim.RunOptions{})
		if err != nil {
			return rep, fmt.Errorf("%s: %w", run.name, err)
		}
		sum := checkSummary{Name: run.name, Handshakes: sr.Handshakes, Seconds: sr.WallSeconds, Violated: []string{}}
		seen := map[string]bool{}
		for _, v := range sr.Violations {
			seen[v.Property] = true
			sum.Violated = append(sum.Violated, v.Property)
			merge(propertyResult{ID: v.Property, Verdict: "violated", Reason: v.Reason,
				Counterexample: &counterexample{Steps: int(v.Step), Property: v.Property, Replay: sr.Replay}}, run.name)
		}
		if len(sr.Violations) > 0 {
			// The run stopped at its first violation: what it would have
			// seen after it is unknown, so it is evidence for nothing else.
			rep.Checks = append(rep.Checks, sum)
			continue
		}
		// A simulation that ran to its end covers the properties its
		// monitors watch.
		covered := []string{protocol.AuthC, protocol.AuthS, protocol.Cmd, protocol.Bounded}
		if run.cfg.Adversary == sim.NoneAdversary {
			covered = append(covered, protocol.Live)
		}
		if run.cfg.Adversary == "forge" {
			covered = append(covered, protocol.Forge)
		}
		if sr.DeliverChecked {
			covered = append(covered, protocol.Deliver)
		}
		for _, id := range covered {
			if !seen[id] {
				merge(propertyResult{ID: id, Verdict: "holds"}, run.name)
			}
		}
		rep.Checks = append(rep.Checks, sum)
	}
	for _, id := range allProperties {
		rep.Properties = append(rep.Properties, *verdicts[id])
	}
	switch checkStatus(rep.Properties) {
	case exitOK:
		rep.Holds = ptr(true)
	case exitViolation:
		rep.Holds = ptr(false)
	}
	return rep, nil
}

func printVerify(w io.Writer, r verifyReport) {
	fmt.Fprintf(w, "verify %s\n", displayName(r.Profile, r.Variant))
	width := 0
	for _, c := range r.Checks {
		width = max(width, len(c.Name))
	}
	for _, c := range r.Checks {
		what := fmt.Sprintf("%d states", c.States)
		if c.States == 0 {
			what = fmt.Sprintf("%d handshakes", c.Handshakes)
		}
		verdict := "no violation"
		if len(c.Violated) > 0 {
			verdict = "violates " + strings.Join(c.Violated, ", ")
		}
		fmt.Fprintf(w, "  %-*s %18s %7.2fs  %s\n", width, c.Name, what, c.Seconds, verdict)
	}
	fmt.Fprintf(w, "explored %d states (%.0f states/s)\n", r.States, r.StatesPerSec)
	printProperties(w, r.Properties)
	switch {
	case r.Holds == nil:
		fmt.Fprintln(w, "no property is violated, but some are unknown: a check was cut short")
	case *r.Holds:
		fmt.Fprintln(w, "every property holds")
	default:
		fmt.Fprintln(w, "some property does not hold")
	}
}
