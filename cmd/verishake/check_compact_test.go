package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCompactCheckSaysItIsLossy(t *testing.T) {
	args := []string{"check", "--losses", "0", "--dups", "0", "--cex", t.TempDir(), "--memory", "256MiB"}
	status, exactOut, errOut := runCLI(append(args, "--json")...)
	require.Equal(t, exitOK, status, errOut)
	exact := decodeCheck(t, []byte(exactOut))
	require.Nil(t, exact.Compact, "an exact check has no compaction report")

	// Tables of 4 MiB (a million 32-bit slots) and 32 MiB (256 million
	// bits) for 100,000 states and more: few omissions are expected.
	for mode, size := range map[string]int64{"--compact": 4 << 20, "--compact=bitstate": 32 << 20} {
		status, out, errOut := runCLI(append(args, mode, "--compact-size", formatSize(size), "--json")...)
		require.Equal(t, exitOK, status, errOut)
		requireSchema(t, verdictSchema(t), "check "+mode+" --json", out)
		rep := decodeCheck(t, []byte(out))
		require.NotNil(t, rep.Compact, mode)
		require.Equal(t, size, rep.Compact.TableBytes)
		require.Positive(t, rep.Compact.ExpectedOmitted, "%s: a lossy search says what it may have omitted", mode)
		require.Less(t, rep.Compact.OmissionProbability, 0.05, mode)
		require.Equal(t, exact.States, rep.States, "%s: nothing omitted at these bounds", mode)
		for _, p := range rep.Properties {
			require.Equal(t, verdictHolds, p.Verdict, p.ID)
			require.Equal(t, lossyBy, p.By, "%s: %s's holds is a lossy one", mode, p.ID)
		}
	}
	status, out, _ := runCLI(append(args, "--compact")...)
	require.Equal(t, exitOK, status)
	table := compactTable(0, searchBudget(256<<20)) // a quarter of the search's share of --memory
	require.Equal(t, int64(42<<20), table)
	require.Contains(t, out, "LOSSY (hash compaction, a 42.0MiB table): ")
	require.Contains(t, out, "holds (explore, lossy)")
}

func TestCompactRefusesBadFlags(t *testing.T) {
	for _, bad := range [][]string{
		{"--compact=lots"},
		{"--compact", "--compact-size", "12XB"},
		{"--compact", "--checkpoint", t.TempDir()},
		{"--compact", "--compact-size", "1GiB", "--memory", "1GiB"},
	} {
		status, _, errOut := runCLI(append([]string{"check"}, bad...)...)
		require.Equal(t, exitUsage, status, "%v", bad)
		require.Contains(t, errOut, "--compact", "%v", bad)
		require.Equal(t, 1, strings.Count(strings.TrimSpace(errOut), "\n")+1, "one line: %s", errOut)
	}
}
