package transport

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/verishake/verishake/protocol"
)

// slotsBucket holds one key per RegID (8 bytes, big-endian) whose value is
// the slot in appendSlot's layout.
var slotsBucket = []byte("verishake.slots.v1")

// BoltStore keeps slots durably in a bbolt file. Saves from concurrent
// requests are coalesced with bbolt's Batch, so a burst of handshakes costs
// one fsync per batch rather than one per step, and Save still returns only
// once its slot is on disk.
type BoltStore struct {
	db   *bolt.DB
	path string
}

// OpenBoltStore opens or creates the store at path. It never rewrites a file
// it cannot read: a file that is not a bbolt database, is cut short, is
// empty, or whose slots do not decode or fail their checksum, is reported
// as an error naming path (wrapping ErrCorruptStore for bad contents) and
// left untouched. Opening waits at most a second for another process's
// lock on the file.
func OpenBoltStore(path string) (*BoltStore, error) {
	if err := checkBoltFile(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("session store %s: %w", path, err)
	}
	s, err := openCheckedBolt(path)
	if err != nil {
		return nil, fmt.Errorf("session store %s: %w", path, err)
	}
	return s, nil
}

// openCheckedBolt opens path with bbolt and checks its contents. bbolt
// reads pages through a memory map, and a damaged page can point it
// outside the file: here that fault is a panic (debug.SetPanicOnFault),
// recovered into an error while the file is still only being read.
// checkBoltFile has already ruled out the damage known to do that.
func openCheckedBolt(path string) (s *BoltStore, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	var db *bolt.DB
	defer func() {
		if r := recover(); r != nil {
			if db != nil {
				_ = db.Close()
			}
			s, err = nil, fmt.Errorf("%w: %v", ErrCorruptStore, r)
		}
	}()
	db, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		if errors.Is(err, bolt.ErrTimeout) {
			return nil, fmt.Errorf("locked by another process: %w", err)
		}
		if errors.Is(err, bolt.ErrInvalid) || errors.Is(err, bolt.ErrVersionMismatch) || errors.Is(err, bolt.ErrChecksum) {
			return nil, fmt.Errorf("%w: %w", ErrCorruptStore, err)
		}
		return nil, err
	}
	s = &BoltStore{db: db, path: path}
	if err := s.check(); err != nil {
		_ = db.Close()
		return nil, err
	}
	return s, nil
}

// check creates the bucket on a new file and decodes every slot of an old
// one, so that damage is found at start-up, not in the middle of a request.
// bbolt panics on some damaged pages: openCheckedBolt recovers them.
func (s *BoltStore) check() error {
	exists := false
	if err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(slotsBucket)
		if b == nil {
			// A database with other buckets is someone else's file.
			return tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
				return fmt.Errorf("%w: unexpected bucket %q", ErrCorruptStore, name)
			})
		}
		exists = true
		return b.ForEach(func(k, v []byte) error {
			if len(k) != 8 {
				return fmt.Errorf("%w: key of %d bytes, want 8", ErrCorruptStore, len(k))
			}
			_, err := decodeSlot(protocol.RegID(binary.BigEndian.Uint64(k)), v)
			return err
		})
	}); err != nil {
		return err
	}
	if exists {
		return nil
	}
	if err := s.db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucket(slotsBucket)
		return err
	}); err != nil {
		return err
	}
	return nil
}

// Path returns the file the store was opened from.
func (s *BoltStore) Path() string { return s.path }

func regKey(id protocol.RegID) []byte { return binary.BigEndian.AppendUint64(nil, uint64(id)) }

// Load returns id's slot.
func (s *BoltStore) Load(id protocol.RegID) (sl protocol.Slot, ok bool, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(slotsBucket).Get(regKey(id))
		if v == nil {
			return nil
		}
		ok = true
		sl, err = decodeSlot(id, v)
		return err
	})
	if err != nil {
		return protocol.Slot{}, false, fmt.Errorf("session store %s: load %d: %w", s.path, id, err)
	}
	return sl, ok, nil
}

// Save writes sl, or deletes its RegID's slot when sl holds no session, in
// a batched transaction; it returns once the batch is committed to disk.
func (s *BoltStore) Save(sl protocol.Slot) error {
	key := regKey(sl.RegID)
	var val []byte
	if sl.State != protocol.SessionNone {
		val = appendSlot(make([]byte, 0, slotLen), sl)
	}
	// Batch may run the function more than once (when another function in
	// the same batch fails); a put or delete of fixed bytes is idempotent.
	err := s.db.Batch(func(tx *bolt.Tx) error {
		b := tx.Bucket(slotsBucket)
		if val == nil {
			return b.Delete(key)
		}
		return b.Put(key, val)
	})
	if err != nil {
		return fmt.Errorf("session store %s: save %d: %w", s.path, sl.RegID, err)
	}
	return nil
}

// Range calls fn for every slot until it returns false. fn runs inside a
// read transaction and must not call Save.
func (s *BoltStore) Range(fn func(protocol.Slot) bool) error {
	stop := errors.New("stop")
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(slotsBucket).ForEach(func(k, v []byte) error {
			if len(k) != 8 {
				return fmt.Errorf("%w: key of %d bytes, want 8", ErrCorruptStore, len(k))
			}
			sl, err := decodeSlot(protocol.RegID(binary.BigEndian.Uint64(k)), v)
			if err != nil {
				return err
			}
			if !fn(sl) {
				return stop
			}
			return nil
		})
	})
	if err != nil && err != stop {
		return fmt.Errorf("session store %s: %w", s.path, err)
	}
	return nil
}

// Close closes the file.
func (s *BoltStore) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("session store %s: close: %w", s.path, err)
	}
	return nil
}
