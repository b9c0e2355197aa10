package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verishake/verishake/protocol"
	"github.com/verishake/verishake/transport"
)

// TestServeRefusesTruncatedStore: a store cut short at a page boundary
// (where bbolt used to fault or panic while opening it) or a 0-byte file
// is bad input: exit 2, one line naming the file, the file unchanged.
func TestServeRefusesTruncatedStore(t *testing.T) {
	dir := t.TempDir()
	orig := filepath.Join(dir, "orig.db")
	s, err := transport.OpenBoltStore(orig)
	require.NoError(t, err)
	// Concurrent saves share bbolt batches: 640 slots in a few fsyncs,
	// enough to fill pages well past the largest cut.
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 64 {
		wg.Go(func() {
			for i := range 10 {
				id := protocol.RegID(g*10 + i + 1)
				if err := s.Save(protocol.Slot{RegID: id, State: protocol.AwaitConfirm1,
					Pending: protocol.Session{Tc: protocol.Token{1, byte(i)}, Ts: protocol.Token{2, byte(g)}, Expires: 1}}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.NoError(t, s.Close())
	full, err := os.ReadFile(orig)
	require.NoError(t, err)
	require.Greater(t, len(full), 64<<10)
	for _, size := range []int{8 << 10, 16 << 10, 32 << 10, 64 << 10, 0} {
		path := filepath.Join(dir, fmt.Sprintf("cut-%d.db", size))
		require.NoError(t, os.WriteFile(path, full[:size], 0o600))
		// A store that opens would serve until the context ends: it ends at once.
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		var errBuf bytes.Buffer
		status := runServe(ctx, []string{"--addr", "127.0.0.1:0", "--store", path}, &bytes.Buffer{}, &errBuf, nil)
		errOut := errBuf.String()
		require.Equal(t, exitUsage, status, "%d bytes: %s", size, errOut)
		require.Contains(t, errOut, path)
		require.Equal(t, 1, strings.Count(errOut, "\n"), "%d bytes: %q", size, errOut)
		after, err := os.ReadFile(path)
		require.NoError(t, err)
		require.Equal(t, full[:size], after, "%d bytes: the file changed", size)
	}
}

// TestServeRefusesDamagedSlot: one changed byte of a stored server token
// still decodes; its checksum fails, and serve refuses the store rather
// than serve the altered session.
func TestServeRefusesDamagedSlot(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sessions.db")
	s, err := transport.OpenBoltStore(path)
	require.NoError(t, err)
	ts := protocol.Token(bytes.Repeat([]byte{0xab}, protocol.TokenBytes))
	require.NoError(t, s.Save(protocol.Slot{RegID: 5, State: protocol.SessionVerified,
		Current: protocol.Session{Tc: protocol.Token{1}, Ts: ts, Expires: 1}}))
	require.NoError(t, s.Close())
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	at := bytes.Index(data, ts[:])
	require.Positive(t, at, "the token is in the file")
	data[at+3] ^= 0x01
	require.NoError(t, os.WriteFile(path, data, 0o600))

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var errBuf bytes.Buffer
	status := runServe(ctx, []string{"--addr", "127.0.0.1:0", "--store", path}, &bytes.Buffer{}, &errBuf, nil)
	require.Equal(t, exitUsage, status, errBuf.String())
	require.Contains(t, errBuf.String(), path)
	require.Contains(t, errBuf.String(), "checksum")
	require.Equal(t, 1, strings.Count(errBuf.String(), "\n"), "%q", errBuf.String())
	after, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, data, after, "the damaged store is left as it is")
}
