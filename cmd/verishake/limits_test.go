package main

import (
	"bytes"
	"context"
	"flag"
	"io"
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verishake/verishake/transport"
)

// TestLimitFlagsReachTheHTTPServer checks that every limit flag lands in
// the http.Server that serve and relay run, and what the defaults are.
func TestLimitFlagsReachTheHTTPServer(t *testing.T) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	lim := addLimitFlags(fs, transport.DefaultServeLimits())
	require.NoError(t, fs.Parse([]string{"--read-header-timeout", "1s", "--read-timeout", "2s", "--write-timeout", "3s",
		"--idle-timeout", "4s", "--max-header-bytes", "5000", "--max-conns", "6"}))
	hs := lim.Server(nil)
	require.Equal(t, time.Second, hs.ReadHeaderTimeout)
	require.Equal(t, 2*time.Second, hs.ReadTimeout)
	require.Equal(t, 3*time.Second, hs.WriteTimeout)
	require.Equal(t, 4*time.Second, hs.IdleTimeout)
	require.Equal(t, 5000, hs.MaxHeaderBytes)
	require.Equal(t, 6, lim.MaxConns)

	// The documented defaults: every limit set, the relay's write timeout
	// above its longest long-poll.
	for _, d := range []transport.HTTPLimits{transport.DefaultServeLimits(), transport.DefaultRelayLimits()} {
		require.NoError(t, d.Validate())
		require.Positive(t, d.ReadHeaderTimeout)
		require.Positive(t, d.ReadTimeout)
		require.Positive(t, d.WriteTimeout)
		require.Positive(t, d.IdleTimeout)
		require.Positive(t, d.MaxHeaderBytes)
		require.Positive(t, d.MaxConns)
	}
	require.Greater(t, transport.DefaultRelayLimits().WriteTimeout, 30*time.Second)
}

// TestConnLimitLeavesDescriptorsFree checks the default connection limit
// under descriptor limits: under 256 descriptors, 300 idle connections must
// not be able to take every one of them.
func TestConnLimitLeavesDescriptorsFree(t *testing.T) {
	require.Equal(t, 192, connLimit(512, 256))
	require.Equal(t, 512, connLimit(512, 1<<20), "a generous limit keeps the default")
	require.Equal(t, 512, connLimit(512, 0), "an unknown limit keeps the default")
	require.Equal(t, 1, connLimit(512, 1))
}

// TestServeCutsOffASlowDripBody sends a request whose body of 100 bytes
// comes one byte every 20 ms to a serve started with a 200 ms read timeout,
// and checks that the server closes the connection well before the body
// could be complete (2 s), waiting at most 5 s for it.
func TestServeCutsOffASlowDripBody(t *testing.T) {
	var serveErr syncBuffer
	addr, stop := background(t, func(ctx context.Context, ready func(string)) int {
		return runServe(ctx, []string{"--addr", "127.0.0.1:0", "--read-timeout", "200ms", "--read-header-timeout", "200ms"},
			&bytes.Buffer{}, &serveErr, ready)
	})
	defer func() { require.Equal(t, exitOK, stop(), serveErr.String()) }()

	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer conn.Close()
	_, err = io.WriteString(conn, "POST /v1/hello HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n")
	require.NoError(t, err)
	dripped := make(chan int, 1)
	go func() {
		n := 0
		for ; n < 100; n++ {
			if _, err := conn.Write([]byte{1}); err != nil {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		dripped <- n
	}()
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(5*time.Second)))
	// The server closes it with a FIN (io.Copy returns nil) or, when a
	// dripped byte arrives after the close, with a RST; only the read
	// deadline means it did not close it.
	_, err = io.Copy(io.Discard, conn)
	if err != nil {
		require.ErrorIs(t, err, syscall.ECONNRESET, "the server must close the connection; a read deadline error means it did not")
	}
	conn.Close()
	require.Less(t, <-dripped, 100, "cut off before the body was complete")
}

// TestServeAnswersPastACrowdOfIdleConnections opens 30 connections that
// never send a request to a serve limited to 20 connections with a 200 ms
// header timeout, then sends a real request: the idle ones hold at most
// the limit, are cut at the header timeout, and the request is answered
// (waiting at most 5 s).
func TestServeAnswersPastACrowdOfIdleConnections(t *testing.T) {
	var serveErr syncBuffer
	addr, stop := background(t, func(ctx context.Context, ready func(string)) int {
		return runServe(ctx, []string{"--addr", "127.0.0.1:0", "--max-conns", "20", "--read-header-timeout", "200ms"},
			&bytes.Buffer{}, &serveErr, ready)
	})
	defer func() { require.Equal(t, exitOK, stop(), serveErr.String()) }()
	for range 30 {
		c, err := net.Dial("tcp", addr) // the kernel's backlog takes those past the limit
		require.NoError(t, err)
		defer c.Close()
	}
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{}}
	defer hc.CloseIdleConnections()
	resp, err := hc.Get("http://" + addr + "/v1/hello")
	require.NoError(t, err, "answered within 5 s despite the crowd")
	resp.Body.Close()
	require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
}
