package explore

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verishake/verishake/adversary"
	"github.com/verishake/verishake/protocol"
	"github.com/verishake/verishake/sim"
)

// The explorer's fast paths must not change what a world is or does: a
// world restored from its snapshot, or copied into another world's
// storage, behaves step for step as its clone does, and fingerprints
// the same.

// walk takes random enabled steps from a world of the default bounds (an
// explorer adversary with knowledge to snapshot) and calls f before each.
func walk(t testing.TB, seed uint64, f func(w *sim.World, s sim.Step)) {
	t.Helper()
	cfg := defaultConfig()
	cfg.Adversary.(*adversary.Explorer).SetBudget(3)
	if seed%2 == 1 {
		// Times that are not whole seconds.
		p := protocol.Hardened()
		p.Backoff, p.Lifetime = 1500*time.Millisecond, 7*time.Second+time.Nanosecond
		cfg.Handshake = p.MustCompile()
	}
	w, err := sim.NewWorld(cfg.Handshake, sim.WorldOptions{Clients: 2, Handshakes: 4, Commands: 2, Adversary: cfg.Adversary,
		Limits: sim.Limits{Drops: 2, Dups: 2, Corrupts: 1, Injects: 3, StartsPerClient: 2}})
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(seed, 1))
	var res [2]sim.Result
	for n := 0; n < 60; n++ {
		steps := w.Enabled(nil)
		if len(steps) == 0 {
			return
		}
		s := steps[rng.IntN(len(steps))]
		if s.Kind == sim.StepInject && rng.IntN(8) > 0 {
			// Mostly not: knowledge is what a spent adversary drops.
			s = steps[0]
		}
		f(w, s)
		applyStep(w, &s, &res)
	}
}

// sameFuture applies s and then the same steps to a and b and requires the
// same results and fingerprints all along.
func sameFuture(t *testing.T, a, b *sim.World, s sim.Step) {
	t.Helper()
	require.Equal(t, a.Fingerprint(), b.Fingerprint())
	require.Equal(t, a.Enabled(nil), b.Enabled(nil))
	for k := 0; k < 8; k++ {
		ra, erra := a.Apply(s)
		rb, errb := b.Apply(s)
		require.Equal(t, erra, errb)
		require.Equal(t, ra, rb)
		require.Equal(t, a.Counters, b.Counters)
		require.Equal(t, a.Fingerprint(), b.Fingerprint())
		next := a.Enabled(nil)
		require.Equal(t, next, b.Enabled(nil))
		if len(next) == 0 {
			return
		}
		s = next[k%len(next)]
	}
}

func TestSnapshotRestoresTheWorld(t *testing.T) {
	for seed := range uint64(20) {
		var into *sim.World
		walk(t, seed, func(w *sim.World, s sim.Step) {
			b, err := w.AppendSnapshot([]byte("prefix"))
			require.NoError(t, err)
			if into == nil {
				into = w.Clone()
			}
			rest, err := into.LoadSnapshot(append(b[len("prefix"):], "tail"...))
			require.NoError(t, err)
			require.Equal(t, "tail", string(rest))
			require.Equal(t, w.Now, into.Now)
			require.Equal(t, w.Clients, into.Clients)
			require.Equal(t, w.Server.Slots(), into.Server.Slots())
			require.Equal(t, w.Server.HalfOpen(), into.Server.HalfOpen())
			require.Equal(t, w.Counters, into.Counters)
			require.Equal(t, w.Adversary(), into.Adversary())
			for i := range int32(w.Slots()) {
				e, ok := w.Envelope(i)
				f, ok2 := into.Envelope(i)
				require.Equal(t, ok, ok2)
				require.Equal(t, e, f)
			}
			sameFuture(t, w.Clone(), into, s)
			// Restore the copy for the next round from the same bytes.
			_, err = into.LoadSnapshot(b[len("prefix"):])
			require.NoError(t, err)
		})
	}
}

func TestSnapshotRejectsWhatItCannotRestore(t *testing.T) {
	h := protocol.Hardened().MustCompile()
	w, err := sim.NewWorld(h, sim.WorldOptions{Clients: 1, Tokens: protocol.NewSeededTokens(1)})
	require.NoError(t, err)
	b, err := w.AppendSnapshot([]byte{7})
	require.ErrorIs(t, err, sim.ErrSnapshot)
	require.Equal(t, []byte{7}, b, "nothing appended")

	w, err = sim.NewWorld(h, sim.WorldOptions{Clients: 1})
	require.NoError(t, err)
	b, err = w.AppendSnapshot(nil)
	require.NoError(t, err)
	for n := range len(b) {
		_, err := w.Clone().LoadSnapshot(b[:n])
		require.ErrorIs(t, err, sim.ErrSnapshot, "a snapshot cut at %d bytes of %d", n, len(b))
	}
}

func TestCopyFromIsAClone(t *testing.T) {
	for seed := range uint64(20) {
		var into *sim.World
		walk(t, seed, func(w *sim.World, s sim.Step) {
			if into == nil {
				into = w.Clone()
			}
			c := w.Clone()
			into.CopyFrom(w)
			sameFuture(t, c, into, s)
			// The copy shares nothing: stepping it left w as it was.
			require.Equal(t, w.Clone().Fingerprint(), w.Fingerprint())
			c = w.Clone()
			into.CopyFrom(w)
			sameFuture(t, w.Clone(), into, s)
			require.Equal(t, c.Fingerprint(), w.Fingerprint())
			require.Equal(t, c.Adversary(), w.Adversary())
			require.Equal(t, c.Clients, w.Clients)
		})
	}
}

func TestEachSlotVisitsSlotsInRegIDOrder(t *testing.T) {
	h := protocol.Hardened().MustCompile()
	s := protocol.NewServer()
	tokens := &protocol.SymbolicTokens{}
	for _, n := range []int{0, 1, 3, 7, 20} {
		for id := range protocol.RegID(n) {
			// RegIDs out of order, so that table order is not RegID order.
			s.Handle(h, 0, protocol.Message{Kind: protocol.Hello, RegID: (id*7919)%97 + 1, Tc: protocol.Symbolic(uint64(id) + 1)}, tokens)
		}
		got := []protocol.Slot{}
		s.EachSlot(func(sl *protocol.Slot) { got = append(got, *sl) })
		require.Equal(t, s.Slots(), got)
		require.Len(t, got, s.Len())
		require.True(t, slices.IsSortedFunc(got, func(a, b protocol.Slot) int { return int(a.RegID) - int(b.RegID) }))
		c := protocol.NewServer()
		c.CopyFrom(s)
		require.Equal(t, s.Slots(), c.Slots())
		require.Equal(t, s.HalfOpen(), c.HalfOpen())
	}
}

// opaque is an explorer adversary the world cannot snapshot.
type opaque struct{ *adversary.Explorer }

func (o opaque) Clone() any { return opaque{o.Explorer.Clone().(*adversary.Explorer)} }

// TestAWorldWithoutASnapshotIsRefused: the engine keeps its frontier
// encoded, so a world it cannot encode (an adversary of its own) is a
// configuration error that says so, not a search of something else.
func TestAWorldWithoutASnapshotIsRefused(t *testing.T) {
	cfg := Config{Handshake: protocol.Hardened().MustCompile(), Clients: 1, Sessions: 1, Injects: 1,
		Adversary: opaque{adversary.NewExplorer(adversary.Default(), 1, 2)}}
	_, err := Run(context.Background(), cfg)
	require.ErrorIs(t, err, ErrConfig)
	require.ErrorIs(t, err, sim.ErrSnapshot)
	require.Contains(t, err.Error(), "explore.opaque")
}

// TestFingerprintAfterIsTheFingerprintAfter: the explorer takes a drop's
// or a duplication's fingerprint from FingerprintAfter and builds the
// world only for a new one, so it must be the world's fingerprint after
// the step, and nothing for any other step.
func TestFingerprintAfterIsTheFingerprintAfter(t *testing.T) {
	checked := 0
	var names sim.Names
	for seed := range uint64(20) {
		walk(t, seed, func(w *sim.World, _ sim.Step) {
			for _, s := range w.Enabled(nil) {
				fp, ok := w.FingerprintAfter(&s)
				if s.Kind != sim.StepDrop && s.Kind != sim.StepDup {
					require.False(t, ok, "%v", s)
					_, ok = w.FingerprintNamedAfter(&names, &s, nil)
					require.False(t, ok, "%v", s)
					continue
				}
				require.True(t, ok, "%v", s)
				c := w.Clone()
				_, err := c.Apply(s)
				require.NoError(t, err)
				require.Equal(t, c.Fingerprint(), fp, "%v", s)
				// The same with tokens renamed, and state of the caller's.
				extra := func() uint64 { return 7 }
				named, ok := w.FingerprintNamedAfter(&names, &s, extra)
				require.True(t, ok)
				require.Equal(t, c.FingerprintNamed(&names, extra), named, "%v", s)
				checked++
				stale := s
				stale.ID++
				_, ok = w.FingerprintAfter(&stale)
				require.False(t, ok, "a step naming a message no longer there")
				_, ok = w.FingerprintNamedAfter(&names, &stale, nil)
				require.False(t, ok)
			}
		})
	}
	require.Greater(t, checked, 100)
}

// TestKeptFingerprintIsTheFingerprint: a world fingerprinted once keeps
// the sums of its slots' and messages' hashes up to date step by step
// (and CopyFrom carries them); they must always be what hashing the
// world from scratch gives (Clone drops them).
func TestKeptFingerprintIsTheFingerprint(t *testing.T) {
	steps := 0
	for seed := range uint64(40) {
		var cp *sim.World
		walk(t, seed, func(w *sim.World, s sim.Step) {
			fresh := w.Clone().Fingerprint()
			require.Equal(t, fresh, w.Fingerprint(), "seed %d, before %v", seed, s)
			if cp == nil {
				cp = w.Clone()
			}
			cp.CopyFrom(w)
			require.Equal(t, fresh, cp.Fingerprint(), "seed %d: a copy", seed)
			steps++
		})
	}
	require.Greater(t, steps, 1000)
}

// FuzzLoadSnapshot: any bytes either load or fail with ErrSnapshot, never
// panic; the seeds are snapshots of worlds along a walk.
func FuzzLoadSnapshot(f *testing.F) {
	var into *sim.World
	walk(f, 1, func(w *sim.World, _ sim.Step) {
		if into == nil {
			into = w.Clone()
		}
		b, err := w.AppendSnapshot(nil)
		if err == nil {
			f.Add(b)
		}
	})
	f.Fuzz(func(t *testing.T, b []byte) {
		w := into.Clone()
		if _, err := w.LoadSnapshot(b); err != nil {
			require.ErrorIs(t, err, sim.ErrSnapshot)
			return
		}
		// What loaded is a world: it fingerprints and snapshots again. (Not
		// Enabled: an adversary that knows thousands of tokens has
		// millions of moves, which is slow, not wrong.)
		w.Fingerprint()
		_, err := w.AppendSnapshot(nil)
		require.NoError(t, err)
	})
}
