package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verishake/verishake/protocol"
	"github.com/verishake/verishake/transport"
)

// crashChildEnv makes the test binary run the command in its arguments
// instead of the tests: a serve process that the test can kill with
// SIGKILL.
const crashChildEnv = "VERISHAKE_TEST_RUN_COMMAND"

func init() {
	if os.Getenv(crashChildEnv) == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
}

var listeningRe = regexp.MustCompile(`listening on (http://127\.0\.0\.1:[0-9]+)`)

// startServeProcess runs serve in a child process and returns it with the
// URL it listens on.
func startServeProcess(t *testing.T, args ...string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(os.Environ(), crashChildEnv+"=1")
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := bufio.NewScanner(stderr)
	for lines.Scan() {
		if m := listeningRe.FindStringSubmatch(lines.Text()); m != nil {
			go func() { _, _ = io.Copy(io.Discard, stderr) }()
			return cmd, m[1]
		}
		t.Log(lines.Text())
	}
	t.Fatal("serve exited before listening")
	return nil, ""
}

// TestServeTraceSurvivesSIGKILL kills a serve process with SIGKILL in the
// middle of handshakes and restarts it on the same store and trace: the
// trace holds every step the first process took, in whole lines; the
// restart appends its run; and validate accepts the server's file (both
// runs) with the devices' trace.
func TestServeTraceSurvivesSIGKILL(t *testing.T) {
	dir := t.TempDir()
	store, trace := filepath.Join(dir, "sessions.db"), filepath.Join(dir, "server.jsonl")
	var relayErr syncBuffer
	relayAddr, stopRelay := background(t, func(ctx context.Context, ready func(string)) int {
		return runRelay(ctx, []string{"--addr", "127.0.0.1:0"}, &bytes.Buffer{}, &relayErr, ready)
	})
	serveArgs := []string{"--store", store, "--trace", trace, "--push", "http://" + relayAddr}

	// Devices reach whichever serve process is up through this proxy.
	var target atomic.Pointer[url.URL]
	proxy := httptest.NewServer(&httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(target.Load()) },
		// While serve is down, a device sees 502 and retransmits later.
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, _ error) { w.WriteHeader(http.StatusBadGateway) },
	})
	defer proxy.Close()
	child, serverURL := startServeProcess(t, serveArgs...)
	u, err := url.Parse(serverURL)
	require.NoError(t, err)
	target.Store(u)

	h := protocol.Hardened().MustCompile()
	var devTrace bytes.Buffer
	tw, err := transport.NewTraceWriter(&devTrace, h.Profile())
	require.NoError(t, err)
	hc := &http.Client{Transport: &http.Transport{}}
	defer hc.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	devCtx, stopDevices := context.WithCancel(ctx)
	verified := make(chan struct{}, 1024)
	var wg sync.WaitGroup
	for range 8 {
		dev, err := transport.RegisterDevice(ctx, transport.DeviceConfig{Handshake: h, RelayURL: "http://" + relayAddr, RegisterToken: "local-device",
			ServerURL: proxy.URL, HTTPClient: hc, Tracer: tw, PollWait: time.Second})
		require.NoError(t, err)
		wg.Go(func() { _ = dev.Run(devCtx) })
		wg.Go(func() {
			for devCtx.Err() == nil {
				if _, err := dev.Handshake(devCtx); err == nil {
					select {
					case verified <- struct{}{}:
					default:
					}
				}
			}
		})
	}
	waitVerified := func(n int) {
		for range n {
			select {
			case <-verified:
			case <-ctx.Done():
				t.Fatal("handshakes did not complete")
			}
		}
	}

	waitVerified(40)
	require.NoError(t, child.Process.Signal(syscall.SIGKILL))
	_ = child.Wait()
	killed, err := os.ReadFile(trace)
	require.NoError(t, err)
	require.True(t, bytes.HasSuffix(killed, []byte("\n")), "the trace ends with a whole line")
	steps := 0
	for _, line := range bytes.Split(bytes.TrimSuffix(killed, []byte("\n")), []byte("\n")) {
		var rec struct{ Type string }
		require.NoError(t, json.Unmarshal(line, &rec), "%s", line)
		if rec.Type == "step" {
			steps++
		}
	}
	// Each verified handshake took two server steps (Hello, Confirm1).
	require.GreaterOrEqual(t, steps, 2*40, "the steps of the killed process are in its trace")

	child, serverURL = startServeProcess(t, serveArgs...)
	u, err = url.Parse(serverURL)
	require.NoError(t, err)
	target.Store(u)
	waitVerified(40)
	stopDevices()
	wg.Wait()
	require.NoError(t, tw.Close())
	require.NoError(t, child.Process.Signal(syscall.SIGTERM))
	require.NoError(t, child.Wait(), "serve stops cleanly on SIGTERM")
	hc.CloseIdleConnections()
	require.Equal(t, exitOK, stopRelay(), relayErr.String())

	after, err := os.ReadFile(trace)
	require.NoError(t, err)
	require.True(t, bytes.HasPrefix(after, killed), "the restart appends to the killed run's trace")
	devices := filepath.Join(dir, "devices.jsonl")
	require.NoError(t, os.WriteFile(devices, devTrace.Bytes(), 0o600))
	status, out, errOut := runCLI("validate", trace, devices)
	require.Equal(t, exitOK, status, errOut)
	require.Contains(t, out, "2 file(s), 3 run(s)")
}
