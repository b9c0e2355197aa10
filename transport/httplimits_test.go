package transport

import (
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestLimitListenerHoldsAtMostN dials three connections to a listener
// limited to two: the third is accepted only once one of the first two is
// closed, and the open count never passes two.
func TestLimitListenerHoldsAtMostN(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ln := LimitListener(raw, 2).(*limitListener)
	defer ln.Close()
	for range 3 {
		c, err := net.Dial("tcp", raw.Addr().String())
		require.NoError(t, err)
		defer c.Close()
	}
	a, err := ln.Accept()
	require.NoError(t, err)
	b, err := ln.Accept()
	require.NoError(t, err)
	require.Equal(t, 2, ln.open())
	third := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			third <- c
		}
		close(third)
	}()
	select {
	case <-third:
		t.Fatal("a third connection was accepted while two were open")
	default:
	}
	require.NoError(t, a.Close())
	_ = a.Close() // a second Close must not free a second slot
	select {
	case c, ok := <-third:
		require.True(t, ok)
		defer c.Close()
	case <-time.After(5 * time.Second):
		t.Fatal("the third connection was not accepted after one closed")
	}
	require.Equal(t, 2, ln.open())
	require.NoError(t, b.Close())
	require.Equal(t, 1, ln.open())
}
