package engine

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestFingerprintSet(t *testing.T) {
	s := NewFPSet(0)
	for i := range uint64(10000) {
		require.True(t, s.Add(i*0x9e3779b97f4a7c15))
	}
	for i := range uint64(10000) {
		require.False(t, s.Add(i*0x9e3779b97f4a7c15))
		require.True(t, s.Has(i*0x9e3779b97f4a7c15))
	}
	require.False(t, s.Has(12345))
	require.Equal(t, 10000, s.Len())
	require.LessOrEqual(t, s.Bytes()/s.Len(), 16, "at most 16 bytes a state")
}

// TestShardsAddInAnyOrderAcrossShards adds the same fingerprints to two
// sets, one by Add and one by addToShard from a goroutine per half of the
// shards, and requires the same sets: what is new, the size and the bytes.
func TestShardsAddInAnyOrderAcrossShards(t *testing.T) {
	fps := make([]uint64, 200_000)
	x := uint64(1)
	for i := range fps {
		x = x*6364136223846793005 + 1442695040888963407
		fps[i] = x
		if i%3 == 0 && i > 0 {
			fps[i] = fps[i/2] // repeats, to be found not new
		}
	}
	fps[7] = 0 // stored as 1, in shard 0
	one, shared := NewFPSet(16), NewFPSet(16)
	want := make([]bool, len(fps))
	for i, fp := range fps {
		want[i] = one.Add(fp)
	}
	got := make([]bool, len(fps))
	var wg sync.WaitGroup
	var added, grew [2]int
	for g := range 2 {
		wg.Go(func() {
			for i, fp := range fps {
				if shardOf(fp)%2 == g {
					var n int
					got[i], n = shared.addToShard(fp)
					grew[g] += n
					if got[i] {
						added[g]++
					}
				}
			}
		})
	}
	wg.Wait()
	require.Equal(t, want, got)
	require.Equal(t, one.Len(), added[0]+added[1])
	require.Equal(t, one.Bytes(), NewFPSet(16).Bytes()+grew[0]+grew[1])
	for _, fp := range fps {
		require.True(t, shared.Has(fp))
	}
}
