package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verishake/verishake/dist/beam/internal/isolated"
	"github.com/verishake/verishake/dist/beam/models"
	"github.com/verishake/verishake/sim"
	"github.com/verishake/verishake/sim/explore"
)

func runArgs(args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	status := run(args, &stdout, &stderr)
	return status, stdout.String(), stderr.String()
}

// Bad flags exit 2 with one line that names the flag, before any search.
func TestCheckBadFlagsNameTheFlag(t *testing.T) {
	for _, c := range []struct {
		args []string
		flag string
	}{
		{[]string{"--partitions", "0"}, "--partitions"},
		{[]string{"--runner", "flink"}, "--runner"},
		{[]string{"--runner", "universal"}, "--endpoint"},
		{[]string{"--runner", "universal", "--endpoint", "localhost"}, "--endpoint"},
		{[]string{"--endpoint", "127.0.0.1:8073"}, "--endpoint"},
		{[]string{"--clients", "0"}, "--clients"},
		{[]string{"--profile", "nonesuch"}, "--profile"},
		{[]string{"--adversary", "telepathy"}, "--adversary"},
		{[]string{"--max-states", "-1"}, "--max-states"},
		{[]string{"--runner", "dataflow", "--work", "/tmp/w"}, "--work"},
		{[]string{"--bogus"}, "--bogus"},
	} {
		status, _, stderr := runArgs(append([]string{"check"}, c.args...)...)
		require.Equal(t, exitUsage, status, "%v", c.args)
		require.Equal(t, 1, strings.Count(stderr, "\n"), "%v: %q", c.args, stderr)
		require.Contains(t, stderr, c.flag, "%v", c.args)
	}
	status, _, _ := runArgs("deploy")
	require.Equal(t, exitUsage, status)
}

// The patent's profile at the default bounds, on Prism: the verdicts,
// reasons and counterexample lengths of the single-process explorer
// (what verishake check runs), exit status 1, and traces that replay to
// their property.
func TestCheckPatentIsExplorersReport(t *testing.T) {
	isolated.Require(t)
	dir := t.TempDir()
	status, stdout, stderr := runArgs("check", "--profile", "patent", "--json", "--partitions", "3", "--cex", dir, "--work", t.TempDir())
	require.Equal(t, exitViolation, status, stderr)
	var got checkReport
	require.NoError(t, json.Unmarshal([]byte(stdout), &got), stdout)

	h := models.Handshake{Profile: "patent", Bounds: models.DefaultBounds, Adversary: "default", Agree: true, Symmetry: true, RenameTokens: true}
	cfg, err := h.Config()
	require.NoError(t, err)
	want, err := explore.Run(context.Background(), cfg)
	require.NoError(t, err)
	require.Equal(t, want.States, got.States)
	require.Equal(t, want.Transitions, got.Transitions)
	require.Equal(t, want.Depth, got.Depth)
	require.True(t, got.Complete)
	require.Equal(t, want.RenameTokens, got.RenameTokens)
	require.Equal(t, 3, got.Beam.Partitions)
	require.Len(t, got.Properties, len(explore.Properties))
	violated := 0
	for _, p := range got.Properties {
		c, bad := want.Violated(p.ID)
		if !bad {
			require.Equal(t, "holds", p.Verdict, p.ID)
			continue
		}
		violated++
		require.Equal(t, "violated", p.Verdict, p.ID)
		require.Equal(t, c.Reason, p.Reason, p.ID)
		require.NotNil(t, p.Counterexample, p.ID)
		require.Equal(t, len(c.Steps), p.Counterexample.Steps, p.ID)
		f, err := os.Open(p.Counterexample.File)
		require.NoError(t, err)
		out, err := sim.Replay(f, p.Counterexample.File, sim.ReplayOptions{})
		f.Close()
		require.NoError(t, err, p.ID)
		require.NotEmpty(t, out.Violations, "%s: the trace replays to no violation", p.ID)
		require.Equal(t, p.ID, out.Violations[0].Property, p.ID)
	}
	require.NotZero(t, violated, "the patent's profile breaks properties at the default bounds")

	status, text, _ := runArgs("check", "--profile", "patent", "--partitions", "3", "--cex", t.TempDir())
	require.Equal(t, exitViolation, status)
	require.Contains(t, text, "check patent: 1 client(s) × 1 session(s), losses 1, dups 1, injects 1, retries ≤ 1, commands 1, adversary replay+impersonate+insider+forge+flood\n")
	require.Contains(t, text, "  AUTH-S   violated: ")
}

// A search cut short exits 3: unknown is never a pass.
func TestCheckCutShortIsUnknown(t *testing.T) {
	isolated.Require(t)
	status, stdout, stderr := runArgs("check", "--max-states", "100", "--partitions", "2")
	require.Equal(t, exitUnknown, status, stderr)
	require.Contains(t, stdout, "100 states, ")
	require.Contains(t, stdout, "INCOMPLETE (max states)")
}
