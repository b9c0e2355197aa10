package main

import (
	"context"
	"encoding/json"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

// interruptNow makes the next check or sim get a real SIGINT as soon as it
// listens for one, and waits until the signal has arrived: the run then
// starts interrupted, deterministically.
func interruptNow(t *testing.T) {
	t.Helper()
	saved := interruptContext
	t.Cleanup(func() { interruptContext = saved })
	interruptContext = func() (context.Context, context.CancelFunc) {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
		if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
			panic(err)
		}
		<-ctx.Done()
		return ctx, stop
	}
}

// Ctrl-C during check prints the partial report: incomplete, every verdict
// unknown (exit 3), in text, JSON and JUnit alike.
func TestCheckInterruptedReportsPartially(t *testing.T) {
	dir := t.TempDir()
	junitPath := filepath.Join(dir, "check.xml")
	interruptNow(t)
	status, out, errOut := runCLI("check", "--json", "--junit", junitPath, "--cex", dir)
	require.Equal(t, exitUnknown, status, errOut)
	require.Contains(t, errOut, "interrupted")
	props := requireSchema(t, verdictSchema(t), "check --json", out)
	var rep checkReport
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	require.True(t, rep.Interrupted)
	require.False(t, rep.Complete)
	for _, p := range props {
		require.Equal(t, verdictUnknown, p.Verdict, p.ID)
	}
	s := ingestJUnit(t, junitPath)
	require.Equal(t, len(props), s.Totals.Skipped)

	interruptNow(t)
	status, out, _ = runCLI("check", "--cex", dir)
	require.Equal(t, exitUnknown, status)
	require.Contains(t, out, "INCOMPLETE")
}

// Ctrl-C during sim prints the report so far, whose verdicts are unknown.
func TestSimInterruptedReportsPartially(t *testing.T) {
	interruptNow(t)
	status, out, errOut := runCLI("sim", "--json")
	require.Equal(t, exitUnknown, status, errOut)
	require.Contains(t, errOut, "interrupted")
	props := requireSchema(t, verdictSchema(t), "sim --json", out)
	var rep struct {
		Stopped string `json:"stopped"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	require.Equal(t, "interrupted", rep.Stopped)
	for _, p := range props {
		require.Equal(t, verdictUnknown, p.Verdict, p.ID)
	}

	interruptNow(t)
	status, out, _ = runCLI("sim")
	require.Equal(t, exitUnknown, status)
	require.Contains(t, out, "stopped: interrupted")
	require.Contains(t, out, "every verdict is unknown")
}

// Counterexamples go to ./verishake-cex by default, named by profile,
// variant, configuration and property; a second run never overwrites the
// first run's files.
func TestCounterexamplesNeverOverwrite(t *testing.T) {
	t.Chdir(t.TempDir())
	var files []string
	for range 2 {
		status, out, errOut := runCLI("check", "--variant", "no-command-seq", "--losses", "0", "--injects", "0", "--json")
		require.Equal(t, exitViolation, status, errOut)
		var rep checkReport
		require.NoError(t, json.Unmarshal([]byte(out), &rep))
		for _, p := range rep.Properties {
			if p.Counterexample != nil && p.ID == "CMD" {
				files = append(files, p.Counterexample.File)
			}
		}
	}
	require.Equal(t, []string{
		filepath.Join("verishake-cex", "hardened-no-command-seq-c1-s1-l0-d1-i0-r1-k1-CMD.jsonl"),
		filepath.Join("verishake-cex", "hardened-no-command-seq-c1-s1-l0-d1-i0-r1-k1-CMD-2.jsonl"),
	}, files)
	for _, f := range files {
		st, _, replayErr := runCLI("replay", f)
		require.Equal(t, exitViolation, st, replayErr)
		require.Contains(t, replayErr, "reproduced: CMD violated")
	}
}
