package transport

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verishake/verishake/protocol"
)

// A server hook keeps state in Slot.Ext, which the session stores do not
// encode: the HTTP server must refuse the profile rather than lose it.
func TestServerRefusesServerHooks(t *testing.T) {
	p := protocol.Hardened()
	p.Hooks.Confirm1Ts = func(protocol.Slot, *protocol.HookState, protocol.Message, bool) bool { return true }
	_, err := NewServer(ServerConfig{Handshake: p.MustCompile(), Pusher: &capturePusher{}})
	require.ErrorContains(t, err, "server hooks [Confirm1Ts]")

	p.Hooks = protocol.Hooks{CommandTs: func(protocol.Client, *protocol.Ext, protocol.Message, bool) bool { return true }}
	srv, err := NewServer(ServerConfig{Handshake: p.MustCompile(), Pusher: &capturePusher{}})
	require.NoError(t, err, "client hooks do not touch the server's stores")
	require.NoError(t, srv.Close())
}
