package nspk_test

import (
	"encoding/binary"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verishake/verishake/examples/nspk"
)

// reachable is every state reachable in m, by encoding, found by a plain
// breadth-first walk with a map (no fingerprints, no engine).
func reachable(t testing.TB, m *nspk.Model) map[string]nspk.State {
	t.Helper()
	var root nspk.State
	m.Init(&root)
	seen := map[string]nspk.State{string(m.Encode(nil, &root)): root}
	queue := []nspk.State{root}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		before := m.Encode(nil, &s)
		actions := m.Actions(&s, nil)
		for i, a := range actions {
			require.NotContains(t, actions[:i], a, "an action enumerated twice")
			var next nspk.State
			m.Apply(&s, &a, &next)
			require.Equal(t, before, m.Encode(nil, &s), "Apply changed the state it ran from")
			enc := string(m.Encode(nil, &next))
			if _, ok := seen[enc]; !ok {
				seen[enc] = next
				queue = append(queue, next)
			}
		}
	}
	return seen
}

// Every reachable state decodes from its encoding to itself (into a fresh
// state and into one holding another state), and the engine counts as
// many states as the map walk finds: distinct encodings are distinct
// states to it.
func TestEncodingRoundTripsEveryReachableState(t *testing.T) {
	for _, cfg := range []nspk.Config{lowesBounds, fixed(lowesBounds), twoRunsARole, fixed(twoRunsARole)} {
		m := newModel(t, cfg)
		states := reachable(t, m)
		var reused nspk.State
		m.Init(&reused)
		for enc, s := range states {
			var fresh nspk.State
			require.NoError(t, m.Decode([]byte(enc), &fresh))
			require.Equal(t, enc, string(m.Encode(nil, &fresh)))
			require.Equal(t, s.Runs, fresh.Runs)
			require.Equal(t, s.Known, fresh.Known)
			require.True(t, slices.Equal(s.Stored, fresh.Stored), "stored %v, decoded %v", s.Stored, fresh.Stored)
			require.NoError(t, m.Decode([]byte(enc), &reused))
			require.Equal(t, enc, string(m.Encode(nil, &reused)))
		}
		r := search(t, m)
		require.EqualValues(t, len(states), r.States, "fixed %v %v", cfg.Fixed, cfg.Initiators)
	}
}

// Decode names what is wrong in bytes that are no state of the model, and
// never takes them.
func TestDecodeRejectsBadBytes(t *testing.T) {
	m := newModel(t, lowesBounds) // run 0: A initiator (Na), run 1: B responder (Nb)
	na, nb, ni := nspk.NonceOf(nspk.A, 1), nspk.NonceOf(nspk.B, 1), nspk.NonceOf(nspk.I, 1)
	known := func(ns ...nspk.Nonce) []byte {
		var bits uint64
		for _, n := range ns {
			bits |= 1 << n
		}
		return binary.LittleEndian.AppendUint64(nil, bits)
	}
	state := func(runs []byte, k []byte, stored ...byte) []byte {
		return append(append(slices.Clone(runs), k...), stored...)
	}
	idle := []byte{0, 0, 0, 0, 0, 0, 0, 0}
	started := []byte{1, byte(nspk.I), byte(na), 0, 0, 0, 0, 0} // A waiting, with I
	good := state(started, known(ni, na))
	var s nspk.State
	require.NoError(t, m.Decode(good, &s), "the control case")

	for _, bad := range []struct {
		name, want string
		bytes      []byte
	}{
		{"empty", "0 bytes", nil},
		{"short", "15 bytes", good[:15]},
		{"a partial ciphertext", "19 bytes", append(slices.Clone(good), 1, 2, 3)},
		{"a phase past Done", "phase 3", state([]byte{3, byte(nspk.I), byte(na), 0, 0, 0, 0, 0}, known(ni))},
		{"an idle run with a peer", "idle with peer", state([]byte{0, byte(nspk.B), 0, 0, 0, 0, 0, 0}, known(ni))},
		{"a run with itself", "peer A", state([]byte{1, byte(nspk.A), byte(na), 0, 0, 0, 0, 0}, known(ni))},
		{"a run with no agent", "peer Agent(9)", state([]byte{1, 9, byte(na), 0, 0, 0, 0, 0}, known(ni))},
		{"another run's nonce", "own nonce Nb", state([]byte{1, byte(nspk.B), byte(nb), 0, 0, 0, 0, 0}, known(ni))},
		{"Nb before message 2", "already", state([]byte{1, byte(nspk.B), byte(na), byte(nb), 0, 0, 0, 0}, known(ni))},
		{"a nonce the model has not", "not one of the model's", state([]byte{0, 0, 0, 0, 1, byte(nspk.A), byte(nspk.NonceOf(nspk.A, 2)), byte(nb)}, known(ni))},
		{"an intruder without Ni", "want Ni", state(idle, known())},
		{"knowledge of a foreign nonce", "want Ni", state(idle, known(ni, nspk.NonceOf(nspk.B, 5)))},
		{"a ciphertext under pk(I)", "under pk(I)", state(started, known(ni), 3, byte(nspk.I), byte(na), 0, 0)},
		{"a kind 4 ciphertext", "kind 4", state(started, known(ni), 4, byte(nspk.B), byte(na), 0, 0)},
		{"message 1 without a name", "agent Agent(0) does not fit message 1", state(started, known(ni), 1, byte(nspk.B), byte(na), 0, 0)},
		{"message 2 of the fix in the original", "agent B", state(started, known(ni), 2, byte(nspk.B), byte(na), byte(ni), byte(nspk.B))},
		{"message 3 with two nonces", "do not fit", state(started, known(ni), 3, byte(nspk.B), byte(na), byte(ni), 0)},
		{"a composable ciphertext", "composable", state(started, known(ni, na), 3, byte(nspk.B), byte(na), 0, 0)},
		{"repeated ciphertexts", "not after", state(started, known(ni), 3, byte(nspk.B), byte(na), 0, 0, 3, byte(nspk.B), byte(na), 0, 0)},
		{"unsorted ciphertexts", "not after", state(started, known(ni), 3, byte(nspk.B), byte(na), 0, 0, 1, byte(nspk.B), byte(na), 0, byte(nspk.A))},
	} {
		t.Run(bad.name, func(t *testing.T) {
			var s nspk.State
			err := m.Decode(bad.bytes, &s)
			require.ErrorIs(t, err, nspk.ErrState)
			require.ErrorContains(t, err, bad.want)
		})
	}
}

// Bytes either are no state (an error) or are one state's canonical
// encoding, from which the model runs without panicking.
func FuzzDecode(f *testing.F) {
	for _, cfg := range []nspk.Config{lowesBounds, fixed(lowesBounds)} {
		m := newModel(f, cfg)
		for enc := range reachable(f, m) {
			f.Add(cfg.Fixed, []byte(enc))
		}
	}
	models := map[bool]*nspk.Model{false: newModel(f, lowesBounds), true: newModel(f, fixed(lowesBounds))}
	f.Fuzz(func(t *testing.T, fix bool, data []byte) {
		m := models[fix]
		var s nspk.State
		if err := m.Decode(data, &s); err != nil {
			require.ErrorIs(t, err, nspk.ErrState)
			return
		}
		require.Equal(t, data, m.Encode(nil, &s), "a decoded state re-encodes to other bytes")
		for _, p := range m.Properties() {
			_ = p.State(&s)
		}
		for _, a := range m.Actions(&s, nil) {
			var next nspk.State
			m.Apply(&s, &a, &next)
			require.NoError(t, m.Decode(m.Encode(nil, &next), &nspk.State{}), "a successor of a decodable state is no state: %v", a)
		}
	})
}
