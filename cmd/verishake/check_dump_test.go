package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// check --dump writes the graph of the states check counts: every state
// once, every transition between two of them, and each state but the
// initial one reached by some transition; DOT and JSON carry the same.
func TestCheckDump(t *testing.T) {
	dir := t.TempDir()
	base := []string{"check", "--profile", "patent", "--losses", "0", "--dups", "0", "--cex", dir, "--json"}
	js, dot := filepath.Join(dir, "g.json"), filepath.Join(dir, "g.dot")
	status, out, errOut := runCLI(append(base, "--dump", js)...)
	require.Equal(t, exitViolation, status, errOut)
	var rep checkReport
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	b, err := os.ReadFile(js)
	require.NoError(t, err)
	var g dumpGraph
	require.NoError(t, json.Unmarshal(b, &g))
	require.Len(t, g.States, int(rep.States), "the graph has check's states")
	reached := make([]bool, len(g.States))
	for i, s := range g.States {
		require.Equal(t, i, s.ID)
	}
	for _, e := range g.Transitions {
		require.True(t, e.From >= 0 && e.From < len(g.States) && e.To >= 0 && e.To < len(g.States), "%+v", e)
		require.NotEmpty(t, e.Step)
		reached[e.To] = true
	}
	for i := 1; i < len(reached); i++ {
		require.True(t, reached[i], "state %d is reached by a transition", i)
	}
	require.Contains(t, errOut, "--dump: 672 states written")

	status, _, errOut = runCLI(append(base, "--dump", dot)...)
	require.Equal(t, exitViolation, status, errOut)
	d, err := os.ReadFile(dot)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(d), "digraph verishake {"))
	require.Equal(t, len(g.Transitions), strings.Count(string(d), " -> "), "DOT has the JSON's transitions")
	nodes := 0
	for _, line := range strings.Split(string(d), "\n") {
		if strings.Contains(line, " [label=") && !strings.Contains(line, " -> ") {
			nodes++
		}
	}
	require.Equal(t, len(g.States), nodes, "and its states")
}

// --dump refuses, with status 2 and one line naming the flag, a file it
// cannot name the format of and bounds over the limit.
func TestCheckDumpRefuses(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--dump", filepath.Join(dir, "g.txt")}, "--dump " + filepath.Join(dir, "g.txt") + ": want a file ending in .dot or .json"},
		{[]string{"--dump", filepath.Join(dir, "g.dot"), "--dump-max", "100"}, "--dump: more than 100 states at these bounds (--dump-max)"},
		{[]string{"--dump", filepath.Join(dir, "g.dot"), "--dump-max", "0"}, "--dump-max 0: want at least 1"},
	} {
		status, out, errOut := runCLI(append([]string{"check", "--profile", "patent", "--losses", "0", "--dups", "0", "--cex", dir}, c.args...)...)
		require.Equal(t, exitUsage, status, errOut)
		require.Empty(t, out)
		require.True(t, strings.HasPrefix(errOut, "verishake check: "+c.want), errOut)
		require.Equal(t, 1, strings.Count(errOut, "\n"), errOut)
	}
	_, err := os.Stat(filepath.Join(dir, "g.dot"))
	require.True(t, os.IsNotExist(err), "a refused dump writes nothing")
}
