package transport

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/verishake/verishake/protocol"
)

// slotsBucket holds one key per RegID (8 bytes, big-endian) whose value is
// the slot in appendSlot's layout. The bucket's name has kept its "v1"
// through the slot layout's versions: each value carries its own.
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
// checkBoltFile has already ruled out the damage known to do that. A panic
// inside bolt.Open leaves bbolt's descriptor, lock and map behind (there
// is no DB to close): this process cannot open the file again, which is
// the right outcome for a file that is damaged.
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
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, fmt.Errorf("locked by another process: %w", err)
		}
		if errors.Is(err, berrors.ErrInvalid) || errors.Is(err, berrors.ErrVersionMismatch) || errors.Is(err, berrors.ErrChecksum) {
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

// check reads the whole store before it is used, so that damage is found
// at start-up, not in the middle of a request: every slot must decode and
// pass its checksum, the slots must add up to the stored digest, and
// bbolt's own consistency check (every page used once, or free) must
// pass. A new file gets its buckets; a store written before slots had
// checksums (layout version 1, no digest) is rewritten in version 2 in one
// transaction, once every old slot has decoded. bbolt panics on some
// damaged pages: openCheckedBolt recovers them.
func (s *BoltStore) check() error {
	var sum slotDigest
	var old [][2][]byte // version-1 slots to rewrite, key and value
	hasSlots, hasDigest := false, false
	err := s.db.View(func(tx *bolt.Tx) error {
		if err := tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
			switch string(name) {
			case string(slotsBucket):
				hasSlots = true
			case string(digestBucket):
				hasDigest = true
			default:
				// A database with other buckets is someone else's file.
				return fmt.Errorf("%w: unexpected bucket %q", ErrCorruptStore, name)
			}
			return nil
		}); err != nil {
			return err
		}
		if !hasSlots {
			if hasDigest {
				return fmt.Errorf("%w: a digest but no bucket %q", ErrCorruptStore, slotsBucket)
			}
			return nil
		}
		if err := tx.Bucket(slotsBucket).ForEach(func(k, v []byte) error {
			if len(k) != 8 {
				return fmt.Errorf("%w: key of %d bytes, want 8", ErrCorruptStore, len(k))
			}
			id := protocol.RegID(binary.BigEndian.Uint64(k))
			if _, err := decodeSlot(id, v); err != nil {
				return err
			}
			if v[0] == slotVersion1 {
				if hasDigest {
					return fmt.Errorf("%w: slot %d has no checksum in a store whose slots have", ErrCorruptStore, id)
				}
				old = append(old, [2][]byte{bytes.Clone(k), bytes.Clone(v)})
			} else if !hasDigest {
				return fmt.Errorf("%w: slot %d has a checksum, but the store has no digest", ErrCorruptStore, id)
			}
			sum.add(k, v)
			return nil
		}); err != nil {
			return err
		}
		if hasDigest {
			stored, err := readDigest(tx)
			if err != nil {
				return err
			}
			if stored.count != sum.count {
				return fmt.Errorf("%w: %d slots, but the digest counts %d", ErrCorruptStore, sum.count, stored.count)
			}
			if stored != sum {
				return fmt.Errorf("%w: the slots do not add up to the digest: one changed without a save", ErrCorruptStore)
			}
		}
		// Every page has now been read on this goroutine, where a fault is a
		// panic; bbolt's check reads the same pages on its own goroutine.
		var first error
		for err := range tx.Check() {
			if first == nil {
				first = fmt.Errorf("%w: %w", ErrCorruptStore, err)
			}
		}
		return first
	})
	if err != nil || hasSlots && hasDigest {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(slotsBucket)
		if err != nil {
			return err
		}
		var d slotDigest
		for _, kv := range old {
			sl, err := decodeSlot(protocol.RegID(binary.BigEndian.Uint64(kv[0])), kv[1])
			if err != nil {
				return err
			}
			v := appendSlot(nil, sl)
			if err := b.Put(kv[0], v); err != nil {
				return err
			}
			d.add(kv[0], v)
		}
		return writeDigest(tx, d)
	})
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
	// the same batch fails), each time in a new transaction: the digest is
	// read and written in the same one, so it stays the sum of the slots.
	err := s.db.Batch(func(tx *bolt.Tx) error {
		d, err := readDigest(tx)
		if err != nil {
			return err
		}
		b := tx.Bucket(slotsBucket)
		if old := b.Get(key); old != nil {
			d.remove(key, old)
		}
		if val == nil {
			err = b.Delete(key)
		} else {
			err = b.Put(key, val)
			d.add(key, val)
		}
		if err != nil {
			return err
		}
		return writeDigest(tx, d)
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
