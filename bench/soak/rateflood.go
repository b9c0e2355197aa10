package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/verishake/verishake/protocol"
)

// rateFlood sends forged Hellos at a steady rate (random RegIDs no device
// holds, so that none is ever confirmed) to a fresh server on bbolt for
// d, and runs legitimate handshakes alongside once the forged sessions
// have had time to fill the half-open cap: one started at even intervals
// until a handshake's wait before the end, each given that long
// (legitWait) to verify while the flood goes on. It reports the share
// that verified, and the rate the flood reached (the driver shares the
// machine's cores with the server, so it may fall short of the rate asked).
func rateFlood(ctx context.Context, e *env, path string, rate int, d time.Duration, legit int, base protocol.RegID) ([]row, error) {
	const legitWait = 10 * time.Second
	phase := fmt.Sprintf("forged-Hello flood at %d/s (bbolt)", rate)
	srv, err := newServer(e, fmt.Sprintf("flood-%d", rate), path)
	if err != nil {
		return nil, err
	}
	if err := srv.start(); err != nil {
		return nil, err
	}
	defer func() { _ = srv.stop() }()
	cl := newClient(e.sink, base)
	p := cl.h.Profile()
	fill := time.Duration(float64(p.HalfOpenCap) / float64(rate) * float64(time.Second))
	if fill+2*time.Second+legitWait > d {
		return nil, fmt.Errorf("a flood of %v at %d/s leaves no time for legitimate handshakes after the cap fills (%v)", d, rate, fill)
	}

	floodCtx, stopFlood := context.WithTimeout(ctx, d)
	defer stopFlood()
	start := time.Now()
	var sent, accepted, capped, other atomic.Int64
	ids := make(chan protocol.RegID, 64)
	var fw sync.WaitGroup
	for range 64 {
		fw.Go(func() {
			for id := range ids {
				sent.Add(1)
				switch cl.post(srv.url(), protocol.Message{Kind: protocol.Hello, RegID: id, Tc: protocol.Token{1, 2, 3}}) {
				case http.StatusAccepted:
					accepted.Add(1)
				case http.StatusTooManyRequests:
					capped.Add(1)
				default:
					other.Add(1)
				}
			}
		})
	}
	fw.Go(func() { // the pacer: n Hellos queued by n/rate seconds in
		defer close(ids)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		queued := 0
		for {
			select {
			case <-floodCtx.Done():
				return
			case <-tick.C:
			}
			for due := int(time.Since(start).Seconds() * float64(rate)); queued < due; queued++ {
				select {
				case ids <- protocol.RegID(1<<62 | rand.Uint64N(1<<61)):
				case <-floodCtx.Done():
					return
				}
			}
		}
	})

	// The legitimate handshakes, from 2 s after the cap is full until
	// legitWait before the flood ends.
	first, last := fill+2*time.Second, d-legitWait
	var verified atomic.Int64
	var lw sync.WaitGroup
	for i := range legit {
		at := first + time.Duration(i)*(last-first)/time.Duration(max(1, legit-1))
		select {
		case <-time.After(time.Until(start.Add(at))):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		lw.Go(func() {
			hctx, cancel := context.WithTimeout(floodCtx, legitWait)
			defer cancel()
			if c := cl.handshake(hctx, srv.url()); c.State == protocol.ClientVerified {
				verified.Add(1)
			}
		})
	}
	lw.Wait()
	<-floodCtx.Done() // the flood runs its whole length, whatever the handshakes did
	evicted, err := srv.metric(`verishake_handshakes_total{outcome="evicted"}`)
	if err != nil {
		evicted = -1 // a server without eviction does not export the series
	}
	stopFlood()
	fw.Wait()
	elapsed := time.Since(start)
	share := float64(verified.Load()) / float64(legit)
	evictions := "none exported"
	if evicted >= 0 {
		evictions = fmt.Sprintf("%.0f", evicted)
	}
	return []row{
		measured(phase, "forged Hellos sent, rate reached", "%d in %v: %.0f/s (asked %d/s)", sent.Load(), elapsed.Round(100*time.Millisecond), float64(sent.Load())/elapsed.Seconds(), rate),
		measured(phase, "forged Hellos: accepted / refused at the cap / other; sessions evicted", "%d / %d / %d; %s", accepted.Load(), capped.Load(), other.Load(), evictions),
		must(phase, "legitimate handshakes verified within 10 s, started once the cap was full", share >= 0.9,
			"%d of %d (%.0f%%)", verified.Load(), legit, 100*share),
	}, nil
}
