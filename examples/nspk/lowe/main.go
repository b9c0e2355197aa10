// Command lowe checks the Needham–Schroeder public-key protocol with the
// engine and draws each shortest counterexample as a sequence diagram; by
// default, Lowe's attack on the original protocol:
//
//	go run ./examples/nspk/lowe
//	go run ./examples/nspk/lowe -fixed -initiators A,B -responders B,A
//
// It exits 0 when every property holds, 1 when one is violated, 2 on bad
// usage.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/verishake/verishake/engine"
	"github.com/verishake/verishake/examples/nspk"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("lowe", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fixed := fs.Bool("fixed", false, "check Lowe's fix ({Na, Nb, B}pk(A) in message 2) instead of the original")
	inits := fs.String("initiators", "A", "comma-separated honest agent (A or B) of each initiator run")
	resps := fs.String("responders", "B", "comma-separated honest agent (A or B) of each responder run")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: lowe [-fixed] [-initiators A,...] [-responders B,...]")
		fmt.Fprintln(stderr, "Checks Needham–Schroeder public key within the runs given and draws each shortest counterexample.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "lowe: unexpected argument %q (the bounds are flags: -initiators, -responders)\n", fs.Arg(0))
		return 2
	}
	cfg := nspk.Config{Fixed: *fixed}
	var err error
	if cfg.Initiators, err = agentList("-initiators", *inits); err == nil {
		cfg.Responders, err = agentList("-responders", *resps)
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	if len(cfg.Initiators)+len(cfg.Responders) == 0 {
		fmt.Fprintln(stderr, "lowe: -initiators and -responders are both empty, want at least one run")
		return 2
	}
	m, err := nspk.New(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "lowe: %v\n", err)
		return 2
	}
	r, err := engine.Search(context.Background(), m, engine.Config{})
	if err != nil {
		fmt.Fprintf(stderr, "lowe: %v\n", err)
		return 1
	}
	version := "original"
	if cfg.Fixed {
		version = "Lowe's fix"
	}
	fmt.Fprintf(stdout, "Needham–Schroeder public key (%s), initiator runs %s, responder runs %s: %d states, %d transitions, depth %d, complete %v\n",
		version, *inits, *resps, r.States, r.Transitions, r.Depth, r.Complete)
	status := 0
	for _, p := range r.Properties {
		cex, ok := r.Violated(p)
		if !ok {
			fmt.Fprintf(stdout, "%s %s\n", p, r.Verdict(p))
			continue
		}
		status = 1
		fmt.Fprintf(stdout, "\n%s violated in %d steps: %s\n\n%s\n", p, cex.Path(), cex.Reason, nspk.Diagram(cex.Actions))
	}
	return status
}

// agentList reads a flag's comma-separated agent names.
func agentList(flagName, value string) ([]nspk.Agent, error) {
	var xs []nspk.Agent
	if strings.TrimSpace(value) == "" {
		return nil, nil
	}
	for _, name := range strings.Split(value, ",") {
		switch strings.TrimSpace(name) {
		case "A":
			xs = append(xs, nspk.A)
		case "B":
			xs = append(xs, nspk.B)
		default:
			return nil, fmt.Errorf("lowe: %s: %q is no honest agent, want A or B (the intruder I plays through the network)", flagName, name)
		}
	}
	return xs, nil
}
