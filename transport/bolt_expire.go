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
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(slotsBucket)
		for _, sl := range sls {
			key := regKey(sl.RegID)
			if sl.State == protocol.SessionNone {
				if err := b.Delete(key); err != nil {
					return err
				}
				continue
			}
			// bbolt keeps the value's bytes until commit: one buffer each.
			if err := b.Put(key, appendSlot(make([]byte, 0, slotLen), sl)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("session store %s: save %d slots: %w", s.path, len(sls), err)
	}
	return nil
}
