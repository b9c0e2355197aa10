package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/verishake/verishake/sim"
)

// simRun runs the CLI in-process and returns its exit status and output.
func simRun(args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	status := run(args, &stdout, &stderr)
	return status, stdout.String(), stderr.String()
}

// simJSON runs `verishake sim --json` with args and decodes the object,
// leaving out the wall-clock fields.
func simJSON(t *testing.T, wantStatus int, args ...string) map[string]any {
	t.Helper()
	status, out, errOut := simRun(append([]string{"sim", "--json"}, args...)...)
	require.Equal(t, wantStatus, status, "stderr: %s", errOut)
	require.Equal(t, 1, strings.Count(out, "\n"), "exactly one line of JSON")
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &m))
	for _, k := range sim.WallClockFields {
		require.Contains(t, m, k)
		delete(m, k)
	}
	return m
}

func TestSimJSON(t *testing.T) {
	m := simJSON(t, exitOK, "--clients", "100", "--handshakes", "2000", "--loss", "0.1", "--seed", "7")
	for _, k := range []string{"seed", "handshakes", "verified", "failed", "half_verified", "violations", "latency_p50", "latency_p99"} {
		assert.Contains(t, m, k)
	}
	assert.Equal(t, float64(7), m["seed"])
	assert.Equal(t, float64(2000), m["handshakes"])
	assert.Equal(t, []any{}, m["violations"], "an empty list, not null")
	assert.Equal(t, "ms", m["latency_unit"])
}

func TestSimDeterministic(t *testing.T) {
	dir := t.TempDir()
	args := func(trace string) []string {
		return []string{"--clients", "30", "--handshakes", "300", "--loss", "0.2", "--dup", "0.1", "--corrupt", "0.05",
			"--delay", "1ms..1500ms", "--seed", "11", "--trace", filepath.Join(dir, trace)}
	}
	a := simJSON(t, exitOK, args("a.jsonl")...)
	b := simJSON(t, exitOK, args("b.jsonl")...)
	assert.Equal(t, a, b)
	ta, err := os.ReadFile(filepath.Join(dir, "a.jsonl"))
	require.NoError(t, err)
	tb, err := os.ReadFile(filepath.Join(dir, "b.jsonl"))
	require.NoError(t, err)
	assert.True(t, bytes.Equal(ta, tb), "identical trace bytes")

	c := simJSON(t, exitOK, append(args("c.jsonl"), "--seed", "12")...)
	tc, err := os.ReadFile(filepath.Join(dir, "c.jsonl"))
	require.NoError(t, err)
	assert.False(t, bytes.Equal(ta, tc), "another seed, another trace")
	assert.NotEqual(t, a, c)
}

func TestSimPushLossOne(t *testing.T) {
	m := simJSON(t, exitOK, "--clients", "50", "--handshakes", "500", "--push-loss", "1")
	assert.Zero(t, m["verified"])
	assert.Equal(t, float64(500), m["failed"])
	assert.Zero(t, m["half_verified"])
	assert.Equal(t, "done", m["stopped"])
	// --push-loss overrides --loss on the push channel only.
	m = simJSON(t, exitOK, "--clients", "50", "--handshakes", "500", "--loss", "1", "--push-loss", "0")
	assert.Zero(t, m["verified"])
}

func TestSimPatentLossFails(t *testing.T) {
	status, out, _ := simRun("sim", "--profile", "patent", "--clients", "50", "--handshakes", "500", "--loss", "0.1", "--seed", "3")
	require.Equal(t, exitViolation, status)
	assert.Contains(t, out, "VIOLATED LIVE")
	assert.Contains(t, out, "seed: 3")
	assert.Contains(t, out, "reproduce: verishake sim --profile patent --clients 50 --handshakes 500 --loss 0.1 --seed 3 --trace trace.jsonl; verishake replay trace.jsonl")
	assert.Contains(t, out, `{"type":"step"`, "the trace up to the violation")

	m := simJSON(t, exitViolation, "--profile", "patent", "--clients", "50", "--handshakes", "500", "--loss", "0.1", "--seed", "3")
	vs := m["violations"].([]any)
	require.Len(t, vs, 1)
	assert.Equal(t, "LIVE", vs[0].(map[string]any)["property"])
	assert.Contains(t, m["replay"], "--seed 3")
	assert.NotEmpty(t, m["trace_tail"])
}

func TestSimBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		flag string
	}{
		{[]string{"--loss", "-0.1"}, "--loss"},
		{[]string{"--loss", "1.5"}, "--loss"},
		{[]string{"--push-loss", "2"}, "--push-loss"},
		{[]string{"--dup", "NaN"}, "--dup"},
		{[]string{"--corrupt", "-1"}, "--corrupt"},
		{[]string{"--delay", "fast"}, "--delay"},
		{[]string{"--delay", "200ms..10ms"}, "--delay"},
		{[]string{"--delay", "-1s..1s"}, "--delay"},
		{[]string{"--clients", "0"}, "--clients"},
		{[]string{"--handshakes", "-5"}, "--handshakes"},
		{[]string{"--rate", "0"}, "--rate"},
		{[]string{"--profile", "nope"}, "--profile"},
		{[]string{"--variant", "bogus"}, "--variant"},
		{[]string{"--variant", "short-tokens+no-session-cap"}, "--variant"},
		{[]string{"--adversary", "bogus"}, "--adversary"},
		{[]string{"--adversary", "Forge"}, "--adversary"},
		{[]string{"--trace", "/nonexistent/dir/t.jsonl"}, "--trace"},
		{[]string{"--bogus"}, "bogus"},
		{[]string{"extra"}, "extra"},
	} {
		status, out, errOut := simRun(append([]string{"sim"}, tc.args...)...)
		assert.Equal(t, exitUsage, status, "%v", tc.args)
		assert.Empty(t, out)
		assert.Equal(t, 1, strings.Count(errOut, "\n"), "one line: %q", errOut)
		assert.Contains(t, errOut, tc.flag, "%v", tc.args)
	}
}

func TestSimHelpAndPlot(t *testing.T) {
	status, _, errOut := simRun("sim", "--help")
	assert.Equal(t, exitOK, status)
	assert.Contains(t, errOut, "--push-loss")

	svg := filepath.Join(t.TempDir(), "lat.svg")
	status, out, _ := simRun("sim", "--clients", "20", "--handshakes", "200", "--plot", svg)
	require.Equal(t, exitOK, status)
	assert.Contains(t, out, "properties: AUTH-C, AUTH-S, CMD, FORGE, LIVE, BOUNDED, DELIVER hold", "no fault: DELIVER is checked too")
	b, err := os.ReadFile(svg)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(b), "<svg"))
	assert.Contains(t, string(b), "p99")
}

// An unknown variant is a usage error whose one line names the flag and
// lists the catalog, so the user can pick a valid name.
func TestSimBadVariantListsCatalog(t *testing.T) {
	status, out, errOut := simRun("sim", "--variant", "no-such-variant")
	require.Equal(t, exitUsage, status)
	assert.Empty(t, out)
	require.Equal(t, 1, strings.Count(errOut, "\n"), "one line: %q", errOut)
	assert.True(t, strings.HasPrefix(errOut, "verishake sim: --variant: "), errOut)
	for _, name := range sim.VariantNames() {
		assert.Contains(t, errOut, name)
	}
}

// Every strategy README.md names is accepted by --adversary, and
// hardened keeps every property under it.
func TestSimAdversariesHardened(t *testing.T) {
	for _, a := range []string{"replay", "forge", "impersonate", "flood", "all"} {
		m := simJSON(t, exitOK, "--adversary", a, "--clients", "50", "--handshakes", "300", "--seed", "5")
		assert.Equal(t, a, m["adversary"])
		assert.Equal(t, []any{}, m["violations"], a)
		assert.Positive(t, m["step_counts"].(map[string]any)["inject"], a)
		assert.Zero(t, m["forge_accepted"], a)
		assert.LessOrEqual(t, m["max_half_open"], float64(1024), a)
	}
}

// Against 8-bit tokens the forger's guesses are accepted: FORGE, exit 1,
// with the statistic in the JSON and a reproducing command that names the
// variant (on the profile it was applied to, not the renamed one).
func TestSimForgeShortTokens(t *testing.T) {
	m := simJSON(t, exitViolation, "--adversary", "forge", "--variant", "short-tokens", "--clients", "100", "--handshakes", "1000", "--seed", "2")
	vs := m["violations"].([]any)
	require.Len(t, vs, 1)
	v := vs[0].(map[string]any)
	assert.Equal(t, "FORGE", v["property"])
	assert.Contains(t, v["reason"], "guesses accepted")
	assert.Equal(t, "hardened+short-tokens", m["profile"])
	assert.Positive(t, m["forge_accepted"])
	assert.Greater(t, m["forge_guesses"], m["forge_accepted"])
	assert.Equal(t, "verishake sim --variant short-tokens --clients 100 --handshakes 1000 --adversary forge --seed 2 --trace trace.jsonl; verishake replay trace.jsonl", m["replay"])

	status, out, _ := simRun("sim", "--adversary", "forge", "--variant", "short-tokens", "--clients", "100", "--handshakes", "1000", "--seed", "2")
	require.Equal(t, exitViolation, status)
	assert.Contains(t, out, "VIOLATED FORGE")
	assert.Regexp(t, `forge: \d+ guessed tokens delivered, [1-9]\d* accepted`, out)
}

// A flood against a server without a cap is BOUNDED, held to hardened's
// 1024; hardened itself refuses Hellos at its cap and holds.
func TestSimFloodBounded(t *testing.T) {
	for _, args := range [][]string{{"--variant", "no-session-cap"}, {"--profile", "patent"}} {
		m := simJSON(t, exitViolation, append(args, "--adversary", "flood", "--clients", "50", "--handshakes", "300")...)
		vs := m["violations"].([]any)
		require.Len(t, vs, 1, "%v", args)
		assert.Equal(t, "BOUNDED", vs[0].(map[string]any)["property"], "%v", args)
		assert.Contains(t, vs[0].(map[string]any)["reason"], "held to hardened's default cap", "%v", args)
		assert.Equal(t, float64(1025), m["max_half_open"], "%v", args)
	}
	m := simJSON(t, exitOK, "--adversary", "flood", "--clients", "50", "--handshakes", "300")
	assert.Equal(t, float64(1024), m["max_half_open"], "the flood fills the cap, and no more")
}
