package transport

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"
	"pgregory.net/rapid"

	"github.com/verishake/verishake/protocol"
)

func genToken(t *rapid.T, label string) protocol.Token {
	var tok protocol.Token
	copy(tok[:], rapid.SliceOfN(rapid.Byte(), 16, 16).Draw(t, label))
	if tok.IsZero() {
		tok[15] = 1
	}
	return tok
}

func genSlot(t *rapid.T) protocol.Slot {
	sl := protocol.Slot{
		RegID: protocol.RegID(rapid.Uint64().Draw(t, "regid")),
		State: protocol.SessionState(rapid.IntRange(1, 3).Draw(t, "state")),
	}
	if sl.HalfOpen() {
		sl.Pending = protocol.Session{Tc: genToken(t, "ptc"), Ts: genToken(t, "pts"), Expires: protocol.Time(rapid.Int64().Draw(t, "pexp"))}
	}
	if sl.Verified() {
		sl.Current = protocol.Session{Tc: genToken(t, "ctc"), Ts: genToken(t, "cts"), Expires: protocol.Time(rapid.Int64().Draw(t, "cexp"))}
		sl.LastSeq = rapid.Uint32().Draw(t, "seq")
	}
	return sl
}

func TestSlotEncodingRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		sl := genSlot(t)
		got, err := decodeSlot(sl.RegID, appendSlot(nil, sl))
		require.NoError(t, err)
		require.Equal(t, sl, got)
	})
}

func TestSlotDecodingRejectsDamage(t *testing.T) {
	good := appendSlot(nil, protocol.Slot{RegID: 1, State: protocol.AwaitConfirm1,
		Pending: protocol.Session{Tc: protocol.Token{1}, Ts: protocol.Token{2}, Expires: 5}})
	for name, b := range map[string][]byte{
		"short":         good[:len(good)-1],
		"long":          append(append([]byte(nil), good...), 0),
		"version":       append([]byte{9}, good[1:]...),
		"state none":    append([]byte{slotVersion, 0}, good[2:]...),
		"state unknown": append([]byte{slotVersion, 7}, good[2:]...),
		"no ts":         append([]byte{slotVersion, byte(protocol.SessionVerified)}, good[2:]...),
	} {
		_, err := decodeSlot(1, b)
		require.ErrorIs(t, err, ErrCorruptStore, name)
	}
}

// storeContract is what Server relies on, for every Store.
func storeContract(t *testing.T, s Store) {
	sl := protocol.Slot{RegID: 42, State: protocol.SessionVerified,
		Current: protocol.Session{Tc: protocol.Token{1}, Ts: protocol.Token{2}, Expires: 99}, LastSeq: 7}
	_, ok, err := s.Load(42)
	require.NoError(t, err)
	require.False(t, ok)
	require.NoError(t, s.Save(sl))
	got, ok, err := s.Load(42)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, sl, got)
	require.NoError(t, s.Save(protocol.Slot{RegID: 43, State: protocol.AwaitConfirm1,
		Pending: protocol.Session{Tc: protocol.Token{3}, Ts: protocol.Token{4}, Expires: 1}}))
	var seen []protocol.RegID
	require.NoError(t, s.Range(func(sl protocol.Slot) bool { seen = append(seen, sl.RegID); return true }))
	require.ElementsMatch(t, []protocol.RegID{42, 43}, seen)
	require.NoError(t, s.Save(protocol.Slot{RegID: 42})) // no session: deleted
	_, ok, err = s.Load(42)
	require.NoError(t, err)
	require.False(t, ok)
}

func TestMemoryStore(t *testing.T) { storeContract(t, NewMemoryStore()) }

func TestBoltStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	s, err := OpenBoltStore(path)
	require.NoError(t, err)
	storeContract(t, s)
	require.NoError(t, s.Close())

	// Reopened, the slot saved last is still there.
	s, err = OpenBoltStore(path)
	require.NoError(t, err)
	_, ok, err := s.Load(43)
	require.NoError(t, err)
	require.True(t, ok)
	require.NoError(t, s.Close())
}

func TestBoltStoreCorruptFileIsNeverOverwritten(t *testing.T) {
	dir := t.TempDir()
	garbage := []byte("this is not a bbolt database, and must stay exactly as it is.")
	for name, content := range map[string][]byte{
		"garbage":   garbage,
		"zero page": make([]byte, 8192),
	} {
		path := filepath.Join(dir, name+".db")
		require.NoError(t, os.WriteFile(path, content, 0o600))
		_, err := OpenBoltStore(path)
		require.Error(t, err, name)
		require.Contains(t, err.Error(), path)
		after, rerr := os.ReadFile(path)
		require.NoError(t, rerr)
		require.Equal(t, content, after, "%s: file changed", name)
	}

	// A real bbolt file with a damaged slot value.
	path := filepath.Join(dir, "bad-slot.db")
	s, err := OpenBoltStore(path)
	require.NoError(t, err)
	require.NoError(t, s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(slotsBucket).Put(regKey(5), []byte{1, 2, 3})
	}))
	require.NoError(t, s.Close())
	before, _ := os.ReadFile(path)
	_, err = OpenBoltStore(path)
	require.ErrorIs(t, err, ErrCorruptStore)
	require.Contains(t, err.Error(), path)
	after, _ := os.ReadFile(path)
	require.Equal(t, before, after)

	// A directory is not a store.
	_, err = OpenBoltStore(dir)
	require.Error(t, err)
	require.Contains(t, err.Error(), dir)
}
