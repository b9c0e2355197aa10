package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verishake/verishake/protocol"
	"github.com/verishake/verishake/transport"
)

// TestServeEvictsAtTheCapAndValidateReplaysIt fills hardened's half-open
// cap through `serve --evict-after 1ns` and sends a few Hellos more: each
// evicts the oldest pending session instead of being refused, and
// `validate` replays the trace, evictions included, with every property
// kept. (The push endpoint refuses connections: each Hello is answered
// 502, its step stored all the same.)
func TestServeEvictsAtTheCapAndValidateReplaysIt(t *testing.T) {
	const extra = 5
	trace := filepath.Join(t.TempDir(), "server.jsonl")
	var serveErr syncBuffer
	addr, stop := background(t, func(ctx context.Context, ready func(string)) int {
		return runServe(ctx, []string{"--addr", "127.0.0.1:0", "--trace", trace, "--push", "http://127.0.0.1:9", "--evict-after", "1ns"},
			&bytes.Buffer{}, &serveErr, ready)
	})
	for i := range protocol.Hardened().HalfOpenCap + extra {
		frame, err := protocol.EncodeMessage(protocol.Message{Kind: protocol.Hello, RegID: protocol.RegID(i + 1), Tc: protocol.Token{1}})
		require.NoError(t, err)
		resp, err := http.Post("http://"+addr+transport.PathHello, "application/octet-stream", bytes.NewReader(frame))
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusBadGateway, resp.StatusCode, "Hello %d: stored, its push refused; never 429", i+1)
	}
	require.Equal(t, exitOK, stop(), serveErr.String())

	status, out, errOut := runCLI("validate", "--json", trace)
	require.Equal(t, exitOK, status, errOut)
	var rep struct {
		OK        bool `json:"ok"`
		Evictions int  `json:"evictions"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	require.True(t, rep.OK, out)
	require.Equal(t, extra, rep.Evictions, "one eviction per Hello past the cap")
	status, out, errOut = runCLI("validate", trace)
	require.Equal(t, exitOK, status, errOut)
	require.Contains(t, out, "evictions: 5 pending sessions ended before their lifetime")
}
