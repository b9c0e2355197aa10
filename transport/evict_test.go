package transport

import (
	"bytes"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verishake/verishake/protocol"
)

// floodRegID is the first RegID of a test's forged Hellos, far from the
// devices'.
const floodRegID = protocol.RegID(1 << 40)

// TestServerFloodAtTheCapDoesNotLockOutADevice fills the half-open cap
// with forged Hellos that no device will ever confirm, then runs a
// legitimate device's handshake over HTTP: once the forged sessions are
// as old as a device's first retransmission timeout, the device's Hello
// evicts the oldest of them and its handshake verifies, where before the
// cap turned it away for the forged sessions' whole lifetime. A session
// younger than that is never evicted. The clock is a fake: no sleeps.
func TestServerFloodAtTheCapDoesNotLockOutADevice(t *testing.T) {
	p := protocol.Hardened()
	p.HalfOpenCap = 64
	h := p.MustCompile()
	clock := newFakeClock()
	ts := startServer(t, ServerConfig{Handshake: h, Now: clock.Now})
	forged := func(i int) protocol.Message {
		return protocol.Message{Kind: protocol.Hello, RegID: floodRegID + protocol.RegID(i), Tc: protocol.Token{1, byte(i)}}
	}
	for i := range p.HalfOpenCap {
		code, body := ts.post(t, PathHello, forged(i))
		require.Equal(t, http.StatusAccepted, code, body)
	}
	require.Equal(t, p.HalfOpenCap, ts.HalfOpen())
	code, body := ts.post(t, PathHello, forged(p.HalfOpenCap))
	require.Equal(t, http.StatusTooManyRequests, code, "sessions younger than the first retransmission timeout are kept: %s", body)
	require.Equal(t, ReasonSessionCap+"\n", body)

	clock.Advance(p.Backoff)
	const device = 7
	c := protocol.NewClient(device)
	out := c.Start(h, protocol.Time(clock.Now().UnixNano()), protocol.CryptoTokens{})
	code, body = ts.post(t, PathHello, out.Send)
	require.Equal(t, http.StatusAccepted, code, "the device's Hello at a full cap: %s", body)
	validation := ts.pusher.last()
	require.Equal(t, protocol.RegID(device), validation.Message.RegID)
	out = c.Handle(h, protocol.Time(clock.Now().UnixNano()), validation.Message)
	require.NoError(t, out.Err)
	code, body = ts.post(t, PathConfirm1, out.Send)
	require.Equal(t, http.StatusAccepted, code, body)
	out = c.Handle(h, protocol.Time(clock.Now().UnixNano()), ts.pusher.last().Message)
	require.NoError(t, out.Err)
	require.Equal(t, protocol.ClientVerified, c.State)

	st := ts.Stats()
	require.Equal(t, uint64(1), st.Evicted, "one forged session made room")
	require.Equal(t, p.HalfOpenCap-1, st.HalfOpen, "the evicted place went to the device, which is verified now")
	_, found, err := ts.Slot(floodRegID)
	require.NoError(t, err)
	require.False(t, found, "the oldest forged session (first by RegID among the equally old) is the one evicted")
	sl, found, err := ts.Slot(floodRegID + 1)
	require.NoError(t, err)
	require.True(t, found && sl.HalfOpen(), "the others wait out their lifetime")
}

// TestServerEvictionKeepsAVerifiedSession fills the cap with sessions that
// re-key a verified one (a flood of Hellos forged for registered RegIDs)
// and checks that evicting one ends only its pending session: the RegID's
// verified session, and its commands, stay.
func TestServerEvictionKeepsAVerifiedSession(t *testing.T) {
	p := protocol.Hardened()
	p.HalfOpenCap = 2
	h := p.MustCompile()
	clock := newFakeClock()
	ts := startServer(t, ServerConfig{Handshake: h, Now: clock.Now})
	for id := protocol.RegID(1); id <= 2; id++ {
		code, _ := ts.post(t, PathHello, protocol.Message{Kind: protocol.Hello, RegID: id, Tc: protocol.Token{1}})
		require.Equal(t, http.StatusAccepted, code)
		code, _ = ts.post(t, PathConfirm1, protocol.Message{Kind: protocol.Confirm1, RegID: id, Ts: ts.pusher.last().Message.Ts})
		require.Equal(t, http.StatusAccepted, code)
		code, _ = ts.post(t, PathHello, protocol.Message{Kind: protocol.Hello, RegID: id, Tc: protocol.Token{2}})
		require.Equal(t, http.StatusAccepted, code)
	}
	require.Equal(t, 2, ts.HalfOpen())
	clock.Advance(p.Backoff)
	code, body := ts.post(t, PathHello, protocol.Message{Kind: protocol.Hello, RegID: 3, Tc: protocol.Token{3}})
	require.Equal(t, http.StatusAccepted, code, body)
	sl, found, err := ts.Slot(1)
	require.NoError(t, err)
	require.True(t, found)
	require.Equal(t, protocol.SessionVerified, sl.State, "the re-keying slot lost its pending session only")
	_, err = ts.Issue(t.Context(), 1, "still reachable")
	require.NoError(t, err)
}

// TestServerNeverEvictsWhenTurnedOff checks that a negative EvictAfter
// keeps the cap's old answer: a full cap refuses every new Hello.
func TestServerNeverEvictsWhenTurnedOff(t *testing.T) {
	p := protocol.Hardened()
	p.HalfOpenCap = 1
	clock := newFakeClock()
	ts := startServer(t, ServerConfig{Handshake: p.MustCompile(), Now: clock.Now, EvictAfter: -1})
	code, _ := ts.post(t, PathHello, protocol.Message{Kind: protocol.Hello, RegID: 1, Tc: protocol.Token{1}})
	require.Equal(t, http.StatusAccepted, code)
	clock.Advance(p.Lifetime - 1)
	code, _ = ts.post(t, PathHello, protocol.Message{Kind: protocol.Hello, RegID: 2, Tc: protocol.Token{1}})
	require.Equal(t, http.StatusTooManyRequests, code)
	require.Zero(t, ts.Stats().Evicted)
}

// TestValidateAcceptsEvictions traces a server that evicts and checks that
// validate replays the eviction (counted, BOUNDED kept), and that an
// eviction of a slot with no pending session is a step the model forbids.
func TestValidateAcceptsEvictions(t *testing.T) {
	p := protocol.Hardened()
	p.HalfOpenCap = 2
	clock := newFakeClock()
	var trace bytes.Buffer
	tw, err := NewTraceWriter(&trace, p)
	require.NoError(t, err)
	srv, err := NewServer(ServerConfig{Handshake: p.MustCompile(), Now: clock.Now, Tracer: tw, Pusher: &capturePusher{}})
	require.NoError(t, err)
	for id := range protocol.RegID(3) {
		_, err := srv.Handle(t.Context(), protocol.Message{Kind: protocol.Hello, RegID: id + 1, Tc: protocol.Token{1}}, 0)
		require.NoError(t, err)
		clock.Advance(p.Backoff)
	}
	require.NoError(t, srv.Close())
	require.NoError(t, tw.Close())
	require.Equal(t, uint64(1), srv.Stats().Evicted)

	rep, err := ValidateTraces([]TraceInput{{Name: "server.jsonl", R: bytes.NewReader(trace.Bytes())}})
	require.NoError(t, err)
	require.True(t, rep.OK(), "%v", rep.Violations)
	require.Equal(t, 1, rep.Evictions)

	// The same eviction line again: the slot has no pending session left.
	lines := bytes.SplitAfter(trace.Bytes(), []byte("\n"))
	var evict []byte
	for _, l := range lines {
		if bytes.Contains(l, []byte(ErrEvicted.Error())) {
			evict = l
		}
	}
	require.NotNil(t, evict)
	tampered := append(bytes.Clone(trace.Bytes()[:bytes.LastIndex(trace.Bytes(), []byte(`{"type":"end"`))]), evict...)
	_, err = ValidateTraces([]TraceInput{{Name: "server.jsonl", R: bytes.NewReader(tampered)}})
	te, ok := err.(*TraceError)
	require.True(t, ok, "%v", err)
	require.True(t, te.Forbidden)
	require.Contains(t, te.Reason, "which has none")
}

// TestServerCrowdAtTheCapEachEvictsOne sends as many concurrent Hellos as
// the cap holds old forged sessions: each takes a session of its own to
// evict and gets its place, so that none is turned away and the count
// never leaves the cap.
func TestServerCrowdAtTheCapEachEvictsOne(t *testing.T) {
	p := protocol.Hardened()
	p.HalfOpenCap = 32
	clock := newFakeClock()
	ts := startServer(t, ServerConfig{Handshake: p.MustCompile(), Now: clock.Now})
	for i := range p.HalfOpenCap {
		code, _ := ts.post(t, PathHello, protocol.Message{Kind: protocol.Hello, RegID: floodRegID + protocol.RegID(i), Tc: protocol.Token{1}})
		require.Equal(t, http.StatusAccepted, code)
	}
	clock.Advance(2 * p.Backoff)
	codes := make([]int, p.HalfOpenCap)
	var wg sync.WaitGroup
	for i := range codes {
		wg.Go(func() {
			frame, err := protocol.EncodeMessage(protocol.Message{Kind: protocol.Hello, RegID: protocol.RegID(i + 1), Tc: protocol.Token{2}})
			if err != nil {
				return
			}
			resp, err := ts.http.Client().Post(ts.http.URL+PathHello, "application/octet-stream", bytes.NewReader(frame))
			if err != nil {
				return
			}
			resp.Body.Close()
			codes[i] = resp.StatusCode
		})
	}
	wg.Wait()
	for i, code := range codes {
		require.Equal(t, http.StatusAccepted, code, "Hello %d", i)
	}
	require.Equal(t, uint64(p.HalfOpenCap), ts.Stats().Evicted)
	require.Equal(t, p.HalfOpenCap, ts.HalfOpen())
	for i := range p.HalfOpenCap {
		sl, found, err := ts.Slot(protocol.RegID(i + 1))
		require.NoError(t, err)
		require.True(t, found && sl.HalfOpen(), "device %d holds a place", i+1)
	}
}
