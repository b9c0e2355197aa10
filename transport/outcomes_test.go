package transport

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verishake/verishake/protocol"
)

// TestServerCountsOutcomesAndReasons runs one of each outcome through a
// server with a cap of one and checks the counter each lands in, and that
// the others stay at zero.
func TestServerCountsOutcomesAndReasons(t *testing.T) {
	p := protocol.Hardened()
	p.HalfOpenCap = 1
	clock := newFakeClock()
	ts := startServer(t, ServerConfig{Handshake: p.MustCompile(), Now: clock.Now})
	h := ts.Handshake()
	now := protocol.Time(clock.Now().UnixNano())

	c := protocol.NewClient(1)
	code, _ := ts.post(t, PathHello, c.Start(h, now, protocol.CryptoTokens{}).Send)
	require.Equal(t, http.StatusAccepted, code)
	code, _ = ts.post(t, PathHello, protocol.Message{Kind: protocol.Hello, RegID: 2, Tc: protocol.Token{2}})
	require.Equal(t, http.StatusTooManyRequests, code)
	code, _ = ts.post(t, PathConfirm1, protocol.Message{Kind: protocol.Confirm1, RegID: 1, Ts: protocol.Token{9}})
	require.Equal(t, http.StatusConflict, code)
	code, _ = ts.post(t, PathConfirm1, c.Handle(h, now, ts.pusher.last().Message).Send)
	require.Equal(t, http.StatusAccepted, code)
	code, _ = ts.postRaw(t, http.MethodPost, PathHello, []byte("garbage"))
	require.Equal(t, http.StatusBadRequest, code)
	code, _ = ts.postRaw(t, http.MethodGet, PathHello, nil)
	require.Equal(t, http.StatusMethodNotAllowed, code)

	// A half-open session that expires, reclaimed at the cap.
	code, _ = ts.post(t, PathHello, protocol.Message{Kind: protocol.Hello, RegID: 3, Tc: protocol.Token{3}})
	require.Equal(t, http.StatusAccepted, code)
	clock.Advance(p.Lifetime + time.Second)
	code, _ = ts.post(t, PathHello, protocol.Message{Kind: protocol.Hello, RegID: 4, Tc: protocol.Token{4}})
	require.Equal(t, http.StatusAccepted, code)

	st := ts.Stats()
	require.Equal(t, uint64(1), st.Verified)
	require.Equal(t, uint64(1), st.ExpiredHalfOpen, "RegID 3's handshake; RegID 1's verified session expired too, but is no handshake")
	require.Equal(t, uint64(2), st.Expired)
	want := map[string]uint64{"session_cap": 1, "wrong_ts": 1, "malformed": 1, "no_route": 1}
	for _, r := range rejectReasons {
		require.Equal(t, want[r.name], st.Rejections[r.name], r.name)
	}
}
