package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/verishake/verishake/sim"
	"github.com/verishake/verishake/sim/explore"
)

// `check --dump FILE.dot|FILE.json`, as TLC's -dump: the state graph of
// small bounds, every state and every transition check's search takes
// (explore.Walk), in Graphviz or JSON. A graph is wanted whole or not at
// all, so bounds with more states than --dump-max are refused.

// dumpState is a state of the graph: what the page and the diagram of a
// state show, in short.
type dumpState struct {
	ID       int      `json:"id"`
	Clients  []string `json:"clients"`   // "1:AwaitValidation"
	Slots    []string `json:"slots"`     // "1:AwaitConfirm1"
	InFlight []string `json:"in_flight"` // message kinds
	Label    string   `json:"label"`
}

type dumpEdge struct {
	From  int    `json:"from"`
	To    int    `json:"to"`
	Step  string `json:"step"`
	Steps int    `json:"steps"` // 2 for an injection and its delivery
}

// dumpGraph is the JSON form.
type dumpGraph struct {
	Profile     string      `json:"profile"`
	Variant     string      `json:"variant,omitempty"`
	Bounds      bounds      `json:"bounds"`
	Adversary   string      `json:"adversary"`
	Initial     int         `json:"initial"`
	States      []dumpState `json:"states"`
	Transitions []dumpEdge  `json:"transitions"`
}

// dumpFormat checks the file name: the format is its extension.
func dumpFormat(path string) (string, error) {
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".dot", ".json":
		return ext[1:], nil
	default:
		return "", fmt.Errorf("--dump %s: want a file ending in .dot or .json", path)
	}
}

// dump walks the job's state space, at most max states, and writes its
// graph to path. errTooBig wraps the refusal of a larger space.
func (j checkJob) dump(ctx context.Context, path string, max int) (int, error) {
	format, err := dumpFormat(path)
	if err != nil {
		return 0, err
	}
	m, err := newWebModel(j)
	if err != nil {
		return 0, err
	}
	g := dumpGraph{Profile: j.profile.Name, Variant: j.variant, Bounds: j.b, Adversary: "none", States: []dumpState{}, Transitions: []dumpEdge{}}
	if m.withAdv {
		g.Adversary = j.caps.String()
	}
	label := ""
	cfg := m.config()
	cfg.MaxStates = max
	_, err = explore.Walk(ctx, cfg, explore.Hooks{
		Pre: func(w *sim.World, s *sim.Step) {
			if label == "" {
				label = edgeLabel(w, s)
			}
		},
		State: func(id int, w *sim.World) { g.States = append(g.States, stateOf(id, w)) },
		Edge: func(from, to int, steps []sim.Step, _ bool) {
			g.Transitions = append(g.Transitions, dumpEdge{From: from, To: to, Step: label, Steps: len(steps)})
			label = ""
		},
	})
	if errors.Is(err, explore.ErrStateLimit) {
		return 0, fmt.Errorf("--dump: more than %d states at these bounds (--dump-max): %w; try smaller ones, e.g. --losses 0 --dups 0", max, errTooBig)
	}
	if err != nil {
		return 0, fmt.Errorf("--dump: %w", err)
	}
	var out []byte
	if format == "json" {
		if out, err = json.MarshalIndent(g, "", " "); err != nil {
			return 0, err
		}
		out = append(out, '\n')
	} else {
		out = []byte(g.dot())
	}
	if err := os.WriteFile(path, out, 0o644); err != nil {
		return 0, fmt.Errorf("--dump: %w", err)
	}
	return len(g.States), nil
}

// errTooBig marks bounds whose state graph is over the --dump-max limit.
var errTooBig = errors.New("too many to dump")

func stateOf(id int, w *sim.World) dumpState {
	st := dumpState{ID: id, Clients: []string{}, Slots: []string{}, InFlight: []string{}}
	for i := range w.Clients {
		st.Clients = append(st.Clients, fmt.Sprintf("%d:%v", i+1, w.Clients[i].State))
	}
	for _, sl := range w.Server.Slots() {
		st.Slots = append(st.Slots, fmt.Sprintf("%d:%v", sl.RegID, sl.State))
	}
	for i := range int32(w.Slots()) {
		if m := w.Message(i); m != nil {
			st.InFlight = append(st.InFlight, m.Kind.String())
		}
	}
	parts := []string{"C " + strings.Join(st.Clients, " ")}
	if len(st.Slots) > 0 {
		parts = append(parts, "S "+strings.Join(st.Slots, " "))
	}
	if len(st.InFlight) > 0 {
		parts = append(parts, "net "+strings.Join(st.InFlight, " "))
	}
	st.Label = strings.Join(parts, "\n")
	return st
}

// edgeLabel names a transition by its first step: its kind and the
// message it acts on or sends.
func edgeLabel(w *sim.World, s *sim.Step) string {
	switch s.Kind {
	case sim.StepDeliver, sim.StepDrop, sim.StepDup, sim.StepCorrupt:
		if m := w.Message(s.Slot); m != nil {
			return fmt.Sprintf("%v %v", s.Kind, m.Kind)
		}
	case sim.StepInject, sim.StepInsider:
		return fmt.Sprintf("%v %v", s.Kind, s.Msg.Kind)
	case sim.StepStart, sim.StepClientTimer:
		return fmt.Sprintf("%v %d", s.Kind, s.Client+1)
	}
	return s.Kind.String()
}

// dot renders the graph for Graphviz.
func (g dumpGraph) dot() string {
	var b strings.Builder
	name := g.Profile
	if g.Variant != "" {
		name += " + " + g.Variant
	}
	fmt.Fprintf(&b, "digraph verishake {\n  label=%q;\n  node [shape=box, fontname=\"monospace\", fontsize=9];\n  edge [fontname=\"monospace\", fontsize=8];\n", "check "+name+": "+fmt.Sprint(len(g.States))+" states")
	for _, s := range g.States {
		extra := ""
		if s.ID == g.Initial {
			extra = ", style=bold"
		}
		fmt.Fprintf(&b, "  s%d [label=%q%s];\n", s.ID, s.Label, extra)
	}
	for _, e := range g.Transitions {
		fmt.Fprintf(&b, "  s%d -> s%d [label=%q];\n", e.From, e.To, e.Step)
	}
	b.WriteString("}\n")
	return b.String()
}
