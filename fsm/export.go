package fsm

import (
	"fmt"
	"strings"
)

// ExportOptions controls [Machine.DOT] and [Machine.Mermaid].
type ExportOptions[S comparable] struct {
	// Current, if set to a declared state, marks that state (DOT: filled and
	// bold; Mermaid: class "current"). An undeclared state marks nothing.
	Current *S
}

func (m *Machine[S, E]) current(opt ExportOptions[S]) int32 {
	if opt.Current == nil {
		return -1
	}
	return m.sIdx.find(*opt.Current)
}

// freshID returns base prefixed with underscores until it differs from every
// state name, so a synthetic node never merges with a real state.
func (m *Machine[S, E]) freshID(base string) string {
	for {
		clash := false
		for _, n := range m.sNames {
			clash = clash || n == base
		}
		if !clash {
			return base
		}
		base = "_" + base
	}
}

// DOT returns the machine as a Graphviz digraph. The output depends only on
// the spec and opt: nodes in States order, edges in Transitions order.
func (m *Machine[S, E]) DOT(opt ExportOptions[S]) string {
	cur := m.current(opt)
	start := dotQuote(m.freshID("_start"))
	var b strings.Builder
	fmt.Fprintf(&b, "digraph %s {\n", dotQuote(m.spec.Name))
	b.WriteString("\trankdir=LR;\n")
	b.WriteString("\tnode [shape=ellipse];\n")
	fmt.Fprintf(&b, "\t%s [shape=point];\n", start)
	fmt.Fprintf(&b, "\t%s -> %s;\n", start, dotQuote(name(m.spec.Initial)))
	for i, n := range m.sNames {
		var attrs []string
		if m.term[i] {
			attrs = append(attrs, "shape=doublecircle")
		}
		if int32(i) == cur {
			attrs = append(attrs, `style="filled,bold"`, `fillcolor="lightblue"`)
		}
		if len(attrs) == 0 {
			fmt.Fprintf(&b, "\t%s;\n", dotQuote(n))
		} else {
			fmt.Fprintf(&b, "\t%s [%s];\n", dotQuote(n), strings.Join(attrs, ", "))
		}
	}
	for _, t := range m.spec.Transitions {
		fmt.Fprintf(&b, "\t%s -> %s [label=%s];\n", dotQuote(name(t.From)), dotQuote(name(t.To)), dotQuote(name(t.Event)))
	}
	b.WriteString("}\n")
	return b.String()
}

// dotQuote makes a DOT quoted string; inside one only backslash and double
// quote need escaping, and a newline is written as the \n label escape.
func dotQuote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s) + `"`
}

// Mermaid returns the machine as a Mermaid stateDiagram-v2. The output
// depends only on the spec and opt: "[*] --> Initial" first, then
// transitions in Transitions order, then "T --> [*]" for each terminal state
// in Terminal order. States whose names are not plain identifiers (or are
// Mermaid keywords) are declared under a synthetic id with their name as
// the label.
func (m *Machine[S, E]) Mermaid(opt ExportOptions[S]) string {
	ids := make([]string, len(m.sNames))
	var b strings.Builder
	b.WriteString("stateDiagram-v2\n")
	for i, n := range m.sNames {
		if mermaidIdent(n) {
			ids[i] = n
			continue
		}
		ids[i] = m.freshID(fmt.Sprintf("state_%d", i))
		fmt.Fprintf(&b, "    state \"%s\" as %s\n", mermaidText(n), ids[i])
	}
	id := func(s S) string { return ids[m.sIdx.find(s)] }
	fmt.Fprintf(&b, "    [*] --> %s\n", id(m.spec.Initial))
	for _, t := range m.spec.Transitions {
		fmt.Fprintf(&b, "    %s --> %s: %s\n", id(t.From), id(t.To), mermaidText(name(t.Event)))
	}
	for _, s := range m.spec.Terminal {
		fmt.Fprintf(&b, "    %s --> [*]\n", id(s))
	}
	if cur := m.current(opt); cur >= 0 {
		b.WriteString("    classDef current font-weight:bold,stroke-width:3px,fill:#bde0fe\n")
		fmt.Fprintf(&b, "    class %s current\n", ids[cur])
	}
	return b.String()
}

var mermaidKeywords = map[string]bool{
	"state": true, "note": true, "end": true, "direction": true, "class": true,
	"classDef": true, "style": true, "click": true, "as": true, "left": true,
	"right": true, "of": true, "stateDiagram": true, "stateDiagram-v2": true,
}

func mermaidIdent(s string) bool {
	if s == "" || mermaidKeywords[s] {
		return false
	}
	for i, r := range s {
		letter := r == '_' || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z')
		if !letter && (i == 0 || r < '0' || r > '9') {
			return false
		}
	}
	return true
}

// mermaidText escapes the characters that end or break a Mermaid label,
// using Mermaid's #code; entity syntax. The replacer works in one pass, so
// the '#' of an inserted code is not escaped again.
func mermaidText(s string) string {
	return strings.NewReplacer("#", "#35;", ";", "#59;", `"`, "#quot;", "\n", "#10;", "\r", "#13;").Replace(s)
}
