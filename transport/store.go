package transport

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"sync"

	"github.com/verishake/verishake/protocol"
)

// Store keeps the server's slots, one per RegID. Server calls Load and Save
// for a RegID only while it holds that RegID's lock, so a Store needs no
// read-modify-write transaction of its own; it must only be safe for
// concurrent calls on different RegIDs.
type Store interface {
	// Load returns id's slot; ok is false when the store has none.
	Load(id protocol.RegID) (sl protocol.Slot, ok bool, err error)
	// Save stores sl as its RegID's slot, durably if the store is durable,
	// before it returns; a slot that holds no session (State SessionNone)
	// is deleted instead.
	Save(sl protocol.Slot) error
	// Range calls fn for every stored slot, in no particular order, until
	// fn returns false. Server uses it once, when it starts, to count the
	// half-open sessions and arm the timers of slots saved before a
	// restart.
	Range(fn func(protocol.Slot) bool) error
	// Close releases the store. The Server using it must be closed first.
	Close() error
}

// ErrCorruptStore marks a stored slot that does not decode: the store was
// written by something else or damaged. The store is left as it is.
var ErrCorruptStore = errors.New("corrupt session store")

// memShards spreads the memory store over independent maps so that requests
// for different RegIDs rarely wait on the same mutex.
const memShards = 64

// MemoryStore keeps slots in memory: fast, and gone on restart. Use it for
// tests, for the simulator-like demo, and for services that accept that a
// restart ends every session (every client then re-runs its handshake).
type MemoryStore struct {
	shards [memShards]struct {
		mu    sync.Mutex
		slots map[protocol.RegID]protocol.Slot
	}
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	s := &MemoryStore{}
	for i := range s.shards {
		s.shards[i].slots = map[protocol.RegID]protocol.Slot{}
	}
	return s
}

func (s *MemoryStore) shard(id protocol.RegID) int {
	return int((uint64(id) * 0x9e3779b97f4a7c15) >> 58) // top 6 bits: 64 shards
}

// Load returns id's slot.
func (s *MemoryStore) Load(id protocol.RegID) (protocol.Slot, bool, error) {
	sh := &s.shards[s.shard(id)]
	sh.mu.Lock()
	sl, ok := sh.slots[id]
	sh.mu.Unlock()
	return sl, ok, nil
}

// Save stores sl, or deletes its RegID's slot when sl holds no session.
func (s *MemoryStore) Save(sl protocol.Slot) error {
	sh := &s.shards[s.shard(sl.RegID)]
	sh.mu.Lock()
	if sl.State == protocol.SessionNone {
		delete(sh.slots, sl.RegID)
	} else {
		sh.slots[sl.RegID] = sl
	}
	sh.mu.Unlock()
	return nil
}

// Range calls fn for every slot until it returns false.
func (s *MemoryStore) Range(fn func(protocol.Slot) bool) error {
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		slots := make([]protocol.Slot, 0, len(sh.slots))
		for _, sl := range sh.slots {
			slots = append(slots, sl)
		}
		sh.mu.Unlock()
		// fn runs without the shard lock so that it may call Load.
		for _, sl := range slots {
			if !fn(sl) {
				return nil
			}
		}
	}
	return nil
}

// Len returns the number of stored slots.
func (s *MemoryStore) Len() int {
	n := 0
	for i := range s.shards {
		s.shards[i].mu.Lock()
		n += len(s.shards[i].slots)
		s.shards[i].mu.Unlock()
	}
	return n
}

// Close does nothing; a MemoryStore holds no resources.
func (s *MemoryStore) Close() error { return nil }

// Slot layout versions: the first byte of an encoded slot, so that one
// layout is never misread as another. Version 1 (written before slots
// carried a checksum) is still read, so that an old store opens; only
// version 2 is written.
const (
	slotVersion1 = 1
	slotVersion  = 2
)

// sessionLen is an encoded Session: Tc, Ts, Expires.
const sessionLen = 2*protocol.TokenBytes + 8

// slotBodyLen is an encoded slot without its checksum: version, state,
// pending, current, last seq, the client tokens seen. The RegID is the
// key, not part of the value.
const slotBodyLen = 1 + 1 + 2*sessionLen + 4 + protocol.SeenTokens*protocol.TokenBytes

// slotLen is a version-2 slot: the body and its CRC-32C.
const slotLen = slotBodyLen + 4

// castagnoli is CRC-32C, the checksum the wire codec uses too.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// slotSum is the checksum of a slot's body under its RegID: it covers the
// key too, so that a damaged key cannot hand one RegID's session to another.
func slotSum(id protocol.RegID, body []byte) uint32 {
	var key [8]byte
	binary.BigEndian.PutUint64(key[:], uint64(id))
	return crc32.Update(crc32.Update(0, castagnoli, key[:]), castagnoli, body)
}

// appendSlot encodes sl in layout version 2: a fixed layout of all but its
// RegID, then the checksum.
func appendSlot(b []byte, sl protocol.Slot) []byte {
	start := len(b)
	b = append(b, slotVersion, byte(sl.State))
	for _, s := range [2]protocol.Session{sl.Pending, sl.Current} {
		b = append(b, s.Tc[:]...)
		b = append(b, s.Ts[:]...)
		b = binary.BigEndian.AppendUint64(b, uint64(s.Expires))
	}
	b = binary.BigEndian.AppendUint32(b, sl.LastSeq)
	for _, t := range sl.Seen {
		b = append(b, t[:]...)
	}
	return binary.BigEndian.AppendUint32(b, slotSum(sl.RegID, b[start:]))
}

// decodeSlot is appendSlot's inverse, and reads layout version 1 too. It
// checks what a damaged value could get wrong and a later Handle would
// trust: the layout version, the length, the checksum (version 2) and the
// state.
func decodeSlot(id protocol.RegID, b []byte) (protocol.Slot, error) {
	if len(b) == 0 {
		return protocol.Slot{}, fmt.Errorf("%w: slot %d: empty", ErrCorruptStore, id)
	}
	switch b[0] {
	case slotVersion:
		if len(b) != slotLen {
			return protocol.Slot{}, fmt.Errorf("%w: slot %d: %d bytes, want %d", ErrCorruptStore, id, len(b), slotLen)
		}
		if sum, want := binary.BigEndian.Uint32(b[slotBodyLen:]), slotSum(id, b[:slotBodyLen]); sum != want {
			return protocol.Slot{}, fmt.Errorf("%w: slot %d: checksum %#08x, want %#08x", ErrCorruptStore, id, sum, want)
		}
	case slotVersion1:
		if len(b) != slotBodyLen {
			return protocol.Slot{}, fmt.Errorf("%w: slot %d: %d bytes, want %d", ErrCorruptStore, id, len(b), slotBodyLen)
		}
	default:
		return protocol.Slot{}, fmt.Errorf("%w: slot %d: layout version %d, want %d", ErrCorruptStore, id, b[0], slotVersion)
	}
	sl := protocol.Slot{RegID: id, State: protocol.SessionState(b[1])}
	if sl.State == protocol.SessionNone || sl.State > protocol.Rekeying {
		return protocol.Slot{}, fmt.Errorf("%w: slot %d: state %v", ErrCorruptStore, id, sl.State)
	}
	p := b[2:]
	for _, s := range [2]*protocol.Session{&sl.Pending, &sl.Current} {
		s.Tc = protocol.Token(p[:protocol.TokenBytes])
		s.Ts = protocol.Token(p[protocol.TokenBytes : 2*protocol.TokenBytes])
		s.Expires = protocol.Time(binary.BigEndian.Uint64(p[2*protocol.TokenBytes:]))
		p = p[sessionLen:]
	}
	sl.LastSeq = binary.BigEndian.Uint32(p)
	p = p[4:]
	for i := range sl.Seen {
		sl.Seen[i] = protocol.Token(p[:protocol.TokenBytes])
		p = p[protocol.TokenBytes:]
	}
	if sl.HalfOpen() && sl.Pending.Ts.IsZero() || sl.Verified() && sl.Current.Ts.IsZero() {
		return protocol.Slot{}, fmt.Errorf("%w: slot %d: state %v without its server token", ErrCorruptStore, id, sl.State)
	}
	return sl, nil
}
