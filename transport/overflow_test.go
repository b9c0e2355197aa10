package transport

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verishake/verishake/protocol"
)

// TestRelayRefusesASendToAFullQueue fills a device's queue and checks that
// the next send is refused as FCM refuses a target over its quota (429,
// RESOURCE_EXHAUSTED) instead of being accepted while an older message is
// dropped: what is queued is what was acknowledged.
func TestRelayRefusesASendToAFullQueue(t *testing.T) {
	r, hs := startRelay(t, RelayConfig{QueueCap: 3})
	id, secret := r.Register()
	p := &FCMPusher{BaseURL: hs.URL, Project: "p", Auth: StaticBearer("any"), Client: hs.Client()}
	push := func(n uint64) error {
		v := validationFor(id)
		v.ID = n
		return p.Push(context.Background(), v)
	}
	for n := range uint64(3) {
		require.NoError(t, push(n+1))
	}
	for n := uint64(4); n <= 5; n++ {
		err := push(n)
		pe, ok := errors.AsType[*PushError](err)
		require.True(t, ok, "send %d: %v", n, err)
		require.Equal(t, http.StatusTooManyRequests, pe.StatusCode)
		require.Equal(t, "RESOURCE_EXHAUSTED", pe.Status)
	}
	_, msgs := pollRelay(t, hs, id, secret, "0s")
	require.Len(t, msgs, 3)
	for i, m := range msgs {
		got, err := DecodePushData(m.Data)
		require.NoError(t, err)
		require.Equal(t, uint64(i+1), got.ID, "the acknowledged messages, oldest first")
	}
	st := r.Stats()
	require.Equal(t, uint64(3), st.Accepted)
	require.Equal(t, uint64(2), st.Overflowed)
	// Room again once the device has polled.
	require.NoError(t, push(6))
}

// TestServerReportsACommandTheRelayCannotQueue verifies a device through
// the relay, lets it go offline with a queue of two, and issues three
// commands: the third is not acknowledged by the relay, and the server
// says so to the caller, counts it and logs it.
func TestServerReportsACommandTheRelayCannotQueue(t *testing.T) {
	r, hs := startRelay(t, RelayConfig{QueueCap: 2})
	id, secret := r.Register()
	logs := &slogCapture{}
	h := protocol.Hardened().MustCompile()
	srv, err := NewServer(ServerConfig{Handshake: h, Log: slog.New(logs),
		Pusher: &FCMPusher{BaseURL: hs.URL, Project: "p", Auth: StaticBearer("any"), Client: hs.Client()}})
	require.NoError(t, err)
	defer srv.Close()
	ctx := context.Background()

	// The handshake, the device polling for each answer.
	c := protocol.NewClient(id)
	now := func() protocol.Time { return srv.now() }
	next := func() protocol.Message {
		_, msgs := pollRelay(t, hs, id, secret, "1s")
		require.Len(t, msgs, 1)
		p, err := DecodePushData(msgs[0].Data)
		require.NoError(t, err)
		return p.Message
	}
	_, err = srv.Handle(ctx, c.Start(h, now(), protocol.CryptoTokens{}).Send, 0)
	require.NoError(t, err)
	_, err = srv.Handle(ctx, c.Handle(h, now(), next()).Send, 0)
	require.NoError(t, err)
	require.NoError(t, c.Handle(h, now(), next()).Err)
	require.Equal(t, protocol.ClientVerified, c.State)

	// Offline: two commands fit in its queue, the third does not.
	for _, payload := range []string{"one", "two"} {
		_, err := srv.Issue(ctx, id, payload)
		require.NoError(t, err)
	}
	cmd, err := srv.Issue(ctx, id, "three")
	require.ErrorIs(t, err, ErrNotPushed, "the caller learns the command was not delivered")
	pe, ok := errors.AsType[*PushError](err)
	require.True(t, ok, "%v", err)
	require.Equal(t, http.StatusTooManyRequests, pe.StatusCode)
	require.Equal(t, uint32(3), cmd.Seq, "the undelivered command is named")
	require.Equal(t, uint64(1), srv.Stats().CommandsUndelivered)
	found := false
	for _, l := range logs.lines() {
		found = found || strings.Contains(l, "command not delivered") && strings.Contains(l, "seq=3")
	}
	require.True(t, found, "logged: %q", logs.lines())

	// Back online, the device gets exactly the two acknowledged commands.
	_, msgs := pollRelay(t, hs, id, secret, "0s")
	require.Len(t, msgs, 2)
	for i, m := range msgs {
		p, err := DecodePushData(m.Data)
		require.NoError(t, err)
		out := c.Handle(h, now(), p.Message)
		require.NoError(t, out.Err)
		require.Equal(t, uint32(i+1), p.Message.Seq)
	}
}
