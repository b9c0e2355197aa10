package transport

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	"github.com/verishake/verishake/protocol"
)

// slotBySlot hides a store's BatchSaver, so that the server expires
// through it one durable Save per session, as it did before batching.
type slotBySlot struct{ Store }

// BenchmarkBoltExpiry expires 64 half-open sessions per op on bbolt, in
// one batch (the server's way) and slot by slot (one durable write each),
// and reports expiries per second; the ratio is what batching buys.
//
//	go test -run '^$' -bench BoltExpiry -benchtime 20x ./transport/
func BenchmarkBoltExpiry(b *testing.B) {
	const perOp = 64
	for _, mode := range []string{"batch", "slot-by-slot"} {
		b.Run("mode="+mode, func(b *testing.B) {
			bs, err := OpenBoltStore(filepath.Join(b.TempDir(), "bench.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer bs.Close()
			var store Store = bs
			if mode == "slot-by-slot" {
				store = slotBySlot{bs}
			}
			clock := newFakeClock() // still: only the benchmark expires
			p := protocol.Hardened()
			p.HalfOpenCap = 0
			srv, err := NewServer(ServerConfig{Handshake: p.MustCompile(), Store: store, Now: clock.Now,
				Pusher: PusherFunc(func(context.Context, Push) error { return nil })})
			if err != nil {
				b.Fatal(err)
			}
			defer srv.Close()
			next := protocol.RegID(1)
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				ids := make([]protocol.RegID, perOp)
				var wg sync.WaitGroup
				for i := range ids {
					ids[i] = next
					next++
					wg.Go(func() {
						if _, err := srv.Handle(context.Background(), protocol.Message{Kind: protocol.Hello, RegID: ids[i], Tc: protocol.Token{1}}, 0); err != nil {
							b.Error(err)
						}
					})
				}
				wg.Wait()
				clock.Advance(p.Lifetime)
				b.StartTimer()
				srv.expireBatch(ids)
			}
			b.StopTimer()
			if srv.HalfOpen() != 0 {
				b.Fatalf("%d sessions left half-open", srv.HalfOpen())
			}
			b.ReportMetric(float64(b.N*perOp)/b.Elapsed().Seconds(), "expiries/s")
		})
	}
}
