package transport

import "github.com/verishake/verishake/protocol"

// BatchSaver is a Store that can save many slots in one durable write. The
// Server expires sessions through it in batches, so that expiry keeps up
// with a burst of Hellos on a store whose every write waits for the disk.
// A Store without it is saved slot by slot.
type BatchSaver interface {
	// SaveSlots saves every slot of sls as Save would, all in one write:
	// when it returns an error, none of them is saved. Server calls it
	// only while it holds the lock of every RegID in sls.
	SaveSlots(sls []protocol.Slot) error
}

// SaveSlots saves each slot of sls; a MemoryStore cannot fail.
func (s *MemoryStore) SaveSlots(sls []protocol.Slot) error {
	for _, sl := range sls {
		_ = s.Save(sl)
	}
	return nil
}
