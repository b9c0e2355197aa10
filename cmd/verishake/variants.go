package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/verishake/verishake/adversary"
	"github.com/verishake/verishake/protocol"
	"github.com/verishake/verishake/sim"
)

func init() {
	register(command{
		name:    "variants",
		usage:   "[--check] [--json] [--cex DIR]",
		summary: "the variant catalog; --check shows each variant caught by the property it breaks",
		run:     runVariants,
	})
}

// variantBounds are the explorer bounds that reach each catalog variant's
// attack: the fewest injections, sessions or faults it needs. A variant
// not listed (a designer's own) gets check's defaults.
var variantBounds = map[string]bounds{
	"no-client-token-check": {Clients: 1, Sessions: 1, Injects: 2, Retries: 1},
	"no-server-token-check": {Clients: 1, Sessions: 1, Injects: 1, Retries: 1},
	"static-server-token":   {Clients: 1, Sessions: 1, Injects: 2, Retries: 1},
	"reused-client-token":   {Clients: 1, Sessions: 2, Injects: 1, Retries: 1},
	"unbound-regid":         {Clients: 1, Sessions: 1, Injects: 2, Retries: 1},
	"no-command-seq":        {Clients: 1, Sessions: 1, Dups: 1, Retries: 1, Commands: 1},
	"no-session-cap":        {Clients: 1, Sessions: 1, Injects: 1, Retries: 1},
	"no-retransmit":         {Clients: 1, Sessions: 1, Losses: 1, Retries: 1},
	"no-idempotent-confirm": {Clients: 1, Sessions: 1, Losses: 1, Retries: 1},
}

// variantResult is one row of `variants --check`.
type variantResult struct {
	Name     string `json:"name"`
	Summary  string `json:"summary"`
	Expected string `json:"expected"`
	Caught   bool   `json:"caught"`
	// Checker is "explore" or the simulation that caught it.
	Checker string `json:"checker"`
	// Steps is the counterexample's length (explore), Counterexample its
	// trace file or the command that reproduces it.
	Steps          int    `json:"steps,omitempty"`
	Counterexample string `json:"counterexample,omitempty"`
	// Statistic is what a simulation measured (FORGE, BOUNDED).
	Statistic string `json:"statistic,omitempty"`
	States    uint64 `json:"states,omitempty"`
}

// checkVariant runs the checker the variant's property needs on hardened
// changed by v: the explorer, stopped at the first counterexample, for
// AUTH-C, AUTH-S, CMD, LIVE and AGREE; a simulation under the forge or
// flood adversary for FORGE and BOUNDED, which are statistics of many
// handshakes.
func checkVariant(v protocol.Variant, cexDir string) (variantResult, error) {
	p := v.Of(protocol.Hardened())
	res := variantResult{Name: v.Name, Summary: v.Summary, Expected: v.Breaks}
	switch v.Breaks {
	case protocol.Forge:
		// FORGE is a rate: the simulator measures it (the explorer finds
		// what a hit breaks, AUTH-S for a guessed Ts, but not the rate).
		cfg := sim.DefaultConfig()
		cfg.Profile, cfg.Variant, cfg.Clients, cfg.Handshakes = p, v.Name, 100, 5000
		cfg.Adversary = "forge"
		rep, err := sim.Run(cfg, sim.RunOptions{})
		if err != nil {
			return res, err
		}
		res.Checker = "sim: adversary " + cfg.Adversary
		res.Statistic = forgeStatistic(rep)
		for _, viol := range rep.Violations {
			if viol.Property == v.Breaks {
				res.Caught = true
				res.Counterexample = cfg.Command()
			}
		}
		return res, nil
	}
	b, ok := variantBounds[v.Name]
	if !ok {
		b = defaultBounds
	}
	job := checkJob{profile: p, variant: v.Name, b: b, caps: adversary.Default(), agree: v.Breaks == protocol.Agree, symmetry: true, rename: true,
		maxStates: 5_000_000, stopOn: []string{v.Breaks}, cexDir: cexDir}
	cr, err := job.run(context.Background(), nil)
	if err != nil {
		return res, err
	}
	res.Checker, res.States = "explore", cr.States
	for _, r := range cr.Properties {
		if r.ID == v.Breaks && r.Verdict == "violated" {
			res.Caught, res.Steps, res.Counterexample = true, r.Steps, r.Counterexample
		}
	}
	return res, nil
}

// forgeStatistic reads the FORGE figures from a simulation's JSON report,
// where the adversary's guesses are counted.
func forgeStatistic(rep *sim.Report) string {
	raw, _ := json.Marshal(rep)
	var f struct {
		Guesses  uint64 `json:"forge_guesses"`
		Accepted uint64 `json:"forge_accepted"`
	}
	_ = json.Unmarshal(raw, &f)
	return fmt.Sprintf("%d of %d guessed tokens accepted", f.Accepted, f.Guesses)
}

func runVariants(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("variants", stderr)
	check := fs.Bool("check", false, "run each variant's checker and show it caught")
	asJSON := fs.Bool("json", false, "print one JSON object")
	cex := fs.String("cex", filepath.Join(os.TempDir(), "verishake-cex"), "directory for counterexample traces")
	if status, ok := parseFlags(fs, args, 0, stderr); !ok {
		return status
	}
	var rows []variantResult
	for _, v := range protocol.Variants() {
		r := variantResult{Name: v.Name, Summary: v.Summary, Expected: v.Breaks}
		if *check {
			var err error
			if r, err = checkVariant(v, *cex); err != nil {
				fmt.Fprintf(stderr, "verishake variants: %s: %v\n", v.Name, err)
				return exitUsage
			}
		}
		rows = append(rows, r)
	}
	if *asJSON {
		out, _ := json.Marshal(struct {
			Variants []variantResult `json:"variants"`
		}{rows})
		fmt.Fprintln(stdout, string(out))
	} else {
		printVariants(stdout, rows, *check)
	}
	if *check {
		for _, r := range rows {
			if !r.Caught {
				return exitViolation
			}
		}
	}
	return exitOK
}

func printVariants(w io.Writer, rows []variantResult, checked bool) {
	for _, r := range rows {
		if !checked {
			fmt.Fprintf(w, "%-22s breaks %-8s %s\n", r.Name, r.Expected, r.Summary)
			continue
		}
		caught := "NOT CAUGHT"
		if r.Caught {
			caught = "caught"
		}
		detail := r.Statistic
		if r.Checker == "explore" {
			detail = fmt.Sprintf("%d-step counterexample, %d states", r.Steps, r.States)
		}
		fmt.Fprintf(w, "%-22s %-8s %-10s %-22s %s\n", r.Name, r.Expected, caught, r.Checker, detail)
		if r.Caught && r.Checker == "explore" {
			fmt.Fprintf(w, "%22s replay: verishake replay %s\n", "", r.Counterexample)
		}
	}
}
