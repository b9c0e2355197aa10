package transport

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verishake/verishake/protocol"
)

// savedStore makes a real bbolt store at path holding n slots drawn from
// seed (and a few deleted again, so that the file has free pages), and
// returns what it holds.
func savedStore(t *testing.T, path string, n int, seed uint64) map[protocol.RegID]protocol.Slot {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, seed^0x5eed))
	token := func() protocol.Token {
		var tok protocol.Token
		for i := range tok {
			tok[i] = byte(rng.UintN(256))
		}
		tok[0] |= 1
		return tok
	}
	s, err := OpenBoltStore(path)
	require.NoError(t, err)
	// The file is closed before it is used: an fsync and a batching delay
	// per save would only make the test slow.
	s.db.NoSync, s.db.MaxBatchSize = true, 1
	saved := map[protocol.RegID]protocol.Slot{}
	for i := range n {
		sl := protocol.Slot{RegID: protocol.RegID(rng.Uint64()), State: protocol.SessionState(1 + i%3)}
		if sl.HalfOpen() {
			sl.Pending = protocol.Session{Tc: token(), Ts: token(), Expires: protocol.Time(rng.Int64())}
		}
		if sl.Verified() {
			sl.Current = protocol.Session{Tc: token(), Ts: token(), Expires: protocol.Time(rng.Int64())}
			sl.LastSeq = rng.Uint32()
			sl.Seen[0] = token()
		}
		require.NoError(t, s.Save(sl))
		saved[sl.RegID] = sl
		if i%7 == 3 {
			require.NoError(t, s.Save(protocol.Slot{RegID: sl.RegID}))
			delete(saved, sl.RegID)
		}
	}
	require.NoError(t, s.Close())
	return saved
}

// TestBoltStoreTruncatedFileIsAnError truncates a real store at page
// boundaries and in the middle of a page: every open must be an error that
// names the file (a fault or panic inside bbolt would end the test binary),
// and must leave the file as it was.
func TestBoltStoreTruncatedFileIsAnError(t *testing.T) {
	dir := t.TempDir()
	orig := filepath.Join(dir, "orig.db")
	savedStore(t, orig, 2000, 1)
	full, err := os.ReadFile(orig)
	require.NoError(t, err)
	require.Greater(t, len(full), 128<<10, "the store must be larger than every cut")
	for _, size := range []int{100, 4096, 5000, 8 << 10, 12 << 10, 16 << 10, 32 << 10, 64 << 10, 100 << 10, 128 << 10} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			path := filepath.Join(dir, fmt.Sprintf("cut-%d.db", size))
			require.NoError(t, os.WriteFile(path, full[:size], 0o600))
			_, err := OpenBoltStore(path)
			require.ErrorIs(t, err, ErrCorruptStore)
			require.Contains(t, err.Error(), path)
			after, rerr := os.ReadFile(path)
			require.NoError(t, rerr)
			require.Equal(t, full[:size], after, "the file changed")
		})
	}
}

// TestBoltStoreEmptyFileIsNotInitialised: an existing 0-byte file is
// somebody's (a truncated store, a file in /proc), not a new store.
func TestBoltStoreEmptyFileIsNotInitialised(t *testing.T) {
	path := filepath.Join(t.TempDir(), "empty.db")
	require.NoError(t, os.WriteFile(path, nil, 0o600))
	_, err := OpenBoltStore(path)
	require.Error(t, err)
	require.Contains(t, err.Error(), path)
	require.Contains(t, err.Error(), "empty")
	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.Zero(t, fi.Size(), "the empty file was written to")
}
