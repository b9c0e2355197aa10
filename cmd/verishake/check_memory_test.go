package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCheckShowsItsBudgetAndRemovesItsWorkDirectory(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // the default work directory goes under it
	base := []string{"check", "--profile", "patent", "--losses", "0", "--dups", "0", "--cex", t.TempDir(), "--memory", "64MiB"}
	status, out, errOut := runCLI(append(base, "--json")...)
	require.Equal(t, exitViolation, status, errOut)
	var rep checkReport
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	require.Equal(t, int64(64<<20), rep.MemoryBudget)
	require.Positive(t, rep.Memory)
	require.LessOrEqual(t, rep.Memory, rep.MemoryBudget)
	require.True(t, strings.HasPrefix(rep.WorkDir, tmp), rep.WorkDir)
	require.Positive(t, rep.Disk, "the levels went to disk")
	left, err := os.ReadDir(tmp)
	require.NoError(t, err)
	require.Empty(t, left, "the default work directory is removed")

	status, out, _ = runCLI(base...)
	require.Equal(t, exitViolation, status)
	require.Contains(t, out, "memory budget 64.0MiB (at most ")
	require.Contains(t, out, "on disk)")
}

func TestCheckRefusesBadSizes(t *testing.T) {
	for _, bad := range []string{"12XB", "-1GiB", "lots"} {
		status, _, errOut := runCLI("check", "--memory", bad)
		require.Equal(t, exitUsage, status, bad)
		require.Contains(t, errOut, "--memory", bad)
		require.Equal(t, 1, strings.Count(strings.TrimSpace(errOut), "\n")+1, "one line: %s", errOut)
	}
}

func TestCheckMaxStatesStoresAtMostN(t *testing.T) {
	status, out, errOut := runCLI("check", "--profile", "patent", "--losses", "0", "--dups", "0", "--cex", t.TempDir(),
		"--max-states", "500", "--json", "--memory", "64MiB")
	require.NotEqual(t, exitUsage, status, errOut)
	var rep checkReport
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	require.False(t, rep.Complete)
	require.Equal(t, "max states", rep.Stopped)
	require.LessOrEqual(t, rep.States, uint64(500))
	require.LessOrEqual(t, rep.Memory, rep.MemoryBudget)
}

func TestCheckBudgetFarBelowNeedEndsUnknown(t *testing.T) {
	status, out, errOut := runCLI("check", "--dups", "0", "--cex", t.TempDir(), // 297,931 states: 3.5 MiB of visited set

		"--json", "--memory", "256KiB")
	require.Equal(t, exitUnknown, status, errOut)
	var rep checkReport
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	require.False(t, rep.Complete)
	require.Equal(t, "memory budget", rep.Stopped)
	require.LessOrEqual(t, rep.BytesPerState*float64(rep.States), float64(rep.MemoryBudget), "the visited set stays within the budget")
	for _, p := range rep.Properties {
		require.Equal(t, verdictUnknown, p.Verdict, p.ID)
	}
}
