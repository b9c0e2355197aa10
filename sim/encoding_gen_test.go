package sim

import (
	"bytes"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verishake/verishake/adversary"
	"github.com/verishake/verishake/protocol"
	"github.com/verishake/verishake/sim/internal/walkgen"
)

// TestEncodingGenIsCurrent: encoding_gen.go is what walkgen makes of the
// codec's methods as they are now, so that a field added to a walk is in
// the forms the explorer uses.
func TestEncodingGenIsCurrent(t *testing.T) {
	sources := map[string][]byte{}
	for _, name := range walkgen.Sources {
		b, err := os.ReadFile(name)
		require.NoError(t, err)
		sources[name] = b
	}
	want, err := walkgen.Generate(sources)
	require.NoError(t, err)
	got, err := os.ReadFile(walkgen.Output)
	require.NoError(t, err)
	require.True(t, bytes.Equal(want, got), "%s is stale: run go generate ./sim", walkgen.Output)
}

// TestGeneratedFormsAreTheSource: along random walks, each generated form
// gives what the source codec, its op a field, gives: the same hashes
// (plain, renamed, after a drop or a duplication), the same snapshot
// bytes, and the same world read back.
func TestGeneratedFormsAreTheSource(t *testing.T) {
	var names Names
	checked := 0
	for seed := range uint64(10) {
		x := adversary.NewExplorer(adversary.Default(), 2, 3)
		x.SetBudget(3)
		w := newTestWorld(t, protocol.Hardened(), WorldOptions{Clients: 2, Handshakes: 4, Commands: 2, Adversary: x,
			Limits: Limits{Drops: 2, Dups: 2, Corrupts: 1, Injects: 3, StartsPerClient: 2}})
		into := w.Clone()
		rng := rand.New(rand.NewPCG(seed, 2))
		for range 40 {
			steps := w.Enabled(nil)
			if len(steps) == 0 {
				break
			}
			for _, s := range steps {
				a, ok := w.networkOnly(&s)
				if !ok {
					continue
				}
				src := codec{mode: opHash, h: fp{h: fpSeed}, now: w.Now, after: &a}
				src.world(w)
				gen := hashCodec{h: fp{h: fpSeed}, now: w.Now, after: &a}
				gen.world(w)
				require.Equal(t, src.sum(), gen.sum(), "seed %d: after %v", seed, s)
			}
			names.Reset(w)
			src := codec{mode: opHash, h: fp{h: fpSeed}, now: w.Now, names: &names}
			src.world(w)
			names.Reset(w)
			gen := hashCodec{h: fp{h: fpSeed}, now: w.Now, names: &names}
			gen.world(w)
			require.Equal(t, src.sum(), gen.sum(), "seed %d: renamed", seed)

			put := codec{mode: opWrite}
			put.world(w)
			snap, err := w.AppendSnapshot(nil)
			require.NoError(t, err)
			require.Equal(t, snap, put.b, "seed %d: snapshot", seed)
			get := codec{mode: opRead, r: snapReader{b: snap}}
			get.world(into)
			require.False(t, get.r.bad, "seed %d", seed)
			require.NoError(t, get.err)
			assertSameWorld(t, w, into, "read by the source codec")

			s := steps[rng.IntN(len(steps))]
			apply(t, w, s)
			checked++
		}
	}
	require.Greater(t, checked, 100)
}
