package main

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// `verishake help CMD` prints CMD's own usage and flags on stdout, for
// every command; an unknown one is bad usage.
func TestHelpCommand(t *testing.T) {
	for _, c := range commands {
		status, out, errOut := runCLI("help", c.name)
		require.Equal(t, exitOK, status, "help %s: %s", c.name, errOut)
		require.True(t, strings.HasPrefix(out, "Usage: verishake "+c.name), "help %s: %q", c.name, out)
		require.Contains(t, out, c.summary)
		require.Empty(t, errOut)
	}
	status, out, _ := runCLI("help", "check")
	require.Equal(t, exitOK, status)
	require.Contains(t, out, "--max-states")

	status, _, errOut := runCLI("help", "nope")
	require.Equal(t, exitUsage, status)
	require.Equal(t, "verishake help: unknown command \"nope\" (run 'verishake help')\n", errOut)
}

// Help spells every flag --name, as the docs do, and never "-name".
func TestHelpSpellsFlagsWithTwoDashes(t *testing.T) {
	singleDash := regexp.MustCompile(`(?m)^\s+-[a-z]`)
	for _, c := range commands {
		_, out, _ := runCLI("help", c.name)
		require.NotRegexp(t, singleDash, out, "help %s", c.name)
	}
	// serve's --push takes a URL, and the help says so.
	_, out, _ := runCLI("help", "serve")
	require.Contains(t, out, "--push URL\n")
}

// Flags are accepted before and after positional arguments, and "--" ends
// them.
func TestFlagsAfterArguments(t *testing.T) {
	dir := t.TempDir()
	trace := filepath.Join(dir, "run.jsonl")
	status, _, errOut := runCLI("sim", "--handshakes", "5", "--clients", "2", "--trace", trace)
	require.Equal(t, exitOK, status, errOut)

	status, out, errOut := runCLI("validate", trace, "--json")
	require.Equal(t, exitOK, status, errOut)
	var rep struct {
		OK    bool `json:"ok"`
		Files int  `json:"files"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &rep), out)
	require.True(t, rep.OK)
	require.Equal(t, 1, rep.Files)

	status, out, errOut = runCLI("validate", trace, "--diagram", "1")
	require.Equal(t, exitOK, status, errOut)
	require.Contains(t, out, "1 file(s)")
	require.Contains(t, out, "sequenceDiagram")

	status, out, errOut = runCLI("replay", trace, "--handshake", "2")
	require.Equal(t, exitOK, status, errOut)
	require.Contains(t, out, "sequenceDiagram")

	// After "--", "--json" is a file name.
	status, _, errOut = runCLI("validate", "--", trace, "--json")
	require.Equal(t, exitUsage, status)
	require.Contains(t, errOut, "--json")
}

// A bad flag is one line that names it with two dashes.
func TestFlagErrorsNameTheFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"check", "--bogus"}, "flag provided but not defined: --bogus"},
		{[]string{"sim", "--loss", "x"}, `invalid value "x" for flag --loss`},
		{[]string{"sim", "--json=maybe"}, "--json"},
		{[]string{"sim", "--seed"}, "flag needs an argument: --seed"},
		{[]string{"relay", "--loss", "2"}, "--loss 2"},
		{[]string{"relay", "--dup", "-1"}, "--dup -1"},
		{[]string{"demo", "--loss", "2"}, "--loss 2"},
		{[]string{"demo", "--dup", "1.5"}, "--dup 1.5"},
		{[]string{"version", "extra"}, `unexpected argument "extra"`},
	} {
		status, out, errOut := runCLI(tc.args...)
		require.Equal(t, exitUsage, status, "%v", tc.args)
		require.Empty(t, out, "%v", tc.args)
		require.Contains(t, errOut, tc.want, "%v", tc.args)
		require.Equal(t, 1, strings.Count(errOut, "\n"), "%v: %q", tc.args, errOut)
	}
}

func TestVersion(t *testing.T) {
	status, out, _ := runCLI("version")
	require.Equal(t, exitOK, status)
	require.Regexp(t, `^verishake \S+.* go1\.\d+`, out)
	require.True(t, slices.ContainsFunc(commands, func(c command) bool { return c.name == "version" }))
}

// A report names a variant once: "hardened+no-command-seq", not
// "hardened+no-command-seq + no-command-seq".
func TestHeaderNamesTheVariantOnce(t *testing.T) {
	status, out, errOut := runCLI("check", "--variant", "no-command-seq", "--losses", "0", "--injects", "0", "--cex", t.TempDir())
	require.Equal(t, exitViolation, status, errOut)
	require.True(t, strings.HasPrefix(out, "check hardened+no-command-seq: "), out)
	require.Equal(t, 1, strings.Count(strings.SplitN(out, "\n", 2)[0], "no-command-seq"), out)
	status, out, errOut = runCLI("sim", "--variant", "no-command-seq", "--handshakes", "10")
	require.Equal(t, exitOK, status, errOut)
	require.True(t, strings.HasPrefix(out, "verishake sim: profile hardened+no-command-seq, "), out)
	require.Equal(t, 1, strings.Count(strings.SplitN(out, "\n", 2)[0], "no-command-seq"), out)
	require.Equal(t, "hardened+no-command-seq", displayName("hardened+no-command-seq", "no-command-seq"))
	require.Equal(t, "mine+v", displayName("mine", "v"))
}
