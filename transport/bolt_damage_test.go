package transport

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"

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

// TestBoltStoreNeverServesDamagedSlots changes single bytes of a real
// store file (4,000 offsets below bbolt's high-water mark, each XORed with
// a nonzero mask, both drawn from a fixed seed) and opens it: either the
// open fails with ErrCorruptStore naming the file, or every slot reads
// back exactly as it was saved and no other slot appears. A byte in a free
// page or in the slack of a page changes nothing; every other change must
// be caught.
func TestBoltStoreNeverServesDamagedSlots(t *testing.T) {
	dir := t.TempDir()
	orig := filepath.Join(dir, "orig.db")
	saved := savedStore(t, orig, 60, 2)
	full, err := os.ReadFile(orig)
	require.NoError(t, err)
	f, err := os.Open(orig)
	require.NoError(t, err)
	meta, err := readBoltMeta(f, 0, int64(len(full)))
	require.NoError(t, f.Close())
	require.NoError(t, err)
	used := int(meta.pgid) * int(meta.pageSize)

	path := filepath.Join(dir, "damaged.db")
	require.NoError(t, os.WriteFile(path, full, 0o600))
	// One byte is changed and put back in place: rewriting the whole file
	// each time would make the test ten times slower.
	damage, err := os.OpenFile(path, os.O_RDWR, 0)
	require.NoError(t, err)
	defer damage.Close()
	rng := rand.New(rand.NewPCG(3, 4))
	caught, harmless := 0, 0
	for range 4000 {
		off, mask := rng.IntN(used), byte(1+rng.UintN(255))
		_, err := damage.WriteAt([]byte{full[off] ^ mask}, int64(off))
		require.NoError(t, err)
		if diff, err := loadsAsSaved(t, path, saved); err != nil {
			require.ErrorIs(t, err, ErrCorruptStore, "offset %d ^ %#x", off, mask)
			require.Contains(t, err.Error(), path)
			caught++
		} else {
			require.Empty(t, diff, "offset %d ^ %#x", off, mask)
			harmless++
		}
		_, err = damage.WriteAt(full[off:off+1], int64(off))
		require.NoError(t, err)
	}
	require.NotZero(t, caught)
	t.Logf("%d single-byte changes in %d pages: %d caught, %d harmless", caught+harmless, meta.pgid, caught, harmless)
}

// loadsAsSaved opens the store at path and returns the error opening it
// gave, or else what differs from saved ("" when nothing does).
func loadsAsSaved(t *testing.T, path string, saved map[protocol.RegID]protocol.Slot) (diff string, openErr error) {
	t.Helper()
	s, err := OpenBoltStore(path)
	if err != nil {
		return "", err
	}
	defer s.Close()
	n := 0
	require.NoError(t, s.Range(func(sl protocol.Slot) bool {
		n++
		if want, ok := saved[sl.RegID]; !ok {
			diff = fmt.Sprintf("slot %d appeared", sl.RegID)
		} else if sl != want {
			diff = fmt.Sprintf("slot %d reads back changed", sl.RegID)
		}
		return diff == ""
	}))
	if diff == "" && n != len(saved) {
		diff = fmt.Sprintf("%d slots read back, %d saved", n, len(saved))
	}
	for id, want := range saved {
		if diff != "" {
			break
		}
		sl, ok, err := s.Load(id)
		require.NoError(t, err)
		if !ok || sl != want {
			diff = fmt.Sprintf("slot %d loads changed (found %v)", id, ok)
		}
	}
	return diff, nil
}

// TestBoltStoreReadsAndUpgradesVersion1Slots: a store written before slots
// had checksums opens with the same sessions, rewritten with checksums
// and a digest, so that damage to it is caught from then on.
func TestBoltStoreReadsAndUpgradesVersion1Slots(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v1.db")
	slots := []protocol.Slot{
		{RegID: 7, State: protocol.SessionVerified, Current: protocol.Session{Tc: protocol.Token{1}, Ts: protocol.Token{2}, Expires: 9}, LastSeq: 3},
		{RegID: 8, State: protocol.AwaitConfirm1, Pending: protocol.Session{Tc: protocol.Token{4}, Ts: protocol.Token{5}, Expires: 6}},
	}
	// The layout of version 1 is version 2's without the checksum.
	db, err := bolt.Open(path, 0o600, nil)
	require.NoError(t, err)
	require.NoError(t, db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket(slotsBucket)
		if err != nil {
			return err
		}
		for _, sl := range slots {
			v := appendSlot(nil, sl)[:slotBodyLen]
			v[0] = slotVersion1
			if err := b.Put(regKey(sl.RegID), v); err != nil {
				return err
			}
		}
		return nil
	}))
	require.NoError(t, db.Close())

	s, err := OpenBoltStore(path)
	require.NoError(t, err)
	for _, want := range slots {
		got, ok, err := s.Load(want.RegID)
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, want, got)
	}
	require.NoError(t, s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(slotsBucket).ForEach(func(k, v []byte) error {
			require.Equal(t, byte(slotVersion), v[0], "slot %x is rewritten", k)
			return nil
		})
	}))
	require.NoError(t, s.Close())
	s, err = OpenBoltStore(path)
	require.NoError(t, err, "the upgraded store opens")
	require.NoError(t, s.Close())
}

// TestBoltStoreDigestCatchesLostAndForeignSlots: a slot that vanishes, or
// appears, without a Save (as damage to a page's element count would make
// it) is caught by the digest, although every remaining slot's checksum
// holds.
func TestBoltStoreDigestCatchesLostAndForeignSlots(t *testing.T) {
	for name, change := range map[string]func(b *bolt.Bucket) error{
		"lost":    func(b *bolt.Bucket) error { return b.Delete(regKey(1)) },
		"foreign": func(b *bolt.Bucket) error { return b.Put(regKey(3), b.Get(regKey(2))) },
		"moved": func(b *bolt.Bucket) error {
			v := bytes.Clone(b.Get(regKey(2)))
			if err := b.Delete(regKey(2)); err != nil {
				return err
			}
			return b.Put(regKey(3), v)
		},
	} {
		path := filepath.Join(t.TempDir(), name+".db")
		s, err := OpenBoltStore(path)
		require.NoError(t, err)
		for id := range protocol.RegID(3) {
			require.NoError(t, s.Save(protocol.Slot{RegID: id, State: protocol.AwaitConfirm1,
				Pending: protocol.Session{Tc: protocol.Token{1}, Ts: protocol.Token{2}, Expires: 3}}))
		}
		require.NoError(t, s.db.Update(func(tx *bolt.Tx) error { return change(tx.Bucket(slotsBucket)) }))
		require.NoError(t, s.Close())
		_, err = OpenBoltStore(path)
		require.ErrorIs(t, err, ErrCorruptStore, name)
		require.Contains(t, err.Error(), path)
	}
}
