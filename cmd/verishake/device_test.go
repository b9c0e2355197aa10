package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// TestDeviceCommandVerifiesThroughServeAndRelay runs relay and serve as the
// CLI runs them, then `verishake device --count 3` against them: three
// devices register, verify, and the command exits 0.
func TestDeviceCommandVerifiesThroughServeAndRelay(t *testing.T) {
	defer goleak.VerifyNone(t)
	var relayErr, serveErr syncBuffer
	relayAddr, stopRelay := background(t, func(ctx context.Context, ready func(string)) int {
		return runRelay(ctx, []string{"--addr", "127.0.0.1:0", "--dup", "0.2", "--delay", "0..5ms"}, &bytes.Buffer{}, &relayErr, ready)
	})
	serverAddr, stopServe := background(t, func(ctx context.Context, ready func(string)) int {
		return runServe(ctx, []string{"--addr", "127.0.0.1:0", "--push", "http://" + relayAddr}, &bytes.Buffer{}, &serveErr, ready)
	})
	var out, errOut bytes.Buffer
	status := runDevice(context.Background(), []string{"--relay", "http://" + relayAddr, "--server", "http://" + serverAddr,
		"--count", "3", "--timeout", "20s"}, &out, &errOut)
	require.Equal(t, exitOK, status, errOut.String())
	require.Equal(t, 3, strings.Count(out.String(), ": verified\n"), out.String())
	require.Contains(t, errOut.String(), "3 of 3 devices verified")
	require.Equal(t, exitOK, stopServe(), serveErr.String())
	require.Equal(t, exitOK, stopRelay(), relayErr.String())
	require.Contains(t, relayErr.String(), "3 devices")
}

// TestDeviceCommandBadInput checks that each bad flag exits 2 with one
// line naming it, and that a relay that refuses the registration token is
// reported as such.
func TestDeviceCommandBadInput(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"device"}, "--relay"},
		{[]string{"device", "--relay", "http://127.0.0.1:1"}, "--server"},
		{[]string{"device", "--relay", "ftp://x", "--server", "http://127.0.0.1:1"}, "--relay"},
		{[]string{"device", "--relay", "http://127.0.0.1:1", "--server", "nope"}, "--server"},
		{[]string{"device", "--relay", "http://127.0.0.1:1", "--server", "http://127.0.0.1:1", "--count", "0"}, "--count"},
		{[]string{"device", "--relay", "http://127.0.0.1:1", "--server", "http://127.0.0.1:1", "--timeout", "0s"}, "--timeout"},
		{[]string{"device", "--relay", "http://127.0.0.1:1", "--server", "http://127.0.0.1:1", "--profile", "nope"}, "--profile"},
		{[]string{"device", "--bogus"}, "bogus"},
	} {
		status, _, errOut := runCLI(tc.args...)
		require.Equal(t, exitUsage, status, "%v: %s", tc.args, errOut)
		require.Contains(t, errOut, tc.want, "%v", tc.args)
		require.Equal(t, 1, strings.Count(errOut, "\n"), "%v: %q", tc.args, errOut)
	}

	var relayErr syncBuffer
	relayAddr, stopRelay := background(t, func(ctx context.Context, ready func(string)) int {
		return runRelay(ctx, []string{"--addr", "127.0.0.1:0", "--register-token", "right"}, &bytes.Buffer{}, &relayErr, ready)
	})
	defer func() { require.Equal(t, exitOK, stopRelay(), relayErr.String()) }()
	var out, errOut bytes.Buffer
	status := runDevice(context.Background(), []string{"--relay", "http://" + relayAddr, "--server", "http://127.0.0.1:1",
		"--register-token", "wrong"}, &out, &errOut)
	require.Equal(t, exitUsage, status)
	require.Contains(t, errOut.String(), "401")
	require.Equal(t, 1, strings.Count(errOut.String(), "\n"), errOut.String())
}
