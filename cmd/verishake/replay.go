package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/verishake/verishake/sim"
)

func init() {
	register(command{
		name:    "replay",
		usage:   "[--handshake N] FILE",
		summary: "re-run a trace or counterexample, check it reproduces, print a Mermaid sequence diagram of one handshake",
		run:     runReplay,
	})
}

func runReplay(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("replay", stderr)
	hs := fs.Uint64("handshake", 0, "handshake to draw, by `number` (default: the one the violation happened in, else the first)")
	if status, ok := parseFlags(fs, args, 1, stderr); !ok {
		return status
	}
	if fs.NArg() != 1 {
		return usagef(stderr, "replay", "want one trace FILE")
	}
	name := fs.Arg(0)
	f, err := os.Open(name)
	if err != nil {
		return usagef(stderr, "replay", "%v", err)
	}
	defer f.Close()
	out, err := sim.Replay(f, name, sim.ReplayOptions{Handshake: *hs})
	if err == nil && *hs == 0 && out.ViolationHS != 0 && out.ViolationHS != out.HS {
		// Draw the handshake the violation happened in: replay again,
		// keeping its records.
		if _, err = f.Seek(0, io.SeekStart); err == nil {
			out, err = sim.Replay(f, name, sim.ReplayOptions{Handshake: out.ViolationHS})
		}
	}
	switch {
	case errors.Is(err, sim.ErrDiverged):
		fmt.Fprintf(stderr, "verishake replay: %v\n", err)
		return exitViolation
	case err != nil:
		return usagef(stderr, "replay", "%v", err)
	}
	if out.HS != 0 {
		fmt.Fprint(stdout, sim.Mermaid(out.HS, out.RegID, out.Records, out.Violations...))
	}
	fmt.Fprintf(stderr, "verishake replay: %s: %d steps reproduce (profile %s, seed %d, stopped: %s)\n",
		name, out.Steps, out.Header.Profile.Name, out.Header.Seed, out.Stopped)
	if out.HS == 0 {
		fmt.Fprintf(stderr, "verishake replay: %s starts no handshake: no diagram\n", name)
	}
	if len(out.Violations) == 0 {
		fmt.Fprintf(stderr, "verishake replay: no property violated\n")
		return exitOK
	}
	for i, v := range out.Violations {
		what := "reproduced"
		if out.Header.Target != nil && i > 0 {
			what = "also violated on the way"
		}
		fmt.Fprintf(stderr, "verishake replay: %s: %s violated at step %d (t=%v): %s\n", what, v.Property, v.Step, time.Duration(v.T), v.Reason)
	}
	switch {
	case out.ViolationHS != 0 && out.ViolationHS == out.HS:
		fmt.Fprintf(stderr, "verishake replay: the diagram is of handshake %d, where the violation happened\n", out.HS)
	case out.ViolationHS != 0:
		fmt.Fprintf(stderr, "verishake replay: the violation is in handshake %d: draw it with --handshake %d\n", out.ViolationHS, out.ViolationHS)
	}
	return exitViolation
}
