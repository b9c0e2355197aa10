package repair

import (
	"context"
	"reflect"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verishake/verishake/internal/verifier"
	"github.com/verishake/verishake/protocol"
)

// Every field of protocol.Profile is a knob or is said not to be one: a
// knob added to the profile is not silently left out of the search.
func TestKnobsCoverTheProfile(t *testing.T) {
	var names []string
	for _, k := range Knobs() {
		names = append(names, k.Name)
	}
	typ := reflect.TypeFor[protocol.Profile]()
	for i := range typ.NumField() {
		f := typ.Field(i).Name
		_, excluded := NotKnobs[f]
		require.True(t, slices.Contains(names, f) != excluded, "Profile.%s must be a knob or in NotKnobs, not both", f)
	}
	// Each knob reads back what it sets, for every value of its domain.
	for _, k := range Knobs() {
		for _, v := range k.Values() {
			p := Set{{Knob: k.Name, Value: v}}.Apply(protocol.Patent())
			require.Equal(t, v, k.Get(p), k.Name)
			require.NoError(t, p.Validate(), "%s=%s", k.Name, v)
		}
	}
}

// faultsOnly is verify's network-faults exploration alone (at verify's
// bounds), stopped at its first violation: the patent's AUTH-S, CMD, LIVE
// and AGREE losses, in a fraction of a second per set.
func faultsOnly(p protocol.Profile, variant string) verifier.Plan {
	plan := Plan(p, variant)
	plan.Checks = slices.DeleteFunc(plan.Checks, func(c verifier.Check) bool { return c.Name != "explore: network faults" })
	return plan
}

// The search's answer equals the brute force one: check every set of the
// space, keep those that work and have no proper subset that works. The
// plan is a cheap part of verify's: the network-faults exploration, and
// the fault-free and forge simulations cut to a few handshakes, so that
// every property gets a verdict.
//
// The base is the patent with one retransmission (which it needs, and
// which would multiply the space by four as a knob); NewTokenOnRetry is
// not needed by any set that works, so the search has supersets to skip.
func TestSearchFindsWhatBruteForceFinds(t *testing.T) {
	if raceDetector {
		t.Skip("about a hundred explorations: minutes under -race; the explorer's concurrency is raced in package sim/explore")
	}
	knobs, err := KnobsByName([]string{"NewTokenOnRetry", "IdempotentHello", "DuplicateConfirm1", "CommandSeq", "CommandConfirms"})
	require.NoError(t, err)
	base := Set{{Knob: "Retries", Value: "1"}}.Apply(protocol.Patent())
	cfg := Config{Base: base, Knobs: knobs, Plan: func(p protocol.Profile, v string) verifier.Plan {
		plan := faultsOnly(p, v)
		for _, c := range verifier.DefaultPlan(p, v).Checks {
			if c.Name == "sim: adversary forge" || c.Name == "sim: no faults" {
				c.Sim.Handshakes, c.Sim.Clients = 200, 20
				plan.Checks = append(plan.Checks, c)
			}
		}
		return plan
	}}
	res, err := Search(context.Background(), cfg)
	require.NoError(t, err)
	require.True(t, res.Complete)

	alternatives := make([][]string, len(knobs))
	for i, k := range knobs {
		for _, v := range k.Values() {
			if v != k.Get(base) {
				alternatives[i] = append(alternatives[i], v)
			}
		}
	}
	var all, working []Set
	for size := 0; size <= len(knobs); size++ {
		require.NoError(t, eachSet(knobs, alternatives, size, func(s Set) (bool, error) {
			all = append(all, slices.Clone(s))
			return true, nil
		}))
	}
	require.Len(t, all, res.Space)
	for _, s := range all {
		p := s.Apply(base)
		rep, err := verifier.Run(context.Background(), p, "", "", cfg.Plan(p, ""))
		require.NoError(t, err)
		if verifier.Status(rep.Properties) == verifier.StatusOK {
			working = append(working, s)
		}
	}
	var minimal []string
	for _, s := range working {
		if !slices.ContainsFunc(working, func(w Set) bool { return len(w) < len(s) && s.contains(w) }) {
			minimal = append(minimal, s.String())
		}
	}
	var found []string
	for _, f := range res.Minimal {
		found = append(found, f.Changes.String())
		require.Equal(t, verifier.StatusOK, verifier.Status(f.Report.Properties), "the report shows %s working", f.Changes)
	}
	require.NotEmpty(t, minimal, "some set works, or the test shows nothing")
	require.ElementsMatch(t, minimal, found)
	t.Logf("found %v, checks %d, pruned %d of %d", found, res.Checks, res.Pruned, len(all))
	require.Less(t, res.Checks, len(all), "the search skipped the supersets")
	require.Positive(t, res.Pruned)
	require.LessOrEqual(t, res.Checks+res.Pruned, len(all))
	// Every single change that does not work is reported with what breaks.
	for _, r := range res.Rejected {
		require.NotEmpty(t, r.Broken, r.Change.String())
	}
}

// MaxChecks cuts the search short, and says so.
func TestSearchCutShortIsIncomplete(t *testing.T) {
	res, err := Search(context.Background(), Config{Base: protocol.Patent(), Plan: faultsOnly, MaxChecks: 3})
	require.NoError(t, err)
	require.False(t, res.Complete)
	require.Equal(t, 3, res.Checks)
	require.Empty(t, res.Minimal)
}

// A cancelled context ends the search, incomplete and interrupted, with
// no error: what it found so far is a result.
func TestSearchInterruptedIsIncomplete(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	checks := 0
	res, err := Search(ctx, Config{Base: protocol.Patent(), Plan: faultsOnly, Progress: func(_, n, _ int) {
		if checks = n; n == 3 {
			cancel()
		}
	}})
	require.NoError(t, err)
	require.False(t, res.Complete)
	require.True(t, res.Interrupted)
	require.Equal(t, 3, checks, "no check after the cancel")
	require.Empty(t, res.Minimal)
}
