package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestDemoRunsValidatesAndDiagrams(t *testing.T) {
	defer goleak.VerifyNone(t)
	dir := t.TempDir()
	status, out, errOut := runCLI("demo", "--devices", "4", "--loss", "0.1", "--dup", "0.1", "--delay", "0..20ms", "--trace-dir", dir)
	require.Equal(t, exitOK, status, errOut)
	require.True(t, strings.HasPrefix(out, "sequenceDiagram\n"), out)
	require.Contains(t, out, "C->>S: Hello Tc=")
	require.Contains(t, errOut, "4 devices verified")

	server, devices := filepath.Join(dir, "server.jsonl"), filepath.Join(dir, "devices.jsonl")
	status, out, errOut = runCLI("validate", server, devices)
	require.Equal(t, exitOK, status, errOut)
	require.Contains(t, out, "clients verified: 4")

	// One edited step: a client that accepted Confirm2 is made to say it
	// stayed in AwaitConfirm2. validate names the file and line.
	data, err := os.ReadFile(devices)
	require.NoError(t, err)
	lines := strings.Split(string(data), "\n")
	edited := 0
	for i, ln := range lines {
		var rec map[string]any
		if json.Unmarshal([]byte(ln), &rec) != nil || rec["type"] != "step" {
			continue
		}
		if recv, ok := rec["recv"].(map[string]any); ok && recv["kind"] == "Confirm2" && rec["err"] == nil {
			rec["state"] = "AwaitConfirm2"
			b, err := json.Marshal(rec)
			require.NoError(t, err)
			lines[i], edited = string(b), i+1
			break
		}
	}
	require.NotZero(t, edited)
	tampered := filepath.Join(dir, "tampered.jsonl")
	require.NoError(t, os.WriteFile(tampered, []byte(strings.Join(lines, "\n")), 0o600))
	status, _, errOut = runCLI("validate", server, tampered)
	require.Equal(t, exitViolation, status, errOut)
	require.Contains(t, errOut, tampered+":"+itoa(edited)+":")
	require.Equal(t, 1, strings.Count(errOut, "\n"), errOut)
}

func TestDemoBadUsage(t *testing.T) {
	for _, args := range [][]string{
		{"demo", "--devices", "0"},
		{"demo", "--loss", "2"},
		{"demo", "--delay", "soon"},
		{"demo", "--profile", "nope"},
		{"demo", "--profile", "patent", "--loss", "0.5"},
		{"demo", "--bogus"},
		{"demo", "extra"},
	} {
		status, _, errOut := runCLI(args...)
		require.Equal(t, exitUsage, status, "%v", args)
		require.Equal(t, 1, strings.Count(errOut, "\n"), "%v: %q", args, errOut)
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }
