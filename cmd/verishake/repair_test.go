package main

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verishake/verishake/internal/repair"
	"github.com/verishake/verishake/internal/verifier"
	"github.com/verishake/verishake/protocol"
)

// cheapRepairPlan is part of repair's plan, for a search go test can
// afford: verify's network-faults exploration at verify's bounds, and its
// fault-free and forge simulations cut to 200 handshakes, so that every
// property gets a verdict. The full `repair --profile patent` (verify's
// whole plan on every set) takes minutes; docs/findings.md gives its
// answer and cost.
func cheapRepairPlan(p protocol.Profile, variant string) verifier.Plan {
	plan := repair.Plan(p, variant)
	keep := []string{"explore: network faults", "sim: no faults", "sim: adversary forge"}
	plan.Checks = slices.DeleteFunc(plan.Checks, func(c verifier.Check) bool { return !slices.Contains(keep, c.Name) })
	for _, c := range plan.Checks {
		if c.Sim != nil {
			c.Sim.Handshakes, c.Sim.Clients = 200, 20
		}
	}
	return plan
}

// The demonstration, on a restricted knob list and the cheap plan:
// for each minimal set repair prints, every property holds with it, and
// removing any one of its changes breaks a property.
func TestRepairPrintsOnlyMinimalSetsThatWork(t *testing.T) {
	if raceDetector {
		t.Skip("about a hundred explorations: minutes under -race; the explorer's concurrency is raced in package sim/explore")
	}
	repairPlan = cheapRepairPlan
	t.Cleanup(func() { repairPlan = repair.Plan })
	knobs := "Retries,IdempotentHello,DuplicateConfirm1,CommandSeq,CommandConfirms"
	cexDir := t.TempDir()
	status, out, errOut := runCLI("repair", "--profile", "patent", "--knobs", knobs, "--json", "--cex", cexDir)
	require.Equal(t, exitOK, status, errOut)
	var res repair.Result
	require.NoError(t, json.Unmarshal([]byte(out), &res))
	require.True(t, res.Complete)
	require.NotEmpty(t, res.Minimal)
	require.Equal(t, strings.Split(knobs, ","), res.Knobs)
	for _, f := range res.Minimal {
		t.Logf("minimal: %s", f.Changes)
	}
	t.Logf("%d checks, %d skipped of %d sets", res.Checks, res.Pruned, res.Space)

	holds := func(s repair.Set) bool {
		p := s.Apply(protocol.Patent())
		rep, err := verifier.Run(context.Background(), p, "", "", cheapRepairPlan(p, ""))
		require.NoError(t, err)
		return verifier.Status(rep.Properties) == verifier.StatusOK
	}
	// What the text output prints of the same result.
	var buf bytes.Buffer
	printRepair(&buf, res)
	text := buf.String()
	for _, f := range res.Minimal {
		require.Contains(t, text, ". "+f.Changes.String()+"\n", "the text lists %s", f.Changes)
		require.True(t, holds(f.Changes), "%s: every property holds", f.Changes)
		require.Len(t, f.Without, len(f.Changes))
		for i := range f.Changes {
			require.False(t, holds(f.Changes.Without(i)), "%s without %s: some property breaks", f.Changes, f.Changes[i])
			require.Equal(t, f.Changes[i], f.Without[i].Change)
			require.NotEmpty(t, f.Without[i].Broken, "the search says what breaks without %s", f.Changes[i])
			require.Contains(t, text, "without "+f.Changes[i].String()+":")
		}
	}
	// Each single change that is not enough is listed with what breaks,
	// and the explorer's counterexample of it replays: the trace carries
	// the changed profile.
	require.Len(t, res.Rejected, 3+1+2+1+1, "every alternative of every knob (Retries has three, DuplicateConfirm1 two): none works alone")
	require.Equal(t, len(res.Rejected), res.Traced)
	for _, r := range res.Rejected {
		require.NotEmpty(t, r.Broken, r.Change.String())
		require.Contains(t, text, r.Change.String())
		for _, b := range r.Broken {
			if !strings.HasPrefix(b.By, "explore: ") {
				continue
			}
			require.NotNil(t, b.Counterexample, "%s: %s", r.Change, b.Property)
			require.True(t, strings.HasPrefix(b.Counterexample.File, cexDir), b.Counterexample.File)
			require.Contains(t, text, b.Property+": "+b.Counterexample.Replay)
			status, _, errOut := runCLI("replay", b.Counterexample.File)
			require.Equal(t, exitViolation, status, errOut)
			require.Contains(t, errOut, "reproduced: "+b.Property+" violated", "%s", r.Change)
		}
	}
	require.Contains(t, text, "checks of verify's plan")
	// Retries=1, 2 and 8 are one exploration (the explorer caps retries at
	// one): the search ran it once. The sets above were checked here
	// without reuse.
	require.Positive(t, res.Reused)
}

func TestRepairBadUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		flag string
	}{
		{[]string{"repair", "--knobs", "Retries,Bogus"}, "--knobs"},
		{[]string{"repair", "--max-checks", "-1"}, "--max-checks"},
		{[]string{"repair", "--variant", "nope"}, "--variant"},
		{[]string{"repair", "extra"}, "extra"},
	} {
		status, out, errOut := runCLI(tc.args...)
		require.Equal(t, exitUsage, status, "%v", tc.args)
		require.Empty(t, out)
		require.Equal(t, 1, strings.Count(errOut, "\n"), "%v: %q", tc.args, errOut)
		require.Contains(t, errOut, tc.flag)
	}
}

// --max-checks cuts the search: exit 3, never a pass.
func TestRepairCutShortIsUnknown(t *testing.T) {
	repairPlan = cheapRepairPlan
	t.Cleanup(func() { repairPlan = repair.Plan })
	status, out, _ := runCLI("repair", "--profile", "patent", "--max-checks", "5", "--cex", t.TempDir())
	require.Equal(t, exitUnknown, status)
	require.Contains(t, out, "INCOMPLETE")
}
