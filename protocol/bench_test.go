package protocol_test

import (
	"testing"

	. "github.com/verishake/verishake/protocol"
)

// BenchmarkHandshake runs complete hardened handshakes through both
// machines in memory, without the codec: Hello, Validation, Confirm1,
// Confirm2. RegIDs cycle through a pool, so after the first round each
// handshake re-keys a verified slot, as a long-running service would.
func BenchmarkHandshake(b *testing.B) { benchHandshakes(b, Hardened().MustCompile()) }

// benchHandshakes runs whole handshakes of h in memory, as BenchmarkHandshake
// describes.
func benchHandshakes(b *testing.B, h *Handshake) {
	tokens := NewSeededTokens(1)
	s := NewServer()
	const pool = 1024
	clients := make([]Client, pool)
	for i := range clients {
		clients[i] = NewClient(RegID(i + 1))
	}
	b.ReportAllocs()
	var now Time
	for i := 0; b.Loop(); i++ {
		c := &clients[i%pool]
		now += 1000
		v := s.Handle(h, now, c.Start(h, now, tokens).Send, tokens)
		c2 := s.Handle(h, now, c.Handle(h, now, v.Send).Send, tokens)
		if out := c.Handle(h, now, c2.Send); out.Err != nil || c.State != ClientVerified {
			b.Fatalf("handshake %d: %v", i, out.Err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "handshakes/s")
}
