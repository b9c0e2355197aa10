package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"512MiB": 512 << 20, "8GiB": 8 << 30, "1.5G": 3 << 29, "2GB": 2e9, "1000": 1000, "64KiB": 64 << 10, "0": 0,
	} {
		got, err := parseSize(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", "lots", "-1GiB", "8XB", "1e30", "GiB", "+5"} {
		_, err := parseSize(bad)
		require.Error(t, err, bad)
	}
}

func TestMemTotal(t *testing.T) {
	n, ok := memTotal(strings.NewReader("MemTotal:       16384000 kB\nMemFree:  100 kB\n"))
	require.True(t, ok)
	require.Equal(t, int64(16384000)<<10, n)
	_, ok = memTotal(strings.NewReader("MemFree:  100 kB\n"))
	require.False(t, ok)
}

func TestSearchBudgetLeavesTheRuntimeRoom(t *testing.T) {
	for budget, want := range map[int64]int64{
		0:         0,                       // none
		512 << 20: (512 - 24 - 64) << 20,   // the reserve is at most 88 MiB
		64 << 20:  (64 - 24 - 16) << 20,    // a quarter past the runtime's 24 MiB
		256 << 10: 64 << 10,                // too small for the program: a quarter
		8 << 30:   (8<<10 - 24 - 64) << 20, // big budgets lose the same 88 MiB
	} {
		got := searchBudget(budget)
		require.Equal(t, want, got, formatSize(budget))
		require.LessOrEqual(t, got, budget)
	}
}
