package bfs_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/verishake/verishake/dist/beam/bfs"
	"github.com/verishake/verishake/dist/beam/internal/isolated"
	"github.com/verishake/verishake/engine"
)

// BenchmarkPrismAgainstEngine searches one model with the single-process
// explorer and on Prism in this process, one after the other in the same
// run, and reports each one's states/s, and for Prism the bytes its
// shuffles carried a state and the ratio of its rate to the engine's.
// VERISHAKE_BEAM_BENCH_PROFILE picks the profile (default patent: 13889
// states; hardened is 1.5 million).
func BenchmarkPrismAgainstEngine(b *testing.B) {
	isolated.Require(b)
	h := handshake(benchProfile(), nil)
	m, err := h.Model()
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	var engineRate float64
	b.Run("engine", func(b *testing.B) {
		var states uint64
		for b.Loop() {
			r, err := engine.Search(ctx, m, engine.Config{})
			if err != nil {
				b.Fatal(err)
			}
			states += r.States
		}
		engineRate = float64(states) / b.Elapsed().Seconds()
		b.ReportMetric(engineRate, "states/s")
	})
	for _, parts := range []int{1, 2} {
		b.Run(fmt.Sprintf("prism/partitions=%d", parts), func(b *testing.B) {
			var states uint64
			var shuffled int64
			for b.Loop() {
				r, err := bfs.Search(ctx, m, h.Spec(), bfs.Options{Runner: bfs.Prism{}, Work: b.TempDir(), Partitions: parts})
				if err != nil {
					b.Fatal(err)
				}
				states, shuffled = states+r.States, shuffled+r.Shuffled
			}
			rate := float64(states) / b.Elapsed().Seconds()
			b.ReportMetric(rate, "states/s")
			b.ReportMetric(float64(shuffled)/float64(states), "shuffled-B/state")
			if engineRate > 0 {
				b.ReportMetric(rate/engineRate, "x-engine")
			}
		})
	}
}

func benchProfile() string {
	if p := os.Getenv("VERISHAKE_BEAM_BENCH_PROFILE"); p != "" {
		return p
	}
	return "patent"
}
