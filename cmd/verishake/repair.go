package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/verishake/verishake/internal/repair"
	"github.com/verishake/verishake/internal/verifier"
)

func init() {
	register(command{
		name:    "repair",
		usage:   "[--profile P] [--variant V] [--knobs K1,K2,...] [--max-checks N] [--cex DIR] [--json]",
		summary: "every minimal set of knob changes under which every property holds at verify's bounds",
		run:     runRepair,
	})
}

// repairPlan is what repair checks each set of changes with:
// repair.Plan, verify's checks. Tests of the search swap in a cheaper plan.
var repairPlan = repair.Plan

func runRepair(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("repair", stderr)
	profile := fs.String("profile", "hardened", "profile `P`: patent or hardened")
	variant := fs.String("variant", "", "variant `V` of the profile to repair (see verishake variants)")
	knobs := fs.String("knobs", "", "comma-separated knobs `K1,K2,...` to change (default: every knob but the weakenings the profile has off)")
	maxChecks := fs.Int("max-checks", 0, "stop, incomplete, after checking `N` sets of changes (0: no limit)")
	cex := fs.String("cex", defaultCexDir, "write the counterexample traces of the single changes that are not enough to `DIR` (an existing file is never overwritten)")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if status, ok := parseFlags(fs, args, 0, stderr); !ok {
		return status
	}
	p, err := resolveProfile(*profile, *variant)
	if err != nil {
		return usagef(stderr, "repair", "%v", err)
	}
	if *maxChecks < 0 {
		return usagef(stderr, "repair", "--max-checks %d: must not be negative", *maxChecks)
	}
	cfg := repair.Config{Base: p, Variant: *variant, Plan: repairPlan, MaxChecks: *maxChecks, CexDir: *cex}
	if *knobs != "" {
		if cfg.Knobs, err = repair.KnobsByName(strings.Split(*knobs, ",")); err != nil {
			return usagef(stderr, "repair", "--knobs: %v", strings.TrimPrefix(err.Error(), "repair: "))
		}
	}
	// One line per size of set on stderr: a long search says where it is.
	size := 0
	cfg.Progress = func(n, checks, pruned int) {
		if n != size {
			size = n
			fmt.Fprintf(stderr, "verishake repair: trying sets of %d change(s); %d checks, %d skipped so far\n", n, checks, pruned)
		}
	}
	// Ctrl-C ends the search; what it found so far is printed, incomplete.
	ctx, stop := interruptContext()
	defer stop()
	res, err := repair.Search(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "verishake repair: %v\n", err)
		return exitUsage
	}
	if *asJSON {
		out, _ := json.Marshal(res)
		fmt.Fprintln(stdout, string(out))
	} else {
		printRepair(stdout, res)
	}
	switch {
	case !res.Complete:
		return exitUnknown
	case len(res.Minimal) == 0:
		return exitViolation
	}
	return exitOK
}

func printRepair(w io.Writer, r repair.Result) {
	name := r.Profile
	fmt.Fprintf(w, "repair %s: %d knobs (%s), %d sets of changes\n", name, len(r.Knobs), strings.Join(r.Knobs, ", "), r.Space)
	fmt.Fprintf(w, "unchanged: %s\n", verdictLine(r.Base))
	if r.Base.Stopped {
		fmt.Fprintln(w, "           (the first check to find a violation stopped the run: the verdicts after it are unknown)")
	}
	switch {
	case len(r.Minimal) == 1 && len(r.Minimal[0].Changes) == 0:
		fmt.Fprintln(w, "every property already holds: nothing to repair")
	case len(r.Minimal) == 0:
		fmt.Fprintln(w, "no set of changes of these knobs makes every property hold")
	default:
		fmt.Fprintf(w, "%d minimal set(s) of changes under which every property holds:\n", len(r.Minimal))
		for i, f := range r.Minimal {
			fmt.Fprintf(w, "  %d. %s\n     %s\n", i+1, f.Changes, verdictLine(f.Report))
			for _, wo := range f.Without {
				fmt.Fprintf(w, "     without %-28s %s\n", wo.Change.String()+":", brokenLine(wo.Broken))
			}
		}
	}
	if len(r.Rejected) > 0 {
		fmt.Fprintln(w, "single changes that are not enough, and what still breaks first:")
		for _, rej := range r.Rejected {
			fmt.Fprintf(w, "  %-26s %s\n", rej.Change, brokenLine(rej.Broken))
			for _, b := range rej.Broken {
				if c := b.Counterexample; c != nil {
					fmt.Fprintf(w, "  %-26s %s: %s\n", "", b.Property, c.Replay)
				}
			}
		}
	}
	state := "complete"
	switch {
	case r.Interrupted:
		state = "INCOMPLETE (interrupted): a set not checked may be minimal"
	case !r.Complete:
		state = "INCOMPLETE (--max-checks): a set not checked may be minimal"
	}
	fmt.Fprintf(w, "%d checks of verify's plan (%d explorations run, %d reused from an equal one), %d sets skipped as supersets of a set that works, %.1fs, %s\n",
		r.Checks, r.Explorations, r.Reused, r.Pruned, r.Seconds, state)
	if r.Traced > 0 {
		fmt.Fprintf(w, "and %d checks run again to write the counterexamples of the single changes\n", r.Traced)
	}
}

// verdictLine is a report's verdicts on one line: "AUTH-C holds, ...".
func verdictLine(r verifier.Report) string {
	var parts []string
	for _, p := range r.Properties {
		parts = append(parts, p.ID+" "+p.Verdict)
	}
	return strings.Join(parts, ", ")
}

// brokenLine is what broke first: "LIVE violated (2 steps), AGREE
// violated (2 steps), by explore: network faults".
func brokenLine(bs []repair.Broken) string {
	if len(bs) == 0 {
		return "-"
	}
	var parts []string
	for _, b := range bs {
		part := b.Property + " " + b.Verdict
		switch {
		case b.Steps == 1:
			part += " (1 step)"
		case b.Steps > 1:
			part += fmt.Sprintf(" (%d steps)", b.Steps)
		}
		parts = append(parts, part)
	}
	by, _, _ := strings.Cut(bs[0].By, ";")
	return strings.Join(parts, ", ") + ", by " + by
}
