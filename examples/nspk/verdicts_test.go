package nspk_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verishake/verishake/examples/nspk"
)

// threeAndTwo adds a third initiator run (A's second) to twoRunsARole.
var threeAndTwo = nspk.Config{Initiators: []nspk.Agent{nspk.A, nspk.B, nspk.A}, Responders: []nspk.Agent{nspk.B, nspk.A}}

// verdictTable searches both versions at each bound and writes the table
// docs/nspk.md shows: states and transitions are what the complete search
// stored and ran, depth the longest shortest path to a state, and a
// violation's number the length of its shortest counterexample.
func verdictTable(t *testing.T) string {
	var b strings.Builder
	b.WriteString("| protocol | initiator runs | responder runs | states | transitions | depth | " +
		nspk.ResponderAgreement + " | " + nspk.InitiatorAgreement + " | " + nspk.Secrecy + " |\n")
	b.WriteString("|---|---|---|---:|---:|---:|---|---|---|\n")
	for _, fix := range []bool{false, true} {
		for _, cfg := range []nspk.Config{{Initiators: []nspk.Agent{nspk.A}, Responders: []nspk.Agent{nspk.B}}, twoRunsARole, threeAndTwo} {
			cfg.Fixed = fix
			m := newModel(t, cfg)
			r := search(t, m)
			require.True(t, r.Complete)
			version := "original"
			if fix {
				version = "Lowe's fix"
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %d | %d | %d |", version, agentList(cfg.Initiators), agentList(cfg.Responders), r.States, r.Transitions, r.Depth)
			for _, p := range r.Properties {
				v := r.Verdict(p)
				if cex, ok := r.Violated(p); ok {
					v += fmt.Sprintf(" (%d)", cex.Path())
				}
				fmt.Fprintf(&b, " %s |", v)
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}

func agentList(xs []nspk.Agent) string {
	var names []string
	for _, x := range xs {
		names = append(names, x.String())
	}
	return strings.Join(names, ", ")
}

// The verdicts at three bounds, both versions, are the table of
// docs/nspk.md: the original breaks the responder's agreement (and B's
// nonce) in Lowe's four steps at every bound, the initiator's agreement
// holds, and the fix holds everywhere. The test fails when the doc and the
// model part, and prints the table measured.
func TestVerdictTableIsTheDocs(t *testing.T) {
	table := verdictTable(t)
	t.Log("\n" + table)
	doc, err := os.ReadFile("../../docs/nspk.md")
	require.NoError(t, err)
	require.Contains(t, string(doc), table, "docs/nspk.md's verdict table is not the one measured (logged above)")
	for _, line := range strings.Split(strings.TrimSpace(table), "\n")[2:] {
		cells := strings.Split(line, " | ")
		fixed := strings.HasPrefix(line, "| Lowe's fix")
		want := []string{"violated (4)", "holds", "violated (3) |"}
		if fixed {
			want = []string{"holds", "holds", "holds |"}
		}
		require.Equal(t, want, cells[6:], line)
	}
}
