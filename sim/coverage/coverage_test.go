package coverage

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verishake/verishake/adversary"
	"github.com/verishake/verishake/protocol"
	"github.com/verishake/verishake/sim"
	"github.com/verishake/verishake/sim/explore"
)

// walkTally walks the state space of p at small bounds (stopping at a
// state limit) and tallies every step.
func walkTally(t *testing.T, p protocol.Profile, clients, losses, injects int) (*Tally, explore.WalkReport) {
	t.Helper()
	p.Retries = min(p.Retries, 1)
	h, err := p.Compile()
	require.NoError(t, err)
	tally := New(h)
	cfg := explore.Config{Handshake: h, Clients: clients, Sessions: 2, Commands: 1, Losses: losses, Dups: 1, Injects: injects,
		Adversary: adversary.NewExplorer(adversary.Default(), clients, protocol.RegID(clients+1)), RenameTokens: true, MaxStates: 20_000}
	rep, err := explore.Walk(context.Background(), cfg, explore.Hooks{Pre: tally.Pre, Post: tally.Post})
	if !errors.Is(err, explore.ErrStateLimit) {
		require.NoError(t, err)
	}
	return tally, rep
}

// Every step of every profile and catalog variant is explained by rows
// of its tables: the derivation reads the machines right, including lazy
// expiry, duplicate Hellos and Confirm1s, and the insider's handshake.
func TestEveryStepIsExplainedByRows(t *testing.T) {
	profiles := []protocol.Profile{protocol.Patent(), protocol.Hardened()}
	for _, v := range protocol.Variants() {
		profiles = append(profiles, v.Of(protocol.Hardened()))
	}
	for _, p := range profiles {
		tally, rep := walkTally(t, p, 1, 1, 1)
		r := tally.Report()
		require.Empty(t, r.Unexplained, "%s (%d states)", p.Name, rep.States)
		require.Positive(t, r.Taken, p.Name)
		require.Equal(t, r.Total, r.Taken+len(r.NeverTaken), p.Name)
	}
}

// The hardened profile's handshake takes the rows a handshake is made of,
// and retries and expiry take theirs; a row the profile cannot take (the
// patent has no retries) is not in its table at all.
func TestRowsOfAHandshake(t *testing.T) {
	tally, _ := walkTally(t, protocol.Hardened(), 1, 1, 0)
	r := tally.Report()
	count := map[Row]uint64{}
	for _, rc := range r.Rows {
		count[rc.Row] = rc.Count
	}
	for _, row := range []Row{
		{"client", "Idle", "Start", "AwaitValidation"},
		{"client", "AwaitValidation", "Validation", "AwaitConfirm2"},
		{"client", "AwaitConfirm2", "Confirm2", "Verified"},
		{"client", "AwaitValidation", "Retry", "AwaitValidation"},
		{"client", "AwaitValidation", "GiveUp", "Failed"},
		{"server", "None", "Hello", "AwaitConfirm1"},
		{"server", "AwaitConfirm1", "Confirm1", "Verified"},
		{"server", "Verified", "Issue", "Verified"},
		{"server", "AwaitConfirm1", "ExpirePending", "None"},
	} {
		require.Positive(t, count[row], "%v taken", row)
	}
	patent, err := protocol.Patent().Compile()
	require.NoError(t, err)
	for _, rc := range New(patent).Report().Rows {
		require.NotEqual(t, "Retry", rc.Event, "the patent has no retries, so no Retry row")
	}
}

// A step with no Pre is reported, not guessed.
func TestPostWithoutPreIsUnexplained(t *testing.T) {
	h, err := protocol.Hardened().Compile()
	require.NoError(t, err)
	tally := New(h)
	w, err := sim.NewWorld(h, sim.WorldOptions{Clients: 1, Handshakes: 1})
	require.NoError(t, err)
	s := sim.Step{Kind: sim.StepStart}
	r, err := w.Apply(s)
	require.NoError(t, err)
	tally.Post(w, &s, &r)
	require.Len(t, tally.Report().Unexplained, 1)
}
