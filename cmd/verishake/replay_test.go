package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// simTrace runs sim with args and a trace, and returns the trace's path.
func simTrace(t *testing.T, wantStatus int, args ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "t.jsonl")
	status, _, errOut := simRun(append([]string{"sim", "--json", "--trace", path}, args...)...)
	require.Equal(t, wantStatus, status, errOut)
	return path
}

func TestReplayReproduces(t *testing.T) {
	path := simTrace(t, exitOK, "--clients", "10", "--handshakes", "40", "--loss", "0.3", "--dup", "0.2", "--seed", "5")
	status, out, errOut := simRun("replay", path)
	require.Equal(t, exitOK, status, errOut)
	assert.True(t, strings.HasPrefix(out, "sequenceDiagram\n"))
	assert.Contains(t, out, "participant C as Client")
	assert.Contains(t, out, "->>S: Hello")
	assert.Contains(t, errOut, "steps reproduce")

	// Another handshake, the flag before or after the file.
	_, out2, _ := simRun("replay", "--handshake", "7", path)
	assert.Contains(t, out2, "start handshake 7")
	_, out3, _ := simRun("replay", path, "--handshake", "7")
	assert.Equal(t, out2, out3)
	status, _, errOut = simRun("replay", "--handshake", "1000", path)
	assert.Equal(t, exitUsage, status)
	assert.Contains(t, errOut, "no handshake #1000")
}

func TestReplayViolation(t *testing.T) {
	path := simTrace(t, exitViolation, "--profile", "patent", "--clients", "20", "--handshakes", "200", "--dup", "0.2", "--seed", "2")
	status, out, errOut := simRun("replay", path)
	assert.Equal(t, exitViolation, status)
	assert.Contains(t, out, "sequenceDiagram")
	assert.Contains(t, errOut, "reproduced: AUTH-S violated")
}

func TestReplayDivergesOrMalformed(t *testing.T) {
	path := simTrace(t, exitOK, "--clients", "10", "--handshakes", "40", "--loss", "0.3", "--seed", "5")
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	lines := strings.Split(string(b), "\n")
	dir := t.TempDir()
	write := func(name string, ls []string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(strings.Join(ls, "\n")), 0o644))
		return p
	}

	// An edited step: the model disagrees, naming the line.
	edited := append([]string(nil), lines...)
	i := 1
	for !strings.Contains(edited[i], `"kind":"Validation"`) {
		i++
	}
	edited[i] = strings.Replace(edited[i], `"kind":"Validation"`, `"kind":"Confirm2"`, 1)
	p := write("edited.jsonl", edited)
	status, _, errOut := simRun("replay", p)
	assert.Equal(t, exitViolation, status)
	assert.Contains(t, errOut, p+":"+strconv.Itoa(i+1)+": trace does not reproduce")
	assert.Equal(t, 1, strings.Count(errOut, "\n"))

	// Broken JSON: bad input, naming file and line.
	broken := append([]string(nil), lines...)
	broken[3] = "{oops"
	p = write("broken.jsonl", broken)
	status, _, errOut = simRun("replay", p)
	assert.Equal(t, exitUsage, status)
	assert.Contains(t, errOut, p+":4: malformed trace")

	status, _, errOut = simRun("replay", filepath.Join(dir, "missing.jsonl"))
	assert.Equal(t, exitUsage, status)
	assert.Contains(t, errOut, "missing.jsonl")

	status, _, _ = simRun("replay")
	assert.Equal(t, exitUsage, status)
}

// By default replay draws the handshake the violation happened in, not
// the trace's first; --handshake still picks another.
func TestReplayDrawsTheViolatingHandshake(t *testing.T) {
	path := simTrace(t, exitViolation, "--profile", "patent", "--loss", "0.1", "--seed", "5")
	status, out, errOut := simRun("replay", path)
	require.Equal(t, exitViolation, status, errOut)
	require.Contains(t, errOut, "client 1's handshake #2379")
	require.Contains(t, out, "start handshake 2379\n")
	require.Contains(t, errOut, "the diagram is of handshake 2379, where the violation happened")

	_, out, errOut = simRun("replay", path, "--handshake", "1")
	require.Contains(t, out, "start handshake 1\n")
	require.Contains(t, errOut, "draw it with --handshake 2379")
}
