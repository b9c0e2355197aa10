package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/verishake/verishake/protocol"
	"github.com/verishake/verishake/transport"
)

// syncBuffer is a bytes.Buffer safe to write from a command's goroutine
// while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// background runs a serving command until the returned stop is called;
// stop returns its exit status.
func background(t *testing.T, run func(ctx context.Context, ready func(string)) int) (addr string, stop func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan int, 1)
	go func() { done <- run(ctx, func(a string) { ready <- a }) }()
	select {
	case addr = <-ready:
	case status := <-done:
		cancel()
		t.Fatalf("command exited with %d before serving", status)
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatal("command did not start serving")
	}
	return addr, func() int { cancel(); return <-done }
}

func TestServeAndRelayRunARealHandshake(t *testing.T) {
	defer goleak.VerifyNone(t)
	dir := t.TempDir()
	store, trace := filepath.Join(dir, "sessions.db"), filepath.Join(dir, "server.jsonl")
	var relayErr, serveErr syncBuffer
	relayAddr, stopRelay := background(t, func(ctx context.Context, ready func(string)) int {
		return runRelay(ctx, []string{"--addr", "127.0.0.1:0", "--dup", "0.5", "--delay", "0..5ms"}, &bytes.Buffer{}, &relayErr, ready)
	})
	serve := func(trace string) (string, func() int) {
		return background(t, func(ctx context.Context, ready func(string)) int {
			return runServe(ctx, []string{"--addr", "127.0.0.1:0", "--store", store, "--trace", trace, "--push", "http://" + relayAddr},
				&bytes.Buffer{}, &serveErr, ready)
		})
	}
	serverAddr, stopServe := serve(trace)

	h := protocol.Hardened().MustCompile()
	hc := &http.Client{Transport: &http.Transport{}}
	defer hc.CloseIdleConnections()
	var devTrace bytes.Buffer
	tw, err := transport.NewTraceWriter(&devTrace, h.Profile())
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	dev, err := transport.RegisterDevice(ctx, transport.DeviceConfig{Handshake: h, RelayURL: "http://" + relayAddr, RegisterToken: "local-device",
		ServerURL: "http://" + serverAddr, HTTPClient: hc, Tracer: tw, PollWait: time.Second})
	require.NoError(t, err)
	devCtx, stopDev := context.WithCancel(ctx)
	devDone := make(chan struct{})
	go func() { defer close(devDone); _ = dev.Run(devCtx) }()
	state, err := dev.Handshake(ctx)
	require.NoError(t, err)
	require.Equal(t, protocol.ClientVerified, state)
	stopDev()
	<-devDone
	require.NoError(t, tw.Close())

	require.Equal(t, exitOK, stopServe(), serveErr.String())
	// The store survives the restart: the session is still verified.
	_, stopServe = serve(filepath.Join(dir, "server2.jsonl"))
	require.Equal(t, exitOK, stopServe(), serveErr.String())
	require.Equal(t, exitOK, stopRelay(), relayErr.String())
	require.Contains(t, relayErr.String(), "stopped;")

	deviceFile := filepath.Join(dir, "device.jsonl")
	require.NoError(t, os.WriteFile(deviceFile, devTrace.Bytes(), 0o600))
	status, out, errOut := runCLI("validate", trace, deviceFile)
	require.Equal(t, exitOK, status, errOut)
	require.Contains(t, out, "clients verified: 1")
	hc.CloseIdleConnections()
}

func TestServeAndRelayBadInput(t *testing.T) {
	dir := t.TempDir()
	corrupt := filepath.Join(dir, "corrupt.db")
	content := []byte("definitely not a bbolt file")
	require.NoError(t, os.WriteFile(corrupt, content, 0o600))
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--bogus"}, "bogus"},
		{[]string{"serve", "--addr", "nonsense"}, "--addr"},
		{[]string{"serve", "--addr", "127.0.0.1:notaport"}, "--addr"},
		{[]string{"serve", "--addr", "127.0.0.1:0", "--store", corrupt}, corrupt},
		{[]string{"serve", "--addr", "127.0.0.1:0", "--store", dir}, dir},
		{[]string{"serve", "--addr", "127.0.0.1:0", "--trace", filepath.Join(dir, "no", "such", "t.jsonl")}, "--trace"},
		{[]string{"serve", "--push", "ftp://x"}, "--push"},
		{[]string{"serve", "--profile", "nope"}, "--profile"},
		{[]string{"relay", "--bogus"}, "bogus"},
		{[]string{"relay", "--addr", "nonsense"}, "--addr"},
		{[]string{"relay", "--loss", "1.5"}, "loss"},
		{[]string{"relay", "--delay", "9ms..1ms"}, "--delay"},
		{[]string{"relay", "--queue-cap", "0"}, "--queue-cap"},
		{[]string{"serve", "--read-timeout", "0s"}, "--read-timeout"},
		{[]string{"serve", "--max-conns", "0"}, "--max-conns"},
		{[]string{"serve", "--idle-timeout", "soon"}, "idle-timeout"},
		{[]string{"relay", "--max-header-bytes", "-1"}, "--max-header-bytes"},
		{[]string{"relay", "--write-timeout", "10s"}, "--write-timeout"},
		{[]string{"relay", "--max-poll-wait", "0s"}, "--max-poll-wait"},
		{[]string{"serve", "--addr", "127.0.0.1:0", "--metrics", "nonsense"}, "--metrics"},
		{[]string{"relay", "--addr", "127.0.0.1:0", "--metrics", "127.0.0.1:notaport"}, "--metrics"},
	} {
		status, _, errOut := runCLI(tc.args...)
		require.Equal(t, exitUsage, status, "%v: %s", tc.args, errOut)
		require.Contains(t, errOut, tc.want, "%v", tc.args)
		require.Equal(t, 1, strings.Count(errOut, "\n"), "%v: %q", tc.args, errOut)
	}
	after, err := os.ReadFile(corrupt)
	require.NoError(t, err)
	require.Equal(t, content, after, "a corrupt store is never overwritten")
}
