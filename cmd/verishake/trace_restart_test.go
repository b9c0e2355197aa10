package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verishake/verishake/protocol"
	"github.com/verishake/verishake/trace"
)

// TestServeAppendsToItsTrace: a second serve on the same --trace keeps the
// first run's trace and appends its own run, and validate reads both.
func TestServeAppendsToItsTrace(t *testing.T) {
	trace := filepath.Join(t.TempDir(), "server.jsonl")
	var serveErr syncBuffer
	serve := func() {
		_, stop := background(t, func(ctx context.Context, ready func(string)) int {
			return runServe(ctx, []string{"--addr", "127.0.0.1:0", "--trace", trace, "--push", "http://127.0.0.1:9"},
				&bytes.Buffer{}, &serveErr, ready)
		})
		require.Equal(t, exitOK, stop(), serveErr.String())
	}
	serve()
	first, err := os.ReadFile(trace)
	require.NoError(t, err)
	require.Equal(t, 2, bytes.Count(first, []byte("\n")), "a header and an end line")
	serve()
	both, err := os.ReadFile(trace)
	require.NoError(t, err)
	require.True(t, bytes.HasPrefix(both, first), "the first run's trace is kept")
	require.Equal(t, 2, bytes.Count(both, []byte(`"type":"header"`)))

	status, out, errOut := runCLI("validate", trace)
	require.Equal(t, exitOK, status, errOut)
	require.Contains(t, out, "1 file(s), 2 run(s)")
}

// TestServeRefusesToAppendToANonTrace: --trace naming a file that is not
// a trace is bad input, and the file is left as it is.
func TestServeRefusesToAppendToANonTrace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notes.txt")
	content := []byte("my notes, not a trace\n")
	require.NoError(t, os.WriteFile(path, content, 0o600))
	// Were the file taken, serve would run until the context ends: at once.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var errBuf bytes.Buffer
	status := runServe(ctx, []string{"--addr", "127.0.0.1:0", "--trace", path}, &bytes.Buffer{}, &errBuf, nil)
	errOut := errBuf.String()
	require.Equal(t, exitUsage, status, errOut)
	require.Contains(t, errOut, path)
	require.Equal(t, 1, strings.Count(errOut, "\n"), "%q", errOut)
	after, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, content, after)
}

// TestValidateWarnsOnRecordCutShort: the last line of a trace cut in the
// middle (a crash) is a warning on stderr, not a failure.
func TestValidateWarnsOnRecordCutShort(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cut.jsonl")
	header, err := json.Marshal(trace.Header{Type: trace.LineHeader, Schema: trace.Schema, Source: trace.SourceTransport, Profile: protocol.Hardened()})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, append(header, "\n"+`{"type":"step","n":1,"t":5,"step":"sta`...), 0o600))
	status, out, errOut := runCLI("validate", path)
	require.Equal(t, exitOK, status, errOut)
	require.Equal(t, "verishake validate: warning: "+path+":2: a record cut short (38 bytes): skipped\n", errOut)
	require.Contains(t, out, "1 file(s), 1 run(s), profile hardened: 0 steps")
}
