package sim

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verishake/verishake/protocol"
)

// hookWorld is two idle clients and a slot with a pending session, with
// symbolic tokens #1..#5 drawn: a world whose hook state (protocol.Ext)
// the tests below set.
func hookWorld(t *testing.T) *World {
	w := newTestWorld(t, protocol.Hardened(), WorldOptions{Clients: 2, Tokens: &protocol.SymbolicTokens{N: 5}})
	w.Server.Put(protocol.Slot{RegID: 1, State: protocol.AwaitConfirm1,
		Pending: protocol.Session{Tc: protocol.Symbolic(1), Ts: protocol.Symbolic(2), Expires: protocol.Never}})
	return w
}

// fingerprints are every fingerprint a search may key states by, each
// taken on a fresh clone (the running sums are not told of a change made
// behind Apply's back).
func fingerprints(w *World) [3]uint64 {
	a, b, c := w.Clone(), w.Clone(), w.Clone()
	none := func(protocol.RegID) uint64 { return 0 }
	return [3]uint64{a.Fingerprint(), b.FingerprintNamed(&Names{}, nil), c.SymmetricFingerprintNamed(&Names{}, none)}
}

// extOf names each place hook state lives in a world.
var extOf = map[string]func(w *World) *protocol.Ext{
	"Client.Ext": func(w *World) *protocol.Ext { return &w.Clients[0].Ext },
	"Slot.Ext":   func(w *World) *protocol.Ext { return &w.Server.View(1).Ext },
	"Server.Ext": func(w *World) *protocol.Ext { return &w.Server.Ext },
}

// Worlds that differ only in a hook's state are different states: every
// word and token of every Ext counts in every fingerprint, and a snapshot
// brings it back.
func TestHookStateIsWorldState(t *testing.T) {
	for name, ext := range extOf {
		t.Run(name, func(t *testing.T) {
			w := hookWorld(t)
			base := fingerprints(w)
			changes := []func(e *protocol.Ext){}
			for i := range protocol.ExtWords {
				changes = append(changes, func(e *protocol.Ext) { e.Words[i] = 1 })
			}
			for i := range protocol.ExtTokens {
				changes = append(changes, func(e *protocol.Ext) { e.Tokens[i] = protocol.Symbolic(3) })
			}
			for i, change := range changes {
				c := w.Clone()
				change(ext(c))
				got := fingerprints(c)
				for k := range got {
					require.NotEqual(t, base[k], got[k], "change %d, fingerprint %d", i, k)
				}

				b, err := c.AppendSnapshot(nil)
				require.NoError(t, err)
				into := w.Clone()
				_, err = into.LoadSnapshot(b)
				require.NoError(t, err)
				require.Equal(t, *ext(c), *ext(into), "change %d: the snapshot restores it", i)
				require.Equal(t, got, fingerprints(into))
			}
		})
	}
}

// A token a hook keeps is renamed with the world's: two worlds that keep
// different fresh tokens are one state up to renaming, and two states
// without it.
func TestHookTokensAreRenamed(t *testing.T) {
	for name, ext := range extOf {
		t.Run(name, func(t *testing.T) {
			a, b := hookWorld(t), hookWorld(t)
			ext(a).Tokens[1] = protocol.Symbolic(4)
			ext(b).Tokens[1] = protocol.Symbolic(5)
			fa, fb := fingerprints(a), fingerprints(b)
			require.NotEqual(t, fa[0], fb[0], "Fingerprint keeps names")
			require.Equal(t, fa[1], fb[1], "FingerprintNamed renames")
			require.Equal(t, fa[2], fb[2], "SymmetricFingerprintNamed renames")
		})
	}
}

// A simulation runs a hooked profile, and its trace says which hooks ran;
// replaying it is refused with a reason naming them, since no file brings
// the code back, rather than re-run without them.
func TestHookedTraceRefusedByReplay(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Handshakes, cfg.Clients = 20, 2
	calls := 0
	cfg.Profile.Hooks.Confirm2Ts = func(_ protocol.Client, _ *protocol.Ext, _ protocol.Message, ok bool) bool {
		calls++
		return ok
	}
	var trace bytes.Buffer
	rep, err := Run(cfg, RunOptions{Trace: &trace})
	require.NoError(t, err)
	require.NotZero(t, calls, "the simulator's machines run the profile's hooks")
	require.Empty(t, rep.Violations, "a hook that keeps the built-in verdict changes nothing")
	require.Contains(t, trace.String(), `"hooks":["Confirm2Ts"]`)

	_, err = Replay(&trace, "hooked.jsonl", ReplayOptions{})
	require.ErrorIs(t, err, ErrMalformed)
	require.ErrorContains(t, err, "hooked.jsonl:1: ")
	require.ErrorContains(t, err, "profile hooks Confirm2Ts are code")
}
