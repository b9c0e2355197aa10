package transport

import (
	"context"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verishake/verishake/protocol"
)

// TestServerExpiredSessionsDoNotHoldTheCap fills the half-open cap, lets
// every session's lifetime pass on the injected clock while the expiry
// timer still sleeps on the real one (a minute, the profile's lifetime),
// and checks that a new Hello is admitted: an expired session must not
// keep a place under the cap just because its timer has not run yet.
func TestServerExpiredSessionsDoNotHoldTheCap(t *testing.T) {
	p := protocol.Hardened()
	p.HalfOpenCap = 4
	clock := newFakeClock()
	store := NewMemoryStore()
	ts := startServer(t, ServerConfig{Handshake: p.MustCompile(), Store: store, Now: clock.Now})
	hello := func(id protocol.RegID) int {
		code, _ := ts.post(t, PathHello, protocol.Message{Kind: protocol.Hello, RegID: id, Tc: protocol.Token{byte(id)}})
		return code
	}
	for id := range protocol.RegID(4) {
		require.Equal(t, http.StatusAccepted, hello(id+1))
	}
	require.Equal(t, http.StatusTooManyRequests, hello(100), "the cap holds while the four are alive")

	clock.Advance(p.Lifetime)
	require.Equal(t, http.StatusAccepted, hello(101), "the four expired sessions freed their places")
	require.Equal(t, 1, ts.HalfOpen())
	require.Equal(t, 1, store.Len(), "the expired sessions are gone from the store")
	require.Equal(t, 4, ts.claims.countInput(protocol.RoleServer, InputExpire))

	// The expiries are traced before the Hello that took a freed place,
	// so a replay of the trace never sees five half-open sessions.
	ts.claims.mu.Lock()
	defer ts.claims.mu.Unlock()
	expiries := 0
	for _, st := range ts.claims.steps {
		if st.Input == InputExpire {
			expiries++
		}
		if st.Input == InputRecv && st.RegID == 101 {
			require.Equal(t, 4, expiries, "all four expiries precede the admitted Hello")
		}
	}
}

// countingBolt counts the single-slot saves that reach a BoltStore; every
// other method, including any batch save, is the BoltStore's own.
type countingBolt struct {
	*BoltStore
	saves atomic.Int64
}

func (c *countingBolt) Save(sl protocol.Slot) error {
	c.saves.Add(1)
	return c.BoltStore.Save(sl)
}

// TestServerExpiresBoltSessionsInBatches opens 1,000 half-open sessions on
// bbolt, moves the clock past their lifetime and waits (at most 5 s) for
// the timer to expire them all. One durable write per expired session,
// bbolt's batch delay each, would take over ten seconds and make 1,000
// single-slot saves; the expiry must write them in batches instead.
func TestServerExpiresBoltSessionsInBatches(t *testing.T) {
	const sessions = 1000
	p := protocol.Hardened()
	p.Lifetime = 200 * time.Millisecond // the timer's real sleep between looks at the clock
	p.HalfOpenCap = sessions
	clock := newFakeClock()
	bs, err := OpenBoltStore(filepath.Join(t.TempDir(), "sessions.db"))
	require.NoError(t, err)
	store := &countingBolt{BoltStore: bs}
	defer store.Close()
	srv, err := NewServer(ServerConfig{Handshake: p.MustCompile(), Store: store, Now: clock.Now,
		Pusher: PusherFunc(func(context.Context, Push) error { return nil })})
	require.NoError(t, err)
	defer srv.Close()

	var wg sync.WaitGroup
	ids := make(chan protocol.RegID)
	for range 50 {
		wg.Go(func() {
			for id := range ids {
				out, err := srv.Handle(context.Background(), protocol.Message{Kind: protocol.Hello, RegID: id, Tc: protocol.Token{1}}, 0)
				require.NoError(t, err)
				require.NoError(t, out.Err)
			}
		})
	}
	for id := range protocol.RegID(sessions) {
		ids <- id + 1
	}
	close(ids)
	wg.Wait()
	require.Equal(t, sessions, srv.HalfOpen())
	hellos := store.saves.Load()

	clock.Advance(p.Lifetime)
	waitFor(t, 5*time.Second, "every session to expire", func() bool { return srv.HalfOpen() == 0 })
	require.Equal(t, uint64(sessions), srv.Stats().Expired)
	left := 0
	require.NoError(t, store.Range(func(protocol.Slot) bool { left++; return true }))
	require.Zero(t, left, "every expired session is deleted from the file")
	require.Zero(t, store.saves.Load()-hellos, "expiry writes in batches, not slot by slot")
}

// A batch of saves keeps the store's digest of its slots, as Save does: a
// store whose sessions were expired (deleted) or rewritten in a batch opens
// again, every slot as it was saved.
func TestBoltBatchKeepsTheDigest(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sessions.db")
	bs, err := OpenBoltStore(path)
	require.NoError(t, err)
	pending := func(id protocol.RegID) protocol.Slot {
		return protocol.Slot{RegID: id, State: protocol.AwaitConfirm1,
			Pending: protocol.Session{Tc: protocol.Token{1, byte(id)}, Ts: protocol.Token{2, byte(id)}, Expires: 1}}
	}
	for id := range protocol.RegID(10) {
		require.NoError(t, bs.Save(pending(id+1)))
	}
	batch := []protocol.Slot{{RegID: 1}, {RegID: 2}, pending(11)} // two expired, one new
	rewritten := pending(3)
	rewritten.Pending.Expires = 2
	batch = append(batch, rewritten)
	require.NoError(t, bs.SaveSlots(batch))
	require.NoError(t, bs.Close())

	bs, err = OpenBoltStore(path)
	require.NoError(t, err, "the digest still adds up")
	defer bs.Close()
	n := 0
	require.NoError(t, bs.Range(func(protocol.Slot) bool { n++; return true }))
	require.Equal(t, 9, n)
	got, ok, err := bs.Load(3)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, rewritten, got)
}
