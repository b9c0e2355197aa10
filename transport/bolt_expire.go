package transport

import (
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/verishake/verishake/protocol"
)

// SaveSlots writes every slot of sls, deleting those that hold no session,
// in one transaction: one fsync for the lot, and all of them or none.
func (s *BoltStore) SaveSlots(sls []protocol.Slot) error {
	if len(sls) == 0 {
		return nil
	}
	// The digest of all slots (see Save) changes with them, in the same
	// transaction: a batch that skipped it would read as a corrupt store
	// at the next open.
	err := s.db.Update(func(tx *bolt.Tx) error {
		d, err := readDigest(tx)
		if err != nil {
			return err
		}
		b := tx.Bucket(slotsBucket)
		for _, sl := range sls {
			key := regKey(sl.RegID)
			if old := b.Get(key); old != nil {
				d.remove(key, old)
			}
			if sl.State == protocol.SessionNone {
				if err := b.Delete(key); err != nil {
					return err
				}
				continue
			}
			// bbolt keeps the value's bytes until commit: one buffer each.
			val := appendSlot(make([]byte, 0, slotLen), sl)
			if err := b.Put(key, val); err != nil {
				return err
			}
			d.add(key, val)
		}
		return writeDigest(tx, d)
	})
	if err != nil {
		return fmt.Errorf("session store %s: save %d slots: %w", s.path, len(sls), err)
	}
	return nil
}
