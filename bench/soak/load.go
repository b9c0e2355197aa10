package main

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/verishake/verishake/protocol"
	"github.com/verishake/verishake/transport"
)

// idleAfterLoad is how long the server runs idle after a load on bbolt
// before it is stopped and its file counted: the sessions of the load's
// first seconds are past their lifetime by then, and expiry must have
// removed them.
const idleAfterLoad = 10 * time.Second

// sustainedLoad runs workers handshakes at a time, each under a fresh
// RegID, against a server on the given store (memory when path is empty)
// for d, and reports the rate, the latency and the failures; on bbolt it
// then lets the server idle and counts the sessions left in the file past
// their lifetime.
func sustainedLoad(ctx context.Context, e *env, path string, d time.Duration, workers int) ([]row, error) {
	phase, name := "sustained load (memory)", "load-memory"
	if path != "" {
		phase, name = "sustained load (bbolt)", "load-bbolt"
	}
	srv, err := newServer(e, name, path)
	if err != nil {
		return nil, err
	}
	if err := srv.start(); err != nil {
		return nil, err
	}
	cl := newClient(e.sink, 10_000_000)
	if path != "" {
		cl.next.Store(20_000_000)
	}
	runCtx, stop := context.WithTimeout(ctx, d)
	defer stop()
	var mu sync.Mutex
	var latencies []time.Duration
	failed := 0
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Go(func() {
			for runCtx.Err() == nil {
				t0 := time.Now()
				c := cl.handshake(runCtx, srv.url())
				mu.Lock()
				switch c.State {
				case protocol.ClientVerified:
					latencies = append(latencies, time.Since(t0))
				case protocol.ClientFailed:
					failed++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	storeFailures, err := srv.metric(`verishake_store_failures_total{op="save"}`)
	if err != nil {
		return nil, err
	}
	slices.Sort(latencies)
	pct := func(p float64) time.Duration {
		if len(latencies) == 0 {
			return 0
		}
		return latencies[int(p*float64(len(latencies)-1))]
	}
	rows := []row{
		measured(phase, "handshakes verified", "%d in %v: %.0f/s with %d in flight", len(latencies), elapsed.Round(time.Second),
			float64(len(latencies))/elapsed.Seconds(), workers),
		measured(phase, "handshake latency p50 / p99", "%v / %v", pct(0.50).Round(time.Microsecond), pct(0.99).Round(time.Microsecond)),
		must(phase, "handshakes failed", failed == 0, "%d", failed),
		must(phase, "store save failures", storeFailures == 0, "%v", storeFailures),
	}
	if path == "" {
		return rows, srv.stop()
	}
	time.Sleep(idleAfterLoad)
	if err := srv.stop(); err != nil {
		return rows, err
	}
	store, err := transport.OpenBoltStore(path)
	if err != nil {
		return rows, err
	}
	defer store.Close()
	// A second of slack: the timer's last batch may be in flight at stop.
	cutoff := protocol.Time(time.Now().Add(-time.Second).UnixNano())
	stored, expired := 0, 0
	if err := store.Range(func(sl protocol.Slot) bool {
		stored++
		if sl.Deadline() < cutoff {
			expired++
		}
		return true
	}); err != nil {
		return rows, err
	}
	return append(rows, must(phase, "sessions past their lifetime left in the file", expired == 0,
		"%d of %d stored, %v after the load", expired, stored, idleAfterLoad)), nil
}
