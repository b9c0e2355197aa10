package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/verishake/verishake/adversary"
	"github.com/verishake/verishake/protocol"
	"github.com/verishake/verishake/sim"
	"github.com/verishake/verishake/trace"
)

// A counterexample in the web explorer: a trace file as `check --cex`
// writes it (or `sim --trace`), checked by sim.Replay as `replay` checks
// it, then taken again step by step so that the page can show the world
// after any step and what that step changed.

// maxTraceSteps bounds the traces the explorer opens: it takes the steps
// again from the start on every request.
const maxTraceSteps = 20_000

// maxTraceClients bounds the clients of a trace the explorer opens.
const maxTraceClients = 10_000

// maxDiagramRows bounds the rows of a trace's diagram: a window around
// the step shown.
const maxDiagramRows = 400

// traceCex is a trace that replays, ready to be stepped through.
type traceCex struct {
	name    string
	header  trace.Header
	replay  *sim.Replayed
	steps   []sim.Step
	records []trace.Record
	mermaid string
}

// loadTrace checks data as `verishake replay` does and keeps its steps.
// The error names the file and says what is wrong with it.
func loadTrace(name string, data []byte) (*traceCex, error) {
	// The world a trace's header asks for is built before its steps are
	// read: refuse one too large to build for a page.
	first, _, _ := bytes.Cut(data, []byte("\n"))
	var head trace.Header
	if json.Unmarshal(first, &head) == nil && head.Config != nil && (head.Config.Clients > maxTraceClients || head.Config.Handshakes > maxTraceSteps) {
		return nil, fmt.Errorf("%s:1: %d clients, %d handshakes: the explorer opens traces of at most %d clients and %d handshakes",
			name, head.Config.Clients, head.Config.Handshakes, maxTraceClients, maxTraceSteps)
	}
	out, err := sim.Replay(bytes.NewReader(data), name, sim.ReplayOptions{})
	if err != nil {
		return nil, err
	}
	if out.Steps > maxTraceSteps {
		return nil, fmt.Errorf("%s: %d steps: the explorer opens traces of at most %d", name, out.Steps, maxTraceSteps)
	}
	c := &traceCex{name: name, header: out.Header, replay: out}
	if len(out.Violations) > 0 && out.ViolationHS != 0 && out.ViolationHS != out.HS {
		// Draw the handshake the violation is in, as replay advises.
		if again, err := sim.Replay(bytes.NewReader(data), name, sim.ReplayOptions{Handshake: out.ViolationHS}); err == nil {
			out = again
		}
	}
	if out.HS != 0 {
		c.mermaid = sim.Mermaid(out.HS, out.RegID, out.Records, out.Violations...)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for line := 1; sc.Scan(); line++ {
		var head struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal(sc.Bytes(), &head); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, line, err)
		}
		if head.Type != trace.LineStep {
			continue
		}
		var r trace.Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, line, err)
		}
		s, err := sim.ParseStep(&r)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, line, err)
		}
		c.steps = append(c.steps, s)
		c.records = append(c.records, r)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if uint64(len(c.steps)) != c.replay.Steps {
		return nil, fmt.Errorf("%s: %d step lines, replay took %d", name, len(c.steps), c.replay.Steps)
	}
	return c, nil
}

// walkTo takes the trace's first n steps on a fresh world of its header.
// The adversary watching is an explorer adversary with the default
// capabilities: a trace does not record whose, and the steps do not
// depend on it (they name every injection).
func (c *traceCex) walkTo(n int) (*walk, error) {
	if n < 0 || n > len(c.steps) {
		return nil, fmt.Errorf("step %d: the trace has steps 0..%d", n, len(c.steps))
	}
	cfg := c.header.Config
	if cfg == nil {
		return nil, errors.New("the trace's header has no config")
	}
	h, err := c.header.Profile.Compile()
	if err != nil {
		return nil, err
	}
	var tokens protocol.TokenSource = &protocol.SymbolicTokens{}
	if c.header.Tokens == trace.TokensSeeded {
		tokens = protocol.NewSeededTokens(c.header.Seed)
	}
	w, err := sim.NewWorld(h, sim.WorldOptions{Clients: cfg.Clients, Handshakes: cfg.Handshakes, Commands: cfg.Commands, Tokens: tokens,
		Adversary: adversary.NewExplorer(adversary.Default(), cfg.Clients, protocol.RegID(cfg.Clients+1))})
	if err != nil {
		return nil, err
	}
	// AGREE is judged on explorer traces only: on a simulation's, with
	// its thousands of clients, every state's continuation is too slow.
	capped := c.header.Target != nil && c.header.Target.RetriesCapped
	wk := newWalkFrom(w, capped, c.header.Source == trace.SourceExplore)
	for i := range n {
		var r sim.Result
		s := c.steps[i]
		wk.tally.Pre(w, &s)
		if err := w.ApplyInto(&s, &r); err != nil {
			return nil, fmt.Errorf("step %d: %w", i+1, err)
		}
		wk.tally.Post(w, &s, &r)
		wk.record([]sim.Step{s}, []sim.Result{r})
	}
	return wk, nil
}

// cexView is a counterexample at one of its steps.
type cexView struct {
	Name     string            `json:"name"`
	Source   string            `json:"source"`
	Profile  string            `json:"profile"`
	Variant  string            `json:"variant,omitempty"`
	Target   string            `json:"target,omitempty"`
	Total    int               `json:"total"` // steps in the trace
	Step     int               `json:"step"`  // steps taken in State
	Stopped  string            `json:"stopped"`
	Verdicts []trace.Violation `json:"violations"`
	// Mermaid is what `verishake replay` prints for the trace.
	Mermaid string    `json:"mermaid,omitempty"`
	State   stateView `json:"state"`
}

// view shows the trace after n steps, with what step n changed.
func (c *traceCex) view(n int) (cexView, error) {
	cur, err := c.walkTo(n)
	if err != nil {
		return cexView{}, err
	}
	v := cexView{Name: c.name, Source: c.header.Source, Profile: c.header.Profile.Name, Variant: c.header.Variant,
		Total: len(c.steps), Step: n, Stopped: c.replay.Stopped, Verdicts: c.replay.Violations, Mermaid: c.mermaid}
	if t := c.header.Target; t != nil {
		v.Target = t.Property
	}
	label := v.Profile
	if v.Variant != "" {
		label += " + " + v.Variant
	}
	v.State = cur.view(label, false)
	if a := v.State.Adversary; a != nil {
		a.Caps, a.Budget, a.Spent = "default (a trace does not record the adversary's)", 0, 0
		for _, r := range c.records[:n] {
			if r.Step == sim.StepInject.String() || r.Step == sim.StepFlood.String() {
				a.Spent++
			}
		}
		a.Note = "what an adversary with the default capabilities learns from the trace's steps"
	}
	// The whole trace's diagram, with step n highlighted and the trace's
	// violations marked where they happened.
	marks := map[int][]string{}
	for _, x := range c.replay.Violations {
		marks[int(x.Step)] = append(marks[int(x.Step)], x.Property)
	}
	lo, hi := 0, len(c.records)
	if hi > maxDiagramRows {
		// A long simulation trace: the rows around step n.
		lo = max(0, min(n-maxDiagramRows/2, hi-maxDiagramRows))
		hi = lo + maxDiagramRows
	}
	v.State.Diagram = sequenceSVG(c.records[lo:hi], c.header.Config.Clients, [2]int{n, n}, marks)
	v.State.Taken = v.State.Taken[:0]
	for i := range c.records {
		v.State.Taken = append(v.State.Taken, takenView{N: int(c.records[i].N), Kind: c.records[i].Step, Label: recordText(&c.records[i])})
	}
	if n > 0 {
		prev, err := c.walkTo(n - 1)
		if err != nil {
			return cexView{}, err
		}
		v.State.Changes = diff(prev.view(label, false), cur.view(label, false))
	}
	return v, nil
}
