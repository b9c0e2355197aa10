package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/require"
)

// verdictSchema compiles docs/verdict.schema.json, the contract of every
// command's --json.
func verdictSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	sch, err := jsonschema.NewCompiler().Compile(filepath.Join("..", "..", "docs", "verdict.schema.json"))
	require.NoError(t, err)
	return sch
}

// requireSchema checks that out, one command's --json, is valid against
// the schema, and returns its verdicts.
func requireSchema(t *testing.T, sch *jsonschema.Schema, what, out string) []propertyResult {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(strings.NewReader(out))
	require.NoError(t, err, "%s: %s", what, out)
	require.NoError(t, sch.Validate(inst), "%s does not follow docs/verdict.schema.json:\n%s", what, out)
	var rep struct {
		Properties []propertyResult `json:"properties"`
		Variants   []struct {
			Properties []propertyResult `json:"properties"`
		} `json:"variants"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	for _, v := range rep.Variants {
		rep.Properties = append(rep.Properties, v.Properties...)
	}
	return rep.Properties
}

// Every command's --json follows the one verdict schema, in each verdict
// it can give: holds, violated (with a counterexample: a trace file, or a
// command), unknown. verify's, which costs seconds a run, is checked where
// it is run already (TestVerifyHardenedHolds and
// TestVerifyPatentLosesWithReplayableCounterexamples).
func TestEveryJSONFollowsTheVerdictSchema(t *testing.T) {
	sch := verdictSchema(t)
	dir := t.TempDir()
	trace := filepath.Join(dir, "ok.jsonl")
	bad := filepath.Join(dir, "cmd.jsonl")
	seen := map[string]map[string]bool{} // command → verdicts given
	for _, tc := range []struct {
		args   []string
		status int
	}{
		{[]string{"check", "--profile", "patent", "--cex", dir}, exitViolation},
		{[]string{"check", "--max-states", "1000", "--cex", dir}, exitUnknown},
		{[]string{"variants"}, exitOK},
		{[]string{"variants", "--check", "--cex", dir}, exitOK},
		{[]string{"sim", "--handshakes", "20", "--clients", "4", "--trace", trace}, exitOK},
		{[]string{"sim", "--variant", "short-tokens", "--adversary", "forge", "--handshakes", "2000", "--clients", "100"}, exitViolation},
		{[]string{"sim", "--variant", "no-command-seq", "--adversary", "replay", "--trace", bad}, exitViolation},
		{[]string{"validate", trace}, exitOK},
		{[]string{"validate", bad}, exitViolation},
	} {
		args := append(tc.args, "--json")
		status, out, errOut := runCLI(args...)
		require.Equal(t, tc.status, status, "%v: %s", args, errOut)
		props := requireSchema(t, sch, strings.Join(args, " "), out)
		if tc.args[0] != "variants" || len(tc.args) > 1 {
			require.NotEmpty(t, props, "%v gives verdicts", args)
		}
		if seen[tc.args[0]] == nil {
			seen[tc.args[0]] = map[string]bool{}
		}
		for _, p := range props {
			seen[tc.args[0]][p.Verdict] = true
			if p.Verdict == verdictViolated && p.Counterexample != nil {
				require.Equal(t, p.ID, p.Counterexample.Property, "%v", args)
				seen[tc.args[0]]["counterexample"] = true
			}
		}
	}
	for cmd, want := range map[string][]string{
		"check":    {verdictHolds, verdictViolated, verdictUnknown, "counterexample"},
		"variants": {verdictViolated, "counterexample"},
		"sim":      {verdictHolds, verdictViolated, verdictUnknown, "counterexample"},
		"validate": {verdictHolds, verdictViolated, "counterexample"},
	} {
		for _, v := range want {
			require.True(t, seen[cmd][v], "no %s gave %s", cmd, v)
		}
	}
}

// The schema is no formality: it refuses a verdict whose holds disagrees
// with its verdict, an unknown property, and a counterexample without its
// replay command.
func TestVerdictSchemaRefusesInconsistentVerdicts(t *testing.T) {
	sch := verdictSchema(t)
	for _, bad := range []string{
		`{"ok":true,"files":1,"runs":1,"violations":[],"properties":[{"id":"CMD","verdict":"holds","holds":false}]}`,
		`{"ok":true,"files":1,"runs":1,"violations":[],"properties":[{"id":"CMD","verdict":"unknown","holds":true}]}`,
		`{"ok":true,"files":1,"runs":1,"violations":[],"properties":[{"id":"NOPE","verdict":"holds","holds":true}]}`,
		`{"ok":false,"files":1,"runs":1,"violations":[],"properties":[{"id":"CMD","verdict":"violated","holds":false,"reason":"r","counterexample":{"steps":1,"property":"CMD"}}]}`,
	} {
		inst, err := jsonschema.UnmarshalJSON(strings.NewReader(bad))
		require.NoError(t, err)
		require.Error(t, sch.Validate(inst), bad)
	}
}
