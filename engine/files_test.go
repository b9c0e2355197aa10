package engine

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestLevelFileReadsBackWhatWasWritten writes a level of several
// buffers' worth of states of every length from 0 to 3,000 bytes, so
// that states straddle the writer's and the read-ahead's buffers, and
// reads it back in segments of every size the search uses: each state
// must come back byte for byte, in order, and no state more.
func TestLevelFileReadsBackWhatWasWritten(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var states [][]byte
	total := 0
	for total < 3*writeBuffer+writeBuffer/3 {
		enc := make([]byte, rng.IntN(3001))
		for i := range enc {
			enc[i] = byte(rng.Uint32())
		}
		states, total = append(states, enc), total+len(enc)
	}
	path := filepath.Join(t.TempDir(), "level-1")
	fw, err := createFile(path)
	require.NoError(t, err)
	for _, enc := range states {
		fw.state(enc)
	}
	require.NoError(t, fw.close(false))
	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, fw.bytes, fi.Size(), "the bytes counted are the bytes in the file")

	for _, segBytes := range []int{16 << 10, 100 << 10, maxSegmentBytes} {
		lr, err := openLevel(path, len(states))
		require.NoError(t, err)
		var seg frontier
		got := 0
		for lr.left > 0 {
			require.NoError(t, lr.read(&seg, segBytes, func(n int) []byte { return make([]byte, 0, max(n, chunkSize)) }))
			for _, r := range seg.refs {
				require.Equal(t, states[got], seg.chunks[r.chunk][r.off:r.end], "segments of %d bytes: state %d", segBytes, got)
				got++
			}
		}
		require.Equal(t, len(states), got)
		require.NoError(t, lr.close())
	}
}

// TestLevelFileWriteErrorIsKept writes a level of several buffers to a
// device that refuses every write: the writer keeps the error once a
// background write has failed, counts nothing more, and close returns it.
func TestLevelFileWriteErrorIsKept(t *testing.T) {
	f, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skip("no /dev/full")
	}
	fw := &fileWriter{f: f, buf: make([]byte, 0, writeBuffer), spare: make([]byte, 0, writeBuffer)}
	enc := make([]byte, 1000)
	for range 3 * writeBuffer / len(enc) {
		fw.state(enc)
	}
	require.Error(t, fw.err, "the first buffer's failed write is kept by the time the third is handed over")
	require.Less(t, fw.bytes, int64(3*writeBuffer), "nothing is counted after the error")
	require.ErrorContains(t, fw.close(false), "no space left on device")
}
