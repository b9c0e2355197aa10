package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/verishake/verishake/adversary"
	"github.com/verishake/verishake/protocol"
	"github.com/verishake/verishake/sim"
)

func init() {
	register(command{
		name:    "variants",
		usage:   "[--check] [--json] [--junit FILE] [--cex DIR]",
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
	// Properties holds, with --check, the verdict on the property the
	// variant breaks, with its counterexample when caught.
	Properties []propertyResult `json:"properties,omitempty"`
	// Statistic is what a simulation measured (FORGE, BOUNDED).
	Statistic string `json:"statistic,omitempty"`
	States    uint64 `json:"states,omitempty"`
	// Seconds is the check's wall time.
	Seconds float64 `json:"seconds,omitempty"`
}

// counterexample is the caught property's counterexample, or nil.
func (r variantResult) counterexample() *counterexample {
	if len(r.Properties) == 0 {
		return nil
	}
	return r.Properties[0].Counterexample
}

// checkVariant runs the checker the variant's property needs on hardened
// changed by v: the explorer, stopped at the first counterexample, for
// AUTH-C, AUTH-S, CMD, LIVE and AGREE; a simulation under the forge or
// flood adversary for FORGE and BOUNDED, which are statistics of many
// handshakes.
func checkVariant(v protocol.Variant, cexDir string) (variantResult, error) {
	start := time.Now()
	res, err := checkVariantBy(v, cexDir)
	res.Seconds = time.Since(start).Seconds()
	return res, err
}

func checkVariantBy(v protocol.Variant, cexDir string) (variantResult, error) {
	p := v.Of(protocol.Hardened())
	res := variantResult{Name: v.Name, Summary: v.Summary, Expected: v.Breaks}
	verdict := propertyResult{ID: v.Breaks}
	verdict.Set(verdictUnknown)
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
		verdict.By = res.Checker
		for _, viol := range rep.Violations {
			if viol.Property == v.Breaks {
				res.Caught = true
				verdict.Set(verdictViolated)
				verdict.Reason = viol.Reason
				verdict.Counterexample = &counterexample{Steps: int(viol.Step), Property: viol.Property, Replay: rep.Replay}
			}
		}
		res.Properties = []propertyResult{verdict}
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
	res.Properties = []propertyResult{verdict}
	for _, r := range cr.Properties {
		if r.ID == v.Breaks {
			res.Caught = r.Verdict == verdictViolated
			res.Properties[0] = r
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
	cex := fs.String("cex", defaultCexDir, cexUsage)
	junit := fs.String("junit", "", "with --check, write JUnit XML, one test case per variant, to `FILE`")
	if status, ok := parseFlags(fs, args, 0, stderr); !ok {
		return status
	}
	if *junit != "" && !*check {
		return usagef(stderr, "variants", "--junit needs --check: without it nothing is tested")
	}
	if err := probeWritable(*junit); err != nil {
		return usagef(stderr, "variants", "--junit: %v", err)
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
	if *junit != "" {
		if err := writeJUnit(*junit, variantSuites(rows)); err != nil {
			fmt.Fprintf(stderr, "verishake variants: --junit: %v\n", err)
			return exitUsage
		}
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
		c := r.counterexample()
		if r.Checker == "explore" && c != nil {
			detail = fmt.Sprintf("%d-step counterexample, %d states", c.Steps, r.States)
		}
		fmt.Fprintf(w, "%-22s %-8s %-10s %-22s %s\n", r.Name, r.Expected, caught, r.Checker, detail)
		if r.Caught && c != nil && c.File != "" {
			fmt.Fprintf(w, "%22s replay: %s\n", "", c.Replay)
		}
	}
}
