package bfs_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verishake/verishake/dist/beam/bfs"
	"github.com/verishake/verishake/dist/beam/internal/isolated"
	"github.com/verishake/verishake/dist/beam/models"
	"github.com/verishake/verishake/engine"
	"github.com/verishake/verishake/examples/nspk"
)

// partitionCounts are the visited set's splits each model is searched
// with: one (a single reducer), two, and a prime that leaves some
// partitions of a small level empty.
var partitionCounts = []int{1, 2, 7}

// same searches m with engine.Search and on Prism with each partition
// count, and requires the Beam search's report to be the engine's.
func same[S, A any](t *testing.T, m engine.Model[S, A], spec bfs.Spec, maxStates int) {
	t.Helper()
	ctx := context.Background()
	want, err := engine.Search(ctx, m, engine.Config{MaxStates: maxStates})
	require.NoError(t, err)
	for _, parts := range partitionCounts {
		got, err := bfs.Search(ctx, m, spec, bfs.Options{Runner: bfs.Prism{}, Work: t.TempDir(), Partitions: parts, MaxStates: maxStates})
		require.NoError(t, err, "%d partitions", parts)
		t.Logf("%d partitions: %d states, %d level pipelines, %d successors shuffled, %.1f bytes a state",
			parts, got.States, got.Pipelines, got.Candidates, float64(got.Shuffled)/float64(got.States))
		requireSameReport(t, want, got.Report, fmt.Sprintf("%d partitions", parts))
	}
}

// requireSameReport requires got to be want: the states, transitions,
// depth and completeness, the transitions by kind, each property's
// verdict and its counterexample, action for action.
func requireSameReport[A any](t *testing.T, want, got engine.Report[A], where string) {
	t.Helper()
	require.Equal(t, want.States, got.States, where)
	require.Equal(t, want.Transitions, got.Transitions, where)
	require.Equal(t, want.Depth, got.Depth, where)
	require.Equal(t, want.Complete, got.Complete, where)
	require.Equal(t, want.Stopped, got.Stopped, where)
	require.Equal(t, want.Taken, got.Taken, where)
	require.Equal(t, want.Properties, got.Properties, where)
	for _, p := range want.Properties {
		require.Equal(t, want.Verdict(p), got.Verdict(p), "%s, %s", where, p)
		wc, _ := want.Violated(p)
		gc, _ := got.Violated(p)
		require.Equal(t, wc.Path(), gc.Path(), "%s, %s's counterexample length", where, p)
		require.Equal(t, wc, gc, "%s, %s's counterexample", where, p)
	}
}

// handshake is an exploration at the default bounds but for the changes.
func handshake(profile string, change func(*models.Bounds)) models.Handshake {
	h := models.Handshake{Profile: profile, Bounds: models.DefaultBounds, Adversary: "default", Agree: true, Symmetry: true, RenameTokens: true}
	if change != nil {
		change(&h.Bounds)
	}
	return h
}

func sameHandshake(t *testing.T, h models.Handshake, maxStates int) {
	m, err := h.Model()
	require.NoError(t, err)
	same(t, m, h.Spec(), maxStates)
}

// At the default bounds, the patent's profile breaks AUTH-S, CMD and
// BOUNDED: three counterexamples to rebuild from the parent records.
func TestPatentDefaultBoundsAsEngine(t *testing.T) {
	isolated.Require(t)
	sameHandshake(t, handshake("patent", nil), 0)
}

// Two clients, where the search keeps one state per renaming of the
// clients (the model's own fingerprint), with no adversary and no fault
// but one loss, and with the patent's profile.
func TestTwoClientsAsEngine(t *testing.T) {
	isolated.Require(t)
	quiet := func(b *models.Bounds) { *b = models.Bounds{Clients: 2, Sessions: 1, Losses: 1} }
	for _, h := range []models.Handshake{handshake("hardened", quiet), handshake("patent", quiet)} {
		h.Adversary = "none"
		t.Run(h.Profile, func(t *testing.T) { sameHandshake(t, h, 0) })
	}
}

// A search cut short by MaxStates stores the same states and leaves the
// same verdicts unknown.
func TestMaxStatesAsEngine(t *testing.T) {
	isolated.Require(t)
	sameHandshake(t, handshake("patent", nil), 5000)
}

// NSPK: Lowe's attack on the original protocol, and the fix, where every
// property holds, at his bounds and with two runs a role.
func TestNSPKAsEngine(t *testing.T) {
	isolated.Require(t)
	two := nspk.Config{Initiators: []nspk.Agent{nspk.A, nspk.B}, Responders: []nspk.Agent{nspk.B, nspk.A}}
	for _, cfg := range []nspk.Config{{}, {Fixed: true}, two} {
		t.Run(fmt.Sprintf("fixed=%v,runs=%d", cfg.Fixed, len(cfg.Initiators)+len(cfg.Responders)), func(t *testing.T) {
			m, err := nspk.New(cfg)
			require.NoError(t, err)
			same(t, m, models.NSPKSpec(cfg), 0)
		})
	}
}

// The handshake's own profile at the default bounds: 1.5 million states,
// 25 levels, the most of this package's run time.
func TestHardenedDefaultBoundsAsEngine(t *testing.T) {
	isolated.Require(t)
	if testing.Short() || raceEnabled {
		t.Skip("1.5 million states three times over: not under -short or -race (the patent's profile at the same bounds runs the same code)")
	}
	sameHandshake(t, handshake("hardened", nil), 0)
}
