package transport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/verishake/verishake/protocol"
)

// testServer is a Server behind a loopback HTTP listener.
type testServer struct {
	*Server
	http   *httptest.Server
	pusher *capturePusher
	claims *claimLog
	store  Store
}

func startServer(t testing.TB, cfg ServerConfig) *testServer {
	t.Helper()
	ts := &testServer{pusher: &capturePusher{}, claims: &claimLog{}, store: cfg.Store}
	if cfg.Handshake == nil {
		cfg.Handshake = protocol.Hardened().MustCompile()
	}
	if cfg.Pusher == nil {
		cfg.Pusher = ts.pusher
	}
	if ts.store == nil {
		ts.store = NewMemoryStore()
		cfg.Store = ts.store
	}
	cfg.Tracer = ts.claims
	srv, err := NewServer(cfg)
	require.NoError(t, err)
	ts.Server = srv
	ts.http = httptest.NewServer(srv) // listens on 127.0.0.1:0
	t.Cleanup(func() { ts.stop() })
	return ts
}

func (ts *testServer) stop() {
	ts.http.Close()
	_ = ts.Server.Close()
}

// post sends one frame of m to path and returns the status and body.
func (ts *testServer) post(t testing.TB, path string, m protocol.Message) (int, string) {
	t.Helper()
	frame, err := protocol.EncodeMessage(m)
	require.NoError(t, err)
	return ts.postRaw(t, http.MethodPost, path, frame)
}

func (ts *testServer) postRaw(t testing.TB, method, path string, body []byte) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, ts.http.URL+path, bytes.NewReader(body))
	require.NoError(t, err)
	resp, err := ts.http.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestServerHandshakeOverHTTP(t *testing.T) {
	ts := startServer(t, ServerConfig{})
	h := ts.Handshake()
	c := protocol.NewClient(7)
	now := protocol.Time(time.Now().UnixNano())

	out := c.Start(h, now, protocol.CryptoTokens{})
	code, body := ts.post(t, PathHello, out.Send)
	require.Equal(t, http.StatusAccepted, code, body)
	require.Equal(t, 1, ts.HalfOpen())
	v := ts.pusher.last()
	require.Equal(t, protocol.Validation, v.Message.Kind)
	require.NotEmpty(t, v.ID)

	out = c.Handle(h, now, v.Message)
	require.NoError(t, out.Err)
	code, body = ts.post(t, PathConfirm1, out.Send)
	require.Equal(t, http.StatusAccepted, code, body)
	require.Equal(t, 0, ts.HalfOpen())
	c2 := ts.pusher.last()
	require.Equal(t, protocol.Confirm2, c2.Message.Kind)
	out = c.Handle(h, now, c2.Message)
	require.NoError(t, out.Err)
	require.Equal(t, protocol.ClientVerified, c.State)

	cmd, err := ts.Issue(context.Background(), 7, "ring")
	require.NoError(t, err)
	require.Equal(t, uint32(1), cmd.Seq)
	out = c.Handle(h, now, ts.pusher.last().Message)
	require.NoError(t, out.Err)
	require.Equal(t, protocol.Executed, out.ClaimList()[0].Kind)

	require.Equal(t, 1, ts.claims.count(protocol.Commit, protocol.RoleServer))
	all := append([]protocol.Claim{{Kind: protocol.Running, Role: protocol.RoleClient, RegID: 7, Tc: c.Tc, Ts: c.Ts}}, ts.claims.claims...)
	require.Empty(t, protocol.CheckClaims(all, nil))

	// A replayed Confirm1 gets the same Confirm2 again and no new claim.
	code, _ = ts.post(t, PathConfirm1, protocol.Message{Kind: protocol.Confirm1, RegID: 7, Ts: c.Ts})
	require.Equal(t, http.StatusAccepted, code)
	require.Equal(t, 1, ts.claims.count(protocol.Commit, protocol.RoleServer))

	// A Confirm1 with a guessed Ts is refused; the verdict is counted.
	code, body = ts.post(t, PathConfirm1, protocol.Message{Kind: protocol.Confirm1, RegID: 7, Ts: protocol.Token{9}})
	require.Equal(t, http.StatusConflict, code)
	require.Equal(t, ReasonRefused+"\n", body)
	require.Equal(t, uint64(1), ts.Stats().Rejections["wrong_ts"])

	_, err = ts.Issue(context.Background(), 8, "x")
	require.ErrorIs(t, err, protocol.ErrNotVerified)
	_, err = ts.Issue(context.Background(), 7, strings.Repeat("x", protocol.MaxPayload+1))
	require.ErrorIs(t, err, protocol.ErrPayload)
}

// chunked hides the length of a body so that only reading it can tell.
type chunked struct{ io.Reader }

func TestServerRefusesBadRequestsAndStoresNothing(t *testing.T) {
	hello, err := protocol.EncodeMessage(protocol.Message{Kind: protocol.Hello, RegID: 1, Tc: protocol.Token{1}})
	require.NoError(t, err)
	confirm1, err := protocol.EncodeMessage(protocol.Message{Kind: protocol.Confirm1, RegID: 1, Ts: protocol.Token{1}})
	require.NoError(t, err)
	validation, err := protocol.EncodeMessage(protocol.Message{Kind: protocol.Validation, RegID: 1, Tc: protocol.Token{1}, Ts: protocol.Token{2}})
	require.NoError(t, err)
	badSum := bytes.Clone(hello)
	badSum[len(badSum)-1] ^= 1
	badVersion := bytes.Clone(hello)
	badVersion[0] = 9
	unknownKind := bytes.Clone(hello)
	unknownKind[1] = 77
	huge := bytes.Repeat([]byte{1}, protocol.MaxFrame+1)

	cases := []struct {
		name   string
		method string
		path   string
		body   io.Reader
		header string
		code   int
		reason string
	}{
		{"wrong method", http.MethodGet, PathHello, nil, "", http.StatusMethodNotAllowed, "want POST"},
		{"wrong method put", http.MethodPut, PathConfirm1, bytes.NewReader(confirm1), "", http.StatusMethodNotAllowed, "want POST"},
		{"unknown path", http.MethodPost, "/v1/other", bytes.NewReader(hello), "", http.StatusNotFound, "no such path"},
		{"oversized", http.MethodPost, PathHello, bytes.NewReader(huge), "", http.StatusRequestEntityTooLarge, "longer than"},
		{"oversized chunked", http.MethodPost, PathHello, chunked{bytes.NewReader(huge)}, "", http.StatusRequestEntityTooLarge, "longer than"},
		{"empty", http.MethodPost, PathHello, nil, "", http.StatusBadRequest, "truncated"},
		{"truncated", http.MethodPost, PathHello, bytes.NewReader(hello[:20]), "", http.StatusBadRequest, "truncated"},
		{"trailing", http.MethodPost, PathHello, bytes.NewReader(append(bytes.Clone(hello), 0)), "", http.StatusBadRequest, "trailing"},
		{"checksum", http.MethodPost, PathHello, bytes.NewReader(badSum), "", http.StatusBadRequest, "checksum"},
		{"version", http.MethodPost, PathHello, bytes.NewReader(badVersion), "", http.StatusBadRequest, "version"},
		{"unknown kind", http.MethodPost, PathHello, bytes.NewReader(unknownKind), "", http.StatusBadRequest, "unknown message kind"},
		{"json body", http.MethodPost, PathHello, strings.NewReader(`{"kind":"Hello"}`), "", http.StatusBadRequest, "version"},
		{"kind for other path", http.MethodPost, PathHello, bytes.NewReader(confirm1), "", http.StatusBadRequest, "takes a Hello"},
		{"push kind upstream", http.MethodPost, PathConfirm1, bytes.NewReader(validation), "", http.StatusBadRequest, "takes a Confirm1"},
		{"bad message id", http.MethodPost, PathHello, bytes.NewReader(hello), "12x", http.StatusBadRequest, HeaderMessageID},
		{"long message id", http.MethodPost, PathHello, bytes.NewReader(hello), strings.Repeat("1", 21), http.StatusBadRequest, HeaderMessageID},
	}
	store := NewMemoryStore()
	ts := startServer(t, ServerConfig{Store: store})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, ts.http.URL+tc.path, tc.body)
			require.NoError(t, err)
			if tc.header != "" {
				req.Header.Set(HeaderMessageID, tc.header)
			}
			resp, err := ts.http.Client().Do(req)
			require.NoError(t, err)
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			require.Equal(t, tc.code, resp.StatusCode, string(b))
			require.Contains(t, string(b), tc.reason)
			require.Equal(t, 1, strings.Count(string(b), "\n"), "one line: %q", b)
			require.Zero(t, store.Len(), "nothing stored")
			require.Empty(t, ts.pusher.all(), "nothing pushed")
			require.Zero(t, ts.HalfOpen())
			st := ts.Stats()
			require.Zero(t, st.Accepted+st.Rejected, "the machine never saw it")
		})
	}
	// A Confirm1 for a RegID with no session is the machine's to refuse,
	// and stores nothing either.
	code, _ := ts.postRaw(t, http.MethodPost, PathConfirm1, confirm1)
	require.Equal(t, http.StatusConflict, code)
	require.Zero(t, store.Len())
}

func TestServerPushFailureIsReported(t *testing.T) {
	ts := startServer(t, ServerConfig{})
	ts.pusher.err = errors.New("platform down")
	code, body := ts.post(t, PathHello, protocol.Message{Kind: protocol.Hello, RegID: 3, Tc: protocol.Token{3}})
	require.Equal(t, http.StatusBadGateway, code)
	require.Equal(t, ReasonNotPushed+"\n", body, "the platform's error is logged, not sent")
	require.Equal(t, 1, ts.HalfOpen(), "the step stands")
	require.Equal(t, uint64(1), ts.Stats().PushFailed)
}

func TestServerSessionCap(t *testing.T) {
	p := protocol.Hardened()
	p.HalfOpenCap = 2
	ts := startServer(t, ServerConfig{Handshake: p.MustCompile()})
	for i := range 2 {
		code, _ := ts.post(t, PathHello, protocol.Message{Kind: protocol.Hello, RegID: protocol.RegID(i + 1), Tc: protocol.Token{1}})
		require.Equal(t, http.StatusAccepted, code)
	}
	code, body := ts.post(t, PathHello, protocol.Message{Kind: protocol.Hello, RegID: 9, Tc: protocol.Token{1}})
	require.Equal(t, http.StatusTooManyRequests, code, body)
	require.Equal(t, 2, ts.HalfOpen())
}

// TestServerHalfOpenCountExact runs random concurrent Hellos, Confirm1s and
// clock jumps against a small cap: the count never exceeds the cap, and at
// rest it equals the half-open slots in the store.
func TestServerHalfOpenCountExact(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		p := protocol.Hardened()
		p.HalfOpenCap = rapid.IntRange(1, 6).Draw(rt, "cap")
		p.Lifetime = time.Second
		clock := newFakeClock()
		store := NewMemoryStore()
		// Eviction off, or from 200 ms: then a full cap evicts after a jump.
		evict := rapid.SampledFrom([]time.Duration{-1, 200 * time.Millisecond}).Draw(rt, "evictAfter")
		srv, err := NewServer(ServerConfig{Handshake: p.MustCompile(), Store: store, Now: clock.Now, EvictAfter: evict,
			Pusher: PusherFunc(func(context.Context, Push) error { return nil })})
		require.NoError(rt, err)
		defer srv.Close()

		workers := rapid.IntRange(2, 6).Draw(rt, "workers")
		plans := make([][]int, workers)
		for w := range plans {
			plans[w] = rapid.SliceOfN(rapid.IntRange(0, 40), 1, 30).Draw(rt, fmt.Sprintf("plan%d", w))
		}
		var wg sync.WaitGroup
		stop := make(chan struct{})
		var over error
		var overOnce sync.Once
		go func() { // sampler: the bound holds at every moment, not just at rest
			for {
				select {
				case <-stop:
					return
				default:
				}
				if n := srv.HalfOpen(); n > p.HalfOpenCap {
					overOnce.Do(func() { over = fmt.Errorf("half-open %d > cap %d", n, p.HalfOpenCap) })
				}
			}
		}()
		for _, plan := range plans {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for _, op := range plan {
					id := protocol.RegID(op%8 + 1)
					switch {
					case op < 24: // Hello, fresh or repeated Tc
						_, _ = srv.Handle(context.Background(), protocol.Message{Kind: protocol.Hello, RegID: id, Tc: protocol.Token{byte(op % 3), 1}}, 0)
					case op < 38: // Confirm1 with the pending Ts, if any
						sl, ok, _ := srv.Slot(id)
						if ok && sl.HalfOpen() {
							_, _ = srv.Handle(context.Background(), protocol.Message{Kind: protocol.Confirm1, RegID: id, Ts: sl.Pending.Ts}, 0)
						}
					default:
						clock.Advance(400 * time.Millisecond)
					}
				}
			}()
		}
		wg.Wait()
		close(stop)
		require.NoError(rt, srv.Close()) // at rest: no expiry in progress
		require.NoError(rt, over)
		n := 0
		pending := map[protocol.RegID]protocol.Time{}
		require.NoError(rt, store.Range(func(sl protocol.Slot) bool {
			if sl.HalfOpen() {
				n++
				pending[sl.RegID] = sl.Pending.Expires
			}
			return true
		}))
		require.Equal(rt, n, srv.HalfOpen())
		require.LessOrEqual(rt, n, p.HalfOpenCap)
		indexed := map[protocol.RegID]protocol.Time{}
		for _, e := range srv.index.h.entries {
			indexed[e.id] = e.expires
		}
		require.Equal(rt, pending, indexed, "the eviction index is the store's half-open sessions")
		if evict < 0 {
			require.Zero(rt, srv.Stats().Evicted)
		}
	})
}

func TestServerExpiresOnRealClock(t *testing.T) {
	p := protocol.Hardened()
	p.Lifetime = 50 * time.Millisecond
	store := NewMemoryStore()
	ts := startServer(t, ServerConfig{Handshake: p.MustCompile(), Store: store})
	for i := range 5 {
		code, _ := ts.post(t, PathHello, protocol.Message{Kind: protocol.Hello, RegID: protocol.RegID(i + 1), Tc: protocol.Token{1}})
		require.Equal(t, http.StatusAccepted, code)
	}
	require.Equal(t, 5, ts.HalfOpen())
	waitFor(t, 5*time.Second, "the timers to expire every session", func() bool {
		return ts.HalfOpen() == 0 && store.Len() == 0
	})
	require.Equal(t, uint64(5), ts.Stats().Expired)
}

// TestServerRestartOnBolt checks durability at the unit level; the
// integration test does it with real devices mid-run.
func TestServerRestartOnBolt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sessions.db")
	clock := newFakeClock()
	h := protocol.Hardened().MustCompile()
	open := func() (*BoltStore, *capturePusher, *claimLog, *Server) {
		store, err := OpenBoltStore(path)
		require.NoError(t, err)
		pusher, claims := &capturePusher{}, &claimLog{}
		srv, err := NewServer(ServerConfig{Handshake: h, Store: store, Pusher: pusher, Tracer: claims, Now: clock.Now})
		require.NoError(t, err)
		return store, pusher, claims, srv
	}
	ctx := context.Background()
	store, pusher, _, srv := open()

	// RegID 1 verifies and gets a command; RegID 2 stays half-open.
	c := protocol.NewClient(1)
	now := protocol.Time(clock.Now().UnixNano())
	hello := c.Start(h, now, protocol.CryptoTokens{}).Send
	_, err := srv.Handle(ctx, hello, 0)
	require.NoError(t, err)
	confirm1 := c.Handle(h, now, pusher.last().Message).Send
	_, err = srv.Handle(ctx, confirm1, 0)
	require.NoError(t, err)
	cmd, err := srv.Issue(ctx, 1, "before")
	require.NoError(t, err)
	_, err = srv.Handle(ctx, protocol.Message{Kind: protocol.Hello, RegID: 2, Tc: protocol.Token{2}}, 0)
	require.NoError(t, err)
	require.NoError(t, srv.Close())
	require.NoError(t, store.Close())

	store, pusher, claims, srv := open()
	require.Equal(t, 1, srv.HalfOpen(), "the half-open count is rebuilt")
	sl, ok, err := srv.Slot(1)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, protocol.SessionVerified, sl.State)
	require.Equal(t, c.Ts, sl.Current.Ts)
	require.Equal(t, cmd.Seq, sl.LastSeq)

	// The replayed Confirm1 does not verify twice; the next command
	// continues the sequence, so a replayed old one stays a replay.
	out, err := srv.Handle(ctx, confirm1, 0)
	require.NoError(t, err)
	require.NoError(t, out.Err)
	require.Empty(t, out.ClaimList())
	require.Equal(t, protocol.Confirm2, pusher.last().Message.Kind)
	next, err := srv.Issue(ctx, 1, "after")
	require.NoError(t, err)
	require.Equal(t, cmd.Seq+1, next.Seq)
	require.Zero(t, claims.count(protocol.Commit, protocol.RoleServer))

	// Past the lifetime, with the server down, the session is expired
	// when it comes back: the replay is refused.
	require.NoError(t, srv.Close())
	require.NoError(t, store.Close())
	clock.Advance(h.Profile().Lifetime + time.Second)
	store, _, claims, srv = open()
	defer store.Close()
	defer srv.Close()
	out, err = srv.Handle(ctx, confirm1, 0)
	require.NoError(t, err)
	require.Error(t, out.Err)
	require.Empty(t, out.ClaimList())
	_, err = srv.Issue(ctx, 1, "late")
	require.ErrorIs(t, err, protocol.ErrNotVerified)
	require.Zero(t, claims.count(protocol.Commit, protocol.RoleServer))
}
