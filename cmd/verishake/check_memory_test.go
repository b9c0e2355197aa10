package main

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
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

// TestMaxStatesKeepsPeakRSSWithinTheBudget runs check as a child process
// on a model whose levels grow past a million states (--injects 2: level
// 10 alone finds over a million new ones, 110 bytes of encoding each, a
// hundred MiB and more), capped at 400,000 states under a 64 MiB budget:
// it must stop at the cap with the process's peak resident memory, all
// of it (visited set, frontier, parents, the Go runtime), within the
// budget.
func TestMaxStatesKeepsPeakRSSWithinTheBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and checks 400,000 states")
	}
	if runtime.GOOS != "linux" {
		t.Skip("peak RSS is read from getrusage on Linux")
	}
	dir, bin := buildVerishake(t)
	const budget = 64 << 20
	child := exec.Command(bin, "check", "--injects", "2", "--agree=false", "--rename-tokens=false", "--max-states", "400000",
		"--memory", "64MiB", "--json", "--cex", filepath.Join(dir, "cex"))
	child.Env = append(os.Environ(), "TMPDIR="+dir)
	out, err := child.Output()
	var exit *exec.ExitError
	require.True(t, errors.As(err, &exit) && exit.ExitCode() == exitUnknown, "a capped search is unknown: %v", err)
	var rep checkReport
	require.NoError(t, json.Unmarshal(out, &rep))
	require.Equal(t, "max states", rep.Stopped)
	require.Equal(t, uint64(400000), rep.States)
	require.Positive(t, rep.PeakRSS)
	require.LessOrEqual(t, rep.PeakRSS, int64(budget), "peak RSS %d", rep.PeakRSS)
	require.LessOrEqual(t, rep.Memory, int64(budget))
	require.InDelta(t, float64(rep.PeakRSS)/float64(rep.States), rep.PeakRSSPerState, 1e-6)
}
