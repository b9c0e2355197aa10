package main

import (
	"context"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/verishake/verishake/protocol"
)

// flood sends forged Hellos at once (random RegIDs no device holds, more
// than the half-open cap) to a server on bbolt, with legitimate handshakes
// alongside in three rounds: the first starts with the flood, and must
// verify although the forged sessions fill the cap for their lifetime (a
// Hello at the full cap evicts the oldest forged session once it is a
// second old, the device's first retransmission timeout); the later rounds
// start as those sessions expire, and must verify too. It reports how long
// the half-open count stayed near the cap: about the session lifetime.
func flood(ctx context.Context, e *env, path string, forged, legit int) ([]row, error) {
	const phase = "forged-Hello flood (bbolt)"
	srv, err := newServer(e, "flood", path)
	if err != nil {
		return nil, err
	}
	if err := srv.start(); err != nil {
		return nil, err
	}
	defer func() { _ = srv.stop() }()
	cl := newClient(e.sink, 30_000_000)
	p := cl.h.Profile()

	start := time.Now()
	var accepted, capped atomic.Int64
	var fw sync.WaitGroup
	ids := make(chan protocol.RegID)
	for range 32 {
		fw.Go(func() {
			for id := range ids {
				switch cl.post(srv.url(), protocol.Message{Kind: protocol.Hello, RegID: id, Tc: protocol.Token{1, 2, 3}}) {
				case http.StatusAccepted:
					accepted.Add(1)
				case http.StatusTooManyRequests:
					capped.Add(1)
				}
			}
		})
	}
	for range forged {
		ids <- protocol.RegID(1<<62 | rand.Uint64N(1<<61)) // far from every client's RegIDs
	}
	close(ids)
	fw.Wait()

	// The legitimate rounds, and a watch on the half-open count.
	perRound := []int{legit / 3, legit / 3, legit - 2*(legit/3)}
	var verified [3]atomic.Int64
	var lw sync.WaitGroup
	for round, n := range perRound {
		lw.Go(func() {
			if round > 0 {
				// A round begins a little after the forged sessions' lifetime.
				wait := time.Until(start.Add(p.Lifetime + time.Duration(round)*2*time.Second))
				select {
				case <-time.After(wait):
				case <-ctx.Done():
					return
				}
			}
			var hw sync.WaitGroup
			for range n {
				hw.Go(func() {
					if c := cl.handshake(ctx, srv.url()); c.State == protocol.ClientVerified {
						verified[round].Add(1)
					}
				})
			}
			hw.Wait()
		})
	}
	atCapUntil := time.Duration(-1)
	capacity := float64(p.HalfOpenCap)
	for time.Since(start) < p.Lifetime+30*time.Second {
		half, err := srv.metric("verishake_half_open_sessions")
		if err != nil {
			return nil, err
		}
		if half < capacity-float64(legit) {
			atCapUntil = time.Since(start)
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	lw.Wait()
	later := verified[1].Load() + verified[2].Load()
	freed := atCapUntil >= 0 && atCapUntil < p.Lifetime+5*time.Second
	return []row{
		measured(phase, "forged Hellos: accepted / refused at the cap", "%d / %d of %d (cap %d)", accepted.Load(), capped.Load(), forged, p.HalfOpenCap),
		must(phase, "half-open count held near the cap for", freed, "%v (session lifetime %v)", atCapUntil.Round(100*time.Millisecond), p.Lifetime),
		must(phase, "legitimate handshakes verified, started with the flood", verified[0].Load()*10 >= int64(perRound[0])*9,
			"%d of %d", verified[0].Load(), perRound[0]),
		must(phase, "legitimate handshakes verified, started after the forged lifetime", later == int64(perRound[1]+perRound[2]),
			"%d of %d", later, perRound[1]+perRound[2]),
	}, nil
}
