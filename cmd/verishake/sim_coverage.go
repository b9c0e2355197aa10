package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/verishake/verishake/protocol"
	"github.com/verishake/verishake/sim"
	"github.com/verishake/verishake/sim/coverage"
	"github.com/verishake/verishake/trace"
)

// `sim --coverage`: the table rows a simulation took. The runner does not
// show its steps, but its trace names every one: the trace is read as it
// is written and each step taken again on a world of its own (as replay
// takes it), with a coverage.Tally around it.

// simCoverage is the "coverage" object of `sim --coverage --json`.
type simCoverage struct {
	// States counts the distinct worlds the run went through, by their
	// plain fingerprint: a simulation's clock and many clients make
	// nearly every state new (check --coverage compares random walks
	// with the exhaustive count at the same bounds).
	States uint64          `json:"states"`
	Rows   coverage.Report `json:"rows"`
}

// coverageWriter takes the steps of the JSON Lines trace written to it.
type coverageWriter struct {
	buf   []byte
	w     *sim.World
	tally *coverage.Tally
	seen  map[uint64]struct{}
	n     int
	res   sim.Result
}

func newCoverageWriter() *coverageWriter { return &coverageWriter{seen: map[uint64]struct{}{}} }

// Write takes each whole line written so far.
func (c *coverageWriter) Write(p []byte) (int, error) {
	c.buf = append(c.buf, p...)
	for {
		i := bytes.IndexByte(c.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := c.buf[:i]
		c.n++
		if err := c.line(line); err != nil {
			return 0, fmt.Errorf("--coverage: trace line %d: %w", c.n, err)
		}
		c.buf = c.buf[i+1:]
	}
}

func (c *coverageWriter) line(b []byte) error {
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return err
	}
	switch head.Type {
	case trace.LineHeader:
		var h trace.Header
		if err := json.Unmarshal(b, &h); err != nil {
			return err
		}
		if h.Config == nil {
			return fmt.Errorf("the header has no config")
		}
		hs, err := h.Profile.Compile()
		if err != nil {
			return err
		}
		var tokens protocol.TokenSource = &protocol.SymbolicTokens{}
		if h.Tokens == trace.TokensSeeded {
			tokens = protocol.NewSeededTokens(h.Seed)
		}
		if c.w, err = sim.NewWorld(hs, sim.WorldOptions{Clients: h.Config.Clients, Handshakes: h.Config.Handshakes, Commands: h.Config.Commands, Tokens: tokens}); err != nil {
			return err
		}
		c.tally = coverage.New(hs)
		c.seen[c.w.Fingerprint()] = struct{}{}
	case trace.LineStep:
		if c.w == nil {
			return fmt.Errorf("a step before the header")
		}
		var r trace.Record
		if err := json.Unmarshal(b, &r); err != nil {
			return err
		}
		s, err := sim.ParseStep(&r)
		if err != nil {
			return err
		}
		c.tally.Pre(c.w, &s)
		if err := c.w.ApplyInto(&s, &c.res); err != nil {
			return fmt.Errorf("step %d: %w", r.N, err)
		}
		c.tally.Post(c.w, &s, &c.res)
		c.seen[c.w.Fingerprint()] = struct{}{}
	}
	return nil
}

// report is what the run covered.
func (c *coverageWriter) report() *simCoverage {
	if c.tally == nil {
		return &simCoverage{}
	}
	return &simCoverage{States: uint64(len(c.seen)), Rows: c.tally.Report()}
}

// teeTrace sends the run's trace to the coverage writer as well.
func teeTrace(trace io.Writer, c *coverageWriter) io.Writer {
	if trace == nil {
		return c
	}
	return io.MultiWriter(trace, c)
}

func printSimCoverage(w io.Writer, c *simCoverage) {
	fmt.Fprintf(w, "coverage: %d distinct states (plain fingerprints)\n", c.States)
	printRows(w, c.Rows, true)
}
