package nspk

import (
	"fmt"
	"strings"
)

// Action is one step of an honest agent: it starts an initiator run, or it
// receives a message the intruder built and, if the protocol says so,
// answers in the same step. The intruder acts only through what it lets the
// agents receive; sending to it needs no step of its own, since everything
// sent is at once in its knowledge.
type Action struct {
	// Agent is the honest agent who acts, in its run Run (an index into
	// the model's runs, initiators first).
	Agent Agent
	Run   uint8
	// Got is the message received (Kind 0 when the agent starts a run),
	// and From the agent the intruder passes itself off as (I when it
	// speaks as itself).
	Got  Msg
	From Agent
	// Sent is the agent's answer (Kind 0: none), meant for To; the
	// intruder intercepts it.
	Sent Msg
	To   Agent
}

// Lines narrates the action as Lowe's paper does, one message a line: the
// message received, then the one sent. "I(A)" is the intruder posing as A,
// or intercepting what was meant for A.
func (a Action) Lines() []string {
	var lines []string
	if a.Got.Kind != 0 {
		lines = append(lines, posing(a.From)+" -> "+a.Agent.String()+" : "+a.Got.String())
	}
	if a.Sent.Kind != 0 {
		lines = append(lines, a.Agent.String()+" -> "+posing(a.To)+" : "+a.Sent.String())
	}
	return lines
}

// String is the action's Lines joined by "; ".
func (a Action) String() string { return strings.Join(a.Lines(), "; ") }

func posing(x Agent) string {
	if x == I {
		return "I"
	}
	return "I(" + x.String() + ")"
}

// Narrate is the run of actions as Lowe's paper narrates an attack, one
// message a line.
func Narrate(actions []Action) []string {
	var lines []string
	for _, a := range actions {
		lines = append(lines, a.Lines()...)
	}
	return lines
}

// Diagram draws the run of actions as a sequence diagram: the lifelines of
// A, the intruder and B, one arrow a message, each followed by Lowe's line
// for it.
func Diagram(actions []Action) string {
	type arrow struct {
		from, to int // columns: 0 A, 1 I, 2 B
		label    string
		line     string
	}
	column := map[Agent]int{A: 0, I: 1, B: 2}
	var arrows []arrow
	width := 0
	for _, a := range actions {
		lines := a.Lines()
		if a.Got.Kind != 0 {
			arrows = append(arrows, arrow{1, column[a.Agent], a.Got.String(), lines[0]})
			lines = lines[1:]
		}
		if a.Sent.Kind != 0 {
			arrows = append(arrows, arrow{column[a.Agent], 1, a.Sent.String(), lines[0]})
		}
	}
	for _, ar := range arrows {
		width = max(width, len(ar.label)+8)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-*s%-*s%s\n", width+1, "A", width+1, "I", "B")
	for _, ar := range arrows {
		cells := [2]string{strings.Repeat(" ", width), strings.Repeat(" ", width)}
		cell := min(ar.from, ar.to)
		shaft := "----" + ar.label + strings.Repeat("-", width-4-len(ar.label))
		if ar.from < ar.to {
			cells[cell] = shaft[:width-1] + ">"
		} else {
			cells[cell] = "<" + shaft[1:]
		}
		fmt.Fprintf(&b, "|%s|%s|   %s\n", cells[0], cells[1], ar.line)
	}
	return b.String()
}
