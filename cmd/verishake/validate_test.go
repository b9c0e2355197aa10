package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestValidateBadInput(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.jsonl")
	require.NoError(t, os.WriteFile(garbage, []byte("{\"type\":\"header\",\"schema\":1}\nnot json\n"), 0o600))
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"validate"}, "no trace files"},
		{[]string{"validate", filepath.Join(dir, "missing.jsonl")}, "missing.jsonl"},
		{[]string{"validate", dir}, "is a directory"},
		{[]string{"validate", garbage}, garbage + ":2:"},
		{[]string{"validate", "--diagram", "x", garbage}, "--diagram"},
		{[]string{"validate", "--bogus"}, "bogus"},
	} {
		status, _, errOut := runCLI(tc.args...)
		require.Equal(t, exitUsage, status, "%v", tc.args)
		require.Contains(t, errOut, tc.want, "%v", tc.args)
		require.Equal(t, 1, strings.Count(errOut, "\n"), "%v: %q", tc.args, errOut)
	}
}
