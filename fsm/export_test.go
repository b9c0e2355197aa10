package fsm_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/verishake/verishake/fsm"
)

func TestMermaid(t *testing.T) {
	m := fsm.MustCompile(handshakeSpec())
	cur := AwaitConfirm2
	got := m.Mermaid(fsm.ExportOptions[hsState]{Current: &cur})
	assert.Equal(t, got, m.Mermaid(fsm.ExportOptions[hsState]{Current: &cur}), "deterministic")
	assert.True(t, strings.HasPrefix(got, "stateDiagram-v2\n    [*] --> Idle\n"), got)
	lines := strings.Split(got, "\n")
	for _, want := range []string{
		"    Idle --> AwaitValidation: Start",
		"    AwaitValidation --> AwaitValidation: Retry",
		"    AwaitConfirm2 --> Verified: Confirm2",
		"    Verified --> [*]",
		"    Failed --> [*]",
		"    class AwaitConfirm2 current",
	} {
		assert.Contains(t, lines, want)
	}
	assert.Less(t, strings.Index(got, "Verified --> [*]"), strings.Index(got, "Failed --> [*]"), "Terminal order")

	plain := m.Mermaid(fsm.ExportOptions[hsState]{})
	assert.NotContains(t, plain, "current")
	bogus := hsState(77)
	assert.Equal(t, plain, m.Mermaid(fsm.ExportOptions[hsState]{Current: &bogus}), "an undeclared current state marks nothing")
}

func TestMermaidAwkwardNames(t *testing.T) {
	m := fsm.MustCompile(fsm.Spec[string, string]{
		Name: "awkward", Initial: "waiting room", States: []string{"waiting room", "end", "state_1", "ok"},
		Events: []string{"go; now", `say "hi"`, "x"}, Terminal: []string{"ok"},
		Transitions: []fsm.Transition[string, string]{
			{"waiting room", "go; now", "end"}, {"end", `say "hi"`, "state_1"}, {"state_1", "x", "ok"},
		},
	})
	cur := "end"
	got := m.Mermaid(fsm.ExportOptions[string]{Current: &cur})
	lines := strings.Split(got, "\n")
	for _, want := range []string{
		`    state "waiting room" as state_0`,
		`    state "end" as _state_1`, // "state_1" is taken by a real state
		"    [*] --> state_0",
		"    state_0 --> _state_1: go#59; now",
		"    _state_1 --> state_1: say #quot;hi#quot;",
		"    ok --> [*]",
		"    class _state_1 current",
	} {
		assert.Contains(t, lines, want, got)
	}
}

func TestDOT(t *testing.T) {
	m := fsm.MustCompile(handshakeSpec())
	cur := Verified
	got := m.DOT(fsm.ExportOptions[hsState]{Current: &cur})
	assert.Equal(t, got, m.DOT(fsm.ExportOptions[hsState]{Current: &cur}))
	assert.True(t, strings.HasPrefix(got, "digraph \"client\" {\n"), got)
	assert.True(t, strings.HasSuffix(got, "}\n"))
	lines := strings.Split(got, "\n")
	for _, want := range []string{
		`	"_start" [shape=point];`,
		`	"_start" -> "Idle";`,
		`	"Idle";`,
		`	"Verified" [shape=doublecircle, style="filled,bold", fillcolor="lightblue"];`,
		`	"Failed" [shape=doublecircle];`,
		`	"AwaitValidation" -> "AwaitConfirm2" [label="Validation"];`,
	} {
		assert.Contains(t, lines, want)
	}
	assert.NotContains(t, m.DOT(fsm.ExportOptions[hsState]{}), "filled")

	q := fsm.MustCompile(fsm.Spec[string, string]{
		Name: `a "b"`, Initial: "_start", States: []string{"_start", `back\slash`}, Events: []string{"e"},
		Terminal: []string{`back\slash`}, Transitions: []fsm.Transition[string, string]{{"_start", "e", `back\slash`}},
	})
	dot := q.DOT(fsm.ExportOptions[string]{})
	assert.Contains(t, dot, `digraph "a \"b\"" {`)
	assert.Contains(t, dot, `	"__start" -> "_start";`, "the start marker avoids a state's name")
	assert.Contains(t, dot, `	"_start" -> "back\\slash" [label="e"];`)
}
