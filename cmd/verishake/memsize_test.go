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
