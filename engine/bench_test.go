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
