package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/verishake/verishake/internal/verifier"
	"github.com/verishake/verishake/protocol"
)

func init() {
	register(command{
		name:    "verify",
		usage:   "[--profile P] [--variant V] [--json] [--junit FILE] [--cex DIR] [--baseline FILE] [--write-baseline FILE]",
		summary: "the main job: exhaustive checks, a lossy simulation and every attack strategy; one verdict per property",
		run:     runVerify,
	})
}

// allProperties is the verdict table's order (docs/properties.md).
var allProperties = verifier.Properties

// verifyReport is `verify --json`. What verify runs (its explorations'
// bounds, its simulations) is verifier.DefaultPlan.
type verifyReport = verifier.Report

func runVerify(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("verify", stderr)
	profile := fs.String("profile", "hardened", "profile `P`: patent or hardened")
	variant := fs.String("variant", "", "variant `V` of the profile (see verishake variants)")
	asJSON := fs.Bool("json", false, "print one JSON object")
	junit := fs.String("junit", "", "write JUnit XML, one test case per property, to `FILE`")
	cex := fs.String("cex", defaultCexDir, cexUsage)
	base := addBaselineFlags(fs)
	if status, ok := parseFlags(fs, args, 0, stderr); !ok {
		return status
	}
	p, err := resolveProfile(*profile, *variant)
	if err != nil {
		return usagef(stderr, "verify", "%v", err)
	}
	if err := base.load(); err != nil {
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
	cmp := base.compare(rep)
	if err := base.write(rep); err != nil {
		fmt.Fprintf(stderr, "verishake verify: %v\n", err)
		return exitUsage
	}
	if *junit != "" {
		doc := verifySuites(rep)
		if cmp != nil {
			doc = cmp.withJUnit(doc)
		}
		if err := writeJUnit(*junit, doc); err != nil {
			fmt.Fprintf(stderr, "verishake verify: --junit: %v\n", err)
			return exitUsage
		}
	}
	if *asJSON {
		out, _ := json.Marshal(verifyWithBaseline{rep, cmp})
		fmt.Fprintln(stdout, string(out))
	} else {
		printVerify(stdout, rep)
		if cmp != nil {
			cmp.print(stdout)
		}
	}
	return baselineStatus(rep, cmp)
}

// verifyPlan is what verify runs on a profile: verifier.DefaultPlan. Tests
// of what the CLI does with a report (baselines) swap in a cheaper plan.
var verifyPlan = verifier.DefaultPlan

// verify runs every check of verifyPlan on p: verifier.Run.
func verify(p protocol.Profile, variant, cexDir string, stderr io.Writer) (verifyReport, error) {
	return verifier.Run(context.Background(), p, variant, cexDir, verifyPlan(p, variant))
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
