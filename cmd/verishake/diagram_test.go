package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func runCLI(args ...string) (status int, stdout, stderr string) {
	var out, errb bytes.Buffer
	status = run(args, &out, &errb)
	return status, out.String(), errb.String()
}

func TestDiagramMermaid(t *testing.T) {
	status, out, _ := runCLI("diagram", "--machine", "client", "--format", "mermaid")
	require.Equal(t, exitOK, status)
	require.True(t, strings.HasPrefix(out, "stateDiagram"), out)
	require.Contains(t, out, "AwaitValidation --> AwaitConfirm2: Validation")
}

func TestDiagramDOT(t *testing.T) {
	status, out, _ := runCLI("diagram", "--machine", "server", "--format", "dot", "--profile", "patent")
	require.Equal(t, exitOK, status)
	require.True(t, strings.HasPrefix(out, "digraph"), out)
	require.NotContains(t, out, "Rekeying", "the patent server has no re-keying state")
}

func TestDiagramBadUsage(t *testing.T) {
	for _, args := range [][]string{
		{"diagram", "--machine", "router"},
		{"diagram", "--format", "svg"},
		{"diagram", "--profile", "weak"},
		{"diagram", "--nope"},
		{"diagram", "extra"},
		{"no-such-command"},
	} {
		status, out, errOut := runCLI(args...)
		require.Equal(t, exitUsage, status, "%v", args)
		require.Empty(t, out, "%v", args)
		require.Equal(t, 1, strings.Count(errOut, "\n"), "one line of reason for %v: %q", args, errOut)
	}
	_, _, errOut := runCLI("diagram", "--machine", "router")
	require.Contains(t, errOut, "--machine")
}
