package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// markdownTable returns the rows of the table in doc whose header line
// starts with header, each row's cells trimmed.
func markdownTable(t *testing.T, doc, header string) [][]string {
	t.Helper()
	i := strings.Index(doc, "\n"+header)
	require.GreaterOrEqual(t, i, 0, "no table %q", header)
	var rows [][]string
	for n, l := range strings.Split(doc[i+1:], "\n") {
		if !strings.HasPrefix(l, "|") {
			break
		}
		if n < 2 {
			continue // the header and its rule
		}
		cells := strings.Split(strings.Trim(l, "|"), "|")
		for j := range cells {
			cells[j] = strings.TrimSpace(cells[j])
		}
		rows = append(rows, cells)
	}
	require.NotEmpty(t, rows, header)
	return rows
}

// docSim runs `verishake sim --json` with args and decodes the report.
func docSim(t *testing.T, args ...string) map[string]any {
	t.Helper()
	status, out, errOut := runCLI(append([]string{"sim", "--json"}, args...)...)
	require.NotEqual(t, exitUsage, status, "%v: %s", args, errOut)
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &m))
	return m
}

// docs/simulation.md's two tables of simulated attacks are what the
// simulator prints today: the figures of each strategy against hardened
// (all but wall seconds), and the first property each strategy breaks in
// each variant. About 70 default runs: left out under -short and -race.
func TestDocsSimulationTables(t *testing.T) {
	if testing.Short() || raceDetector {
		// Each simulation is one goroutine: the race detector would only
		// make them ten times slower.
		t.Skip("70 default simulations; run without -short or -race")
	}
	raw, err := os.ReadFile(filepath.Join("..", "..", "docs", "simulation.md"))
	require.NoError(t, err)
	doc := string(raw)

	for _, row := range markdownTable(t, doc, "| `--adversary` | verified |") {
		adv := strings.Trim(row[0], "`")
		m := docSim(t, "--adversary", adv)
		steps := m["step_counts"].(map[string]any)
		got := []string{
			fmt.Sprint(m["verified"]), fmt.Sprint(m["failed"]), spaced(m["steps"]), spaced(steps["inject"]),
			fmt.Sprint(m["max_half_open"]), spaced(m["forge_guesses"]) + " / " + fmt.Sprint(m["forge_accepted"]),
			fmt.Sprintf("%.1f", m["virtual_seconds"]),
		}
		require.Equal(t, row[1:8], got, "docs/simulation.md, attacks on hardened, --adversary %s", adv)
	}

	strategies := []string{"none", "replay", "forge", "impersonate", "flood", "all"}
	for _, row := range markdownTable(t, doc, "| variant | none | replay |") {
		var base []string
		switch v := row[0]; v {
		case "(hardened)":
		case "`--profile patent`":
			base = []string{"--profile", "patent"}
		default:
			base = []string{"--variant", v}
		}
		for i, adv := range strategies {
			m := docSim(t, append(base, "--adversary", adv)...)
			got := "ok"
			if viols := m["violations"].([]any); len(viols) > 0 {
				got = viols[0].(map[string]any)["property"].(string)
			}
			require.Equal(t, row[i+1], got, "docs/simulation.md, what each strategy catches: %s under --adversary %s", row[0], adv)
		}
	}
}

// spaced writes a count as the docs do: thousands apart by a space.
func spaced(v any) string {
	s := fmt.Sprint(v)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + " " + s[i:]
	}
	return s
}
