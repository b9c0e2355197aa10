package explore

import (
	"context"
	"testing"

	"github.com/verishake/verishake/adversary"
	"github.com/verishake/verishake/protocol"
	"github.com/verishake/verishake/sim"
)

// defaultConfig is `verishake check`'s default bounds on hardened: one
// honest client and the insider, one handshake, one loss, one duplicate,
// one injection, one retransmission, one command, AGREE checked.
func defaultConfig() Config {
	p := protocol.Hardened()
	p.Retries = 1
	return Config{
		Handshake: p.MustCompile(), Clients: 1, Sessions: 1, Commands: 1,
		Losses: 1, Dups: 1, Injects: 1, Agree: true,
		Adversary: adversary.NewExplorer(adversary.Default(), 1, 2),
	}
}

// BenchmarkExplore explores the default bounds once per iteration and
// reports states/s and the bytes per stored state of the visited set.
func BenchmarkExplore(b *testing.B) {
	var states uint64
	var bps float64
	b.ReportAllocs()
	for b.Loop() {
		r, err := Run(context.Background(), defaultConfig())
		if err != nil {
			b.Fatal(err)
		}
		if !r.Complete || len(r.Counterexamples) > 0 {
			b.Fatalf("hardened at default bounds: complete %v, %d counterexamples", r.Complete, len(r.Counterexamples))
		}
		states += r.States
		bps = r.BytesPerState
	}
	b.ReportMetric(float64(states)/b.Elapsed().Seconds(), "states/s")
	b.ReportMetric(bps, "bytes/state")
	b.ReportMetric(float64(states)/float64(b.N), "states/op")
}

// BenchmarkExploreOnDisk is BenchmarkExplore with the levels and parent
// records in files and a 1 GiB budget, as `check` runs by default: its
// ratio to BenchmarkExplore is what the disk costs.
func BenchmarkExploreOnDisk(b *testing.B) {
	var states uint64
	var disk int64
	for b.Loop() {
		cfg := defaultConfig()
		cfg.WorkDir, cfg.MemoryBudget = b.TempDir(), 1<<30
		r, err := Run(context.Background(), cfg)
		if err != nil {
			b.Fatal(err)
		}
		if !r.Complete || len(r.Counterexamples) > 0 {
			b.Fatalf("hardened at default bounds: complete %v (%s), %d counterexamples", r.Complete, r.Stopped, len(r.Counterexamples))
		}
		states += r.States
		disk = max(disk, r.Disk)
	}
	b.ReportMetric(float64(states)/b.Elapsed().Seconds(), "states/s")
	b.ReportMetric(float64(disk)/float64(states/uint64(b.N)), "disk-bytes/state")
}

// sampleWorlds walks the default bounds breadth-first for a few levels and
// returns the worlds it met: realistic inputs for the micro-benchmarks.
func sampleWorlds(tb testing.TB, n int) []*sim.World {
	cfg := defaultConfig()
	cfg.Adversary.(interface{ SetBudget(int) }).SetBudget(cfg.Injects)
	w, err := sim.NewWorld(cfg.Handshake, sim.WorldOptions{Clients: 1, Handshakes: 1, Commands: 1, Adversary: cfg.Adversary,
		Limits: sim.Limits{Drops: 1, Dups: 1, Injects: 1, StartsPerClient: 1}})
	if err != nil {
		tb.Fatal(err)
	}
	var res [2]sim.Result
	out, level := []*sim.World{w}, []*sim.World{w}
	for len(out) < n && len(level) > 0 {
		var next []*sim.World
		for _, w := range level {
			for _, s := range w.Enabled(nil) {
				c := w.Clone()
				applyStep(c, &s, &res)
				next = append(next, c)
			}
		}
		out, level = append(out, next...), next
	}
	return out[len(out)-min(n, len(out)):]
}

// BenchmarkWorldOps times the per-transition and per-state operations of
// the explorer on sample worlds: copy, fingerprint, snapshot, load.
func BenchmarkWorldOps(b *testing.B) {
	ws := sampleWorlds(b, 4096)
	dst := ws[0].Clone()
	var buf []byte
	b.Run("CopyFrom", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			dst.CopyFrom(ws[i%len(ws)])
		}
	})
	b.Run("Fingerprint", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			dst.CopyFrom(ws[i%len(ws)])
			dst.Fingerprint()
		}
	})
	b.Run("AppendSnapshot", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			buf, _ = ws[i%len(ws)].AppendSnapshot(buf[:0])
		}
	})
	snaps := make([][]byte, len(ws))
	for i, w := range ws {
		snaps[i], _ = w.AppendSnapshot(nil)
	}
	b.Run("LoadSnapshot", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, err := dst.LoadSnapshot(snaps[i%len(snaps)]); err != nil {
				b.Fatal(err)
			}
		}
	})
}
