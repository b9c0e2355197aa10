package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// resumeArgs is a check of about 200,000 states over 25 levels, whose
// violations are found in the first levels: a kill mid-run leaves them
// in the checkpoint.
var resumeArgs = []string{"check", "--profile", "patent", "--sessions", "2", "--json"}

// sameCheck requires two check reports to agree on all but time, memory
// and where the files went.
func sameCheck(t *testing.T, want, got checkReport) {
	t.Helper()
	require.Equal(t, want.States, got.States, "states")
	require.Equal(t, want.Transitions, got.Transitions, "transitions")
	require.Equal(t, want.Depth, got.Depth, "depth")
	require.Equal(t, want.Complete, got.Complete, "complete")
	require.Equal(t, len(want.Properties), len(got.Properties))
	for i, p := range want.Properties {
		q := got.Properties[i]
		require.Equal(t, p.ID, q.ID)
		require.Equal(t, p.Verdict, q.Verdict, p.ID)
		require.Equal(t, p.Counterexample == nil, q.Counterexample == nil, "%s: counterexample", p.ID)
		if p.Counterexample != nil {
			require.Equal(t, p.Counterexample.Steps, q.Counterexample.Steps, "%s: counterexample length", p.ID)
		}
		require.Equal(t, p.Reason, q.Reason, p.ID)
	}
}

func decodeCheck(t *testing.T, out []byte) checkReport {
	t.Helper()
	var r checkReport
	require.NoError(t, json.Unmarshal(out, &r), string(out))
	return r
}

// TestKilledCheckResumesToTheSameReport starts `verishake check` as a
// child process, kills it with SIGKILL once it has checkpointed a level
// past the first violations, resumes it, and requires the report of an
// uninterrupted run; then the same with SIGTERM.
func TestKilledCheckResumesToTheSameReport(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and checks 200,000 states three times")
	}
	dir, bin := buildVerishake(t)
	command := func(extra ...string) *exec.Cmd {
		c := exec.Command(bin, append(append([]string{}, resumeArgs...), extra...)...)
		c.Env = append(os.Environ(), "TMPDIR="+dir)
		return c
	}

	out, err := command("--cex", filepath.Join(dir, "whole")).Output()
	var exit *exec.ExitError
	require.True(t, errors.As(err, &exit) && exit.ExitCode() == exitViolation, "the patent loses: %v", err)
	want := decodeCheck(t, out)
	require.True(t, want.Complete)

	ck := filepath.Join(dir, "ck")
	child := command("--cex", filepath.Join(dir, "cut"), "--checkpoint", ck)
	var childErr bytes.Buffer
	child.Stderr = &childErr
	exited, level := startUntilCheckpoint(t, child, ck, 8)
	require.NoError(t, child.Process.Signal(syscall.SIGKILL))
	err = <-exited
	require.True(t, errors.As(err, &exit), "killed: %v", err)
	require.Equal(t, syscall.SIGKILL, exit.Sys().(syscall.WaitStatus).Signal())
	// The child may have committed another level between the read and
	// the kill: the checkpoint on disk now is the one a resume takes.
	raw, err := os.ReadFile(filepath.Join(ck, "checkpoint.json"))
	require.NoError(t, err)
	var last struct{ Depth int }
	require.NoError(t, json.Unmarshal(raw, &last))
	require.GreaterOrEqual(t, last.Depth, level)
	require.Less(t, last.Depth, want.Depth, "killed before the end")

	status, _, errOut := runCLI(append(append([]string{}, resumeArgs...), "--dups", "0", "--resume", ck)...)
	require.Equal(t, exitUsage, status)
	require.Contains(t, errOut, "--dups 1, not 0", "a resume with other flags is refused, naming the flag")

	resumed := command("--cex", filepath.Join(dir, "cut"), "--resume", ck)
	var resumedErr bytes.Buffer
	resumed.Stderr = &resumedErr
	out, err = resumed.Output()
	require.True(t, errors.As(err, &exit) && exit.ExitCode() == exitViolation, "%v", err)
	require.Contains(t, resumedErr.String(), fmt.Sprintf("resuming at level %d ", last.Depth), "from the last checkpoint")
	got := decodeCheck(t, out)
	sameCheck(t, want, got)
	left, err := os.ReadDir(ck)
	require.NoError(t, err)
	require.Empty(t, left, "a finished check removes its checkpoint")

	// SIGTERM stops the check at a block's end, incomplete, with its
	// checkpoint kept; the resume ends as the uninterrupted run did.
	ck = filepath.Join(dir, "ck-term")
	child = command("--cex", filepath.Join(dir, "term"), "--checkpoint", ck)
	childErr.Reset()
	child.Stderr = &childErr
	var childOut bytes.Buffer
	child.Stdout = &childOut
	exited, _ = startUntilCheckpoint(t, child, ck, 4)
	require.NoError(t, child.Process.Signal(syscall.SIGTERM))
	err = <-exited
	require.True(t, errors.As(err, &exit) && exit.ExitCode() == exitViolation, "violations found before the signal: %v", err)
	if cut := decodeCheck(t, childOut.Bytes()); cut.Complete {
		t.Skip("the check finished before SIGTERM reached it") // the kill above tested the resume
	}
	require.Contains(t, childErr.String(), "stopped (cancelled)")
	require.FileExists(t, filepath.Join(ck, "checkpoint.json"))
	out, err = command("--cex", filepath.Join(dir, "term"), "--resume", ck).Output()
	require.True(t, errors.As(err, &exit) && exit.ExitCode() == exitViolation, "%v", err)
	sameCheck(t, want, decodeCheck(t, out))
}

// buildVerishake builds the command into a new temporary directory, for
// a test that runs it as a child process, and returns both.
func buildVerishake(t *testing.T) (dir, bin string) {
	t.Helper()
	dir = t.TempDir()
	bin = filepath.Join(dir, "verishake")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run())
	return dir, bin
}

// startUntilCheckpoint starts child, a check checkpointing in ck, and
// waits, bounded, until it has checkpointed level at least; it returns
// the channel of its exit and the level seen. The child takes seconds
// to reach its last level, 25.
func startUntilCheckpoint(t *testing.T, child *exec.Cmd, ck string, atLeast int) (<-chan error, int) {
	t.Helper()
	require.NoError(t, child.Start())
	exited := make(chan error, 1)
	go func() { exited <- child.Wait() }()
	deadline := time.After(2 * time.Minute)
	level := -1
	for level < atLeast {
		select {
		case err := <-exited:
			t.Fatalf("the check ended before it was stopped, at checkpoint %d: %v", level, err)
		case <-deadline:
			child.Process.Kill()
			t.Fatalf("no checkpoint of level %d in 2 minutes (last %d)", atLeast, level)
		case <-time.After(5 * time.Millisecond):
		}
		if raw, err := os.ReadFile(filepath.Join(ck, "checkpoint.json")); err == nil {
			var c struct{ Depth int }
			if json.Unmarshal(raw, &c) == nil {
				level = c.Depth
			}
		}
	}
	return exited, level
}
