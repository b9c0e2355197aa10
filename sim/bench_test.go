package sim

import (
	"testing"
	"time"
)

// BenchmarkSimHandshakes runs hardened with 10% loss on both channels and
// 1000 clients, b.N handshakes in one run, and reports simulated
// handshakes per wall-clock second (the targets of docs/performance.md: ≥ 300k/s on one core).
func BenchmarkSimHandshakes(b *testing.B) {
	cfg := DefaultConfig()
	cfg.Upstream.Loss, cfg.Push.Loss = 0.1, 0.1
	cfg.Handshakes = max(b.N, 1000)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	rep, err := Run(cfg, RunOptions{})
	elapsed := time.Since(start)
	if err != nil {
		b.Fatal(err)
	}
	if len(rep.Violations) > 0 {
		b.Fatalf("violation: %v", rep.Violations[0])
	}
	b.ReportMetric(float64(rep.Handshakes)/elapsed.Seconds(), "handshakes/s")
	b.ReportMetric(float64(rep.Steps)/float64(rep.Handshakes), "steps/handshake")
}
