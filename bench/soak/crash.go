package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/verishake/verishake/protocol"
	"github.com/verishake/verishake/transport"
)

// verifiedSession is a handshake the client saw verified: the server had
// stored its step before it pushed the Confirm2 that told the client.
type verifiedSession struct {
	id protocol.RegID
	ts protocol.Token
	at time.Time
}

// crashCampaign runs workers handshakes at a time against a server on
// bbolt, kills it with SIGKILL at random moments until target handshakes
// have verified, and after each kill checks the file offline: bbolt's own
// consistency check, and every session a client saw verified (and whose
// lifetime is not over) is there, verified, with the client's Ts. At the
// end it replays every verified session's Confirm1 to the restarted
// server: each is re-answered and none verifies anything again. The
// function it returns, called once the sessions' lifetime is over (after
// the other phases), restarts the server on the same file and replays them
// all again: every one must be refused.
func crashCampaign(ctx context.Context, e *env, path string, target, workers int, killEvery time.Duration) (rows []row, late func() ([]row, error), err error) {
	const phase = "crash campaign (bbolt)"
	srv, err := newServer(e, "crash", path)
	if err != nil {
		return nil, nil, err
	}
	if err := srv.start(); err != nil {
		return nil, nil, err
	}
	cl := newClient(e.sink, 1_000_000)
	lifetime := cl.h.Profile().Lifetime

	var mu sync.Mutex
	var verified []verifiedSession
	failed := 0
	runCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for runCtx.Err() == nil {
				c := cl.handshake(runCtx, srv.url())
				mu.Lock()
				switch c.State {
				case protocol.ClientVerified:
					verified = append(verified, verifiedSession{c.RegID, c.Ts, time.Now()})
				case protocol.ClientFailed:
					failed++
				}
				mu.Unlock()
			}
		})
	}
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(verified) }

	kills, lost, checkErrs, checked := 0, 0, 0, 0
	budget := time.Now().Add(4 * time.Minute)
	var campaignErr error
	for count() < target && time.Now().Before(budget) {
		time.Sleep(killEvery/5 + rand.N(killEvery*4/5))
		if err := srv.kill(); err != nil {
			campaignErr = err
			break
		}
		kills++
		mu.Lock()
		snapshot := append([]verifiedSession(nil), verified...)
		mu.Unlock()
		n, l, ce, err := checkFile(path, snapshot, lifetime)
		checked, lost, checkErrs = checked+n, lost+l, checkErrs+ce
		if err != nil {
			campaignErr = err
			break
		}
		if err := srv.start(); err != nil {
			campaignErr = err
			break
		}
	}
	stop()
	wg.Wait()
	if campaignErr != nil {
		return nil, nil, campaignErr
	}
	if err := srv.kill(); err != nil {
		return nil, nil, err
	}
	kills++
	n, l, ce, err := checkFile(path, verified, lifetime)
	checked, lost, checkErrs = checked+n, lost+l, checkErrs+ce
	if err != nil {
		return nil, nil, err
	}
	if err := srv.start(); err != nil {
		return nil, nil, err
	}

	// Replays against a fresh process, whose counters start at zero.
	live, liveRefused := 0, 0
	for _, v := range verified {
		if time.Since(v.at) < lifetime-2*time.Second {
			live++
			if cl.post(srv.url(), protocol.Message{Kind: protocol.Confirm1, RegID: v.id, Ts: v.ts}) != http.StatusAccepted {
				liveRefused++
			}
		}
	}
	reverified, err := srv.metric(`verishake_handshakes_total{outcome="verified"}`)
	if err != nil {
		return nil, nil, err
	}
	if err := srv.stop(); err != nil {
		return nil, nil, err
	}
	late = func() ([]row, error) {
		if wait := time.Until(verified[len(verified)-1].at.Add(lifetime + 2*time.Second)); wait > 0 {
			time.Sleep(wait)
		}
		if err := srv.start(); err != nil {
			return nil, err
		}
		accepted := 0
		for _, v := range verified {
			if cl.post(srv.url(), protocol.Message{Kind: protocol.Confirm1, RegID: v.id, Ts: v.ts}) != http.StatusConflict {
				accepted++
			}
		}
		reverified, err := srv.metric(`verishake_handshakes_total{outcome="verified"}`)
		if err != nil {
			return nil, err
		}
		return []row{must(phase, "Confirm1 replays past the lifetime not refused", accepted == 0 && reverified == 0,
			"%d of %d (%v verified)", accepted, len(verified), reverified)}, srv.stop()
	}
	return []row{
		must(phase, "handshakes verified while killing the server", len(verified) >= target, "%d (target %d), %d failed", len(verified), target, failed),
		measured(phase, "kill -9 and restarts", "%d", kills),
		must(phase, "verified sessions lost across kills", lost == 0, "%d of %d checked", lost, checked),
		must(phase, "bbolt check errors", checkErrs == 0, "%d", checkErrs),
		must(phase, "Confirm1 replays that verified again", reverified == 0 && liveRefused == 0, "%v of %d replays of live sessions (%d not re-answered)", reverified, live, liveRefused),
	}, late, nil
}

// checkFile opens the store of a killed server: bbolt's consistency check
// over every page, then each session of vs still inside its lifetime must
// be stored verified with its client's Ts. It returns the sessions
// checked, those lost and the check's errors.
func checkFile(path string, vs []verifiedSession, lifetime time.Duration) (checked, lost, checkErrs int, err error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		return 0, 0, 0, fmt.Errorf("open %s after a kill: %w", path, err)
	}
	err = db.View(func(tx *bolt.Tx) error {
		for range tx.Check() {
			checkErrs++
		}
		return nil
	})
	_ = db.Close()
	if err != nil {
		return 0, 0, 0, err
	}
	store, err := transport.OpenBoltStore(path) // decodes every slot, too
	if err != nil {
		return 0, 0, checkErrs, fmt.Errorf("reopen %s after a kill: %w", path, err)
	}
	defer store.Close()
	for _, v := range vs {
		if time.Since(v.at) > lifetime-2*time.Second {
			continue // may have expired, as it should
		}
		checked++
		sl, ok, err := store.Load(v.id)
		if err != nil {
			return checked, lost, checkErrs, err
		}
		if !ok || !sl.Verified() || sl.Current.Ts != v.ts {
			lost++
		}
	}
	return checked, lost, checkErrs, nil
}
