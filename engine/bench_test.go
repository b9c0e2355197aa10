package engine

import (
	"context"
	"testing"
)

// BenchmarkMergeAdds searches a model whose states are cheap to make, so
// that the merge, the part of a level the workers do not share, is much
// of the time: once with its adds one by one and once shared out among
// the workers (addInParallel), in the same run, so that their ratio is
// what sharing the adds gains. Run it with -cpu 2 or more: on one
// worker there is nothing to share.
func BenchmarkMergeAdds(b *testing.B) {
	model := cube{side: 160} // 4,096,000 states
	saved := parallelAddMin
	b.Cleanup(func() { parallelAddMin = saved })
	for _, c := range []struct {
		name string
		min  int
	}{{"one-by-one", 1 << 62}, {"parallel", saved}} {
		b.Run(c.name, func(b *testing.B) {
			parallelAddMin = c.min
			var states uint64
			for b.Loop() {
				r, err := Search(context.Background(), model, Config{})
				if err != nil {
					b.Fatal(err)
				}
				states += r.States
			}
			b.ReportMetric(float64(states)/b.Elapsed().Seconds(), "states/s")
		})
	}
}

// BenchmarkVisitedLookups looks random fingerprints up in a visited set
// of 32 million, half of them stored, as a search's later levels do: once
// with the set's tables on ordinary pages and once on huge pages where
// the system gives them (hugeTables), in the same run, so that their
// ratio is what the huge pages gain. Building each set takes seconds
// before the timer starts.
func BenchmarkVisitedLookups(b *testing.B) {
	const stored = 32 << 20
	saved := hugeTables
	b.Cleanup(func() { hugeTables = saved })
	for _, c := range []struct {
		name string
		huge bool
	}{{"small-pages", false}, {"huge-pages", true}} {
		b.Run(c.name, func(b *testing.B) {
			hugeTables = c.huge
			set := NewFPSet(stored)
			defer set.free()
			x := uint64(0x9e3779b97f4a7c15)
			next := func() uint64 {
				x ^= x << 13
				x ^= x >> 7
				x ^= x << 17
				return x
			}
			for range stored {
				set.Add(next())
			}
			x = 0x9e3779b97f4a7c15 // the same sequence again: every other lookup is of a stored one
			found := 0
			for i := 0; b.Loop(); i++ {
				fp := next()
				if i%2 == 1 {
					fp = ^fp
				}
				if set.Has(fp) {
					found++
				}
			}
			if found == 0 {
				b.Fatal("no stored fingerprint found")
			}
		})
	}
}
