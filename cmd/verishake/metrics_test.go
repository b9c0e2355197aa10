package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// metricsURL waits (at most 5 s) for a command's stderr to name its
// metrics endpoint and returns it.
func metricsURL(t *testing.T, stderr *syncBuffer) string {
	t.Helper()
	re := regexp.MustCompile(`metrics on (http://\S+/metrics)`)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(stderr.String()); m != nil {
			return m[1]
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("no metrics endpoint announced: %s", stderr.String())
	return ""
}

func scrape(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}

// TestServeAndRelayExportMetrics runs relay and serve with --metrics, two
// devices through them and one garbage Hello, and checks the figures each
// endpoint reports.
func TestServeAndRelayExportMetrics(t *testing.T) {
	defer goleak.VerifyNone(t)
	var relayErr, serveErr syncBuffer
	relayAddr, stopRelay := background(t, func(ctx context.Context, ready func(string)) int {
		return runRelay(ctx, []string{"--addr", "127.0.0.1:0", "--metrics", "127.0.0.1:0"}, &bytes.Buffer{}, &relayErr, ready)
	})
	serverAddr, stopServe := background(t, func(ctx context.Context, ready func(string)) int {
		return runServe(ctx, []string{"--addr", "127.0.0.1:0", "--push", "http://" + relayAddr, "--metrics", "127.0.0.1:0",
			"--store", t.TempDir() + "/sessions.db"}, &bytes.Buffer{}, &serveErr, ready)
	})
	relayMetricsURL, serveMetricsURL := metricsURL(t, &relayErr), metricsURL(t, &serveErr)

	var out, errOut bytes.Buffer
	status := runDevice(context.Background(), []string{"--relay", "http://" + relayAddr, "--server", "http://" + serverAddr,
		"--count", "2", "--timeout", "20s"}, &out, &errOut)
	require.Equal(t, exitOK, status, errOut.String())
	resp, err := http.Post("http://"+serverAddr+"/v1/hello", "application/octet-stream", strings.NewReader("garbage"))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)

	s := scrape(t, serveMetricsURL)
	for _, want := range []string{
		`verishake_handshakes_total{outcome="verified"} 2`,
		`verishake_handshakes_total{outcome="refused_cap"} 0`,
		`verishake_handshakes_total{outcome="evicted"} 0`,
		`verishake_rejections_total{reason="malformed"} 1`,
		`verishake_half_open_sessions 0`,
		`verishake_store_failures_total{op="save"} 0`,
		`verishake_push_failures_total 0`,
	} {
		require.Contains(t, s, want+"\n")
	}
	// Each handshake stores two steps durably: Hello and Confirm1.
	require.Regexp(t, `verishake_store_seconds_count\{op="save"\} [4-9]\n`, s)

	r := scrape(t, relayMetricsURL)
	for _, want := range []string{
		`verishake_relay_devices 2`,
		`verishake_relay_queued_messages 0`,
		`verishake_relay_overflows_total 0`,
		`verishake_relay_messages_total{fate="delivered"} 4`,
	} {
		require.Contains(t, r, want+"\n")
	}
	require.Equal(t, exitOK, stopServe(), serveErr.String())
	require.Equal(t, exitOK, stopRelay(), relayErr.String())
	http.DefaultClient.CloseIdleConnections()
}
