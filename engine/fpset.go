package engine

import (
	"math/bits"
	"sync/atomic"
)

// FPSet is the set of visited states, as 64-bit fingerprints in one
// open-addressing table (linear probing): no allocation per state, 8 bytes
// a slot. A fingerprint's home slot is its high bits scaled to the table
// (fastrange), so the table may have any size: it grows by half once it is
// 4/5 full, which keeps it between 8/15 and 4/5 full, between 10 and 15
// bytes a stored state (Spin's full state vectors take ten times that).
// Zero marks an empty slot, so fingerprint 0 is stored as 1: a collision
// no likelier than any other.
type FPSet struct {
	slots []uint64
	n     int
}

const minFPSet = 1024

// NewFPSet returns an empty set with room for capacity fingerprints
// before it first grows.
func NewFPSet(capacity int) *FPSet {
	size := minFPSet
	for size*4/5 < capacity {
		size += size / 2
	}
	return &FPSet{slots: make([]uint64, size)}
}

func (s *FPSet) home(fp uint64) int {
	hi, _ := bits.Mul64(fp, uint64(len(s.slots)))
	return int(hi)
}

// Add inserts fp and reports whether it was new.
func (s *FPSet) Add(fp uint64) bool {
	if fp == 0 {
		fp = 1
	}
	for i := s.home(fp); ; {
		switch s.slots[i] {
		case 0:
			if s.Grows() {
				// Only a new fingerprint grows the table, so that a
				// search at its memory budget can still look up the rest.
				s.grow()
				return s.Add(fp)
			}
			s.slots[i] = fp
			s.n++
			return true
		case fp:
			return false
		}
		if i++; i == len(s.slots) {
			i = 0
		}
	}
}

// Has reports whether fp is in the set. Any number of goroutines may call
// it while none calls add.
func (s *FPSet) Has(fp uint64) bool {
	if fp == 0 {
		fp = 1
	}
	for i := s.home(fp); ; {
		switch s.slots[i] {
		case 0:
			return false
		case fp:
			return true
		}
		if i++; i == len(s.slots) {
			i = 0
		}
	}
}

func (s *FPSet) grow() {
	old := s.slots
	s.slots = make([]uint64, len(old)+len(old)/2)
	for _, fp := range old {
		if fp == 0 {
			continue
		}
		i := s.home(fp)
		for s.slots[i] != 0 {
			if i++; i == len(s.slots) {
				i = 0
			}
		}
		s.slots[i] = fp
	}
}

// Len is the number of fingerprints stored.
func (s *FPSet) Len() int { return s.n }

// Touch reads fp's home slot, to bring it into the cache before Has.
func (s *FPSet) Touch(fp uint64) uint64 { return s.slots[s.home(fp)] }

// Grows reports whether the next Add grows the table.
func (s *FPSet) Grows() bool { return 5*(s.n+1) > 4*len(s.slots) }

// GrowBytes is the memory the set holds while it grows: the old table and
// the new, half as big again.
func (s *FPSet) GrowBytes() int { return 8 * (2*len(s.slots) + len(s.slots)/2) }

// Bytes is the memory the set holds.
func (s *FPSet) Bytes() int { return 8 * len(s.slots) }

// LevelSet is a lock-free table of the fingerprints new to a level while
// the level expands, each with the least key ((state, step) in BFS order)
// that has reached it so far. A worker saves a new successor only when it
// holds the least key: the others are duplicates the merge would drop,
// and saving them is most of the cost of a level (each state is reached
// five times over in a level of the default bounds). The table has a
// fixed size; a successor that finds no room is simply saved, and the
// merge, which keeps the first of equal fingerprints, stays the judge.
type LevelSet struct {
	e []levelEntry
}

// levelEntry is a fingerprint (0: empty) and ^key, so that 0 (a cleared
// entry) is the largest key; both in one cache line.
type levelEntry struct{ fp, inv uint64 }

// levelProbes bounds a search: past it a successor is saved unjudged.
const levelProbes = 16

// Reset empties the set, sized for about n fingerprints.
func (s *LevelSet) Reset(n int) {
	size := 1 << 12
	for size < 2*n {
		size *= 2
	}
	if cap(s.e) < size {
		s.e = make([]levelEntry, size)
		return
	}
	s.e = s.e[:size]
	clear(s.e)
}

// Touch reads fp's first entry, to bring it into the cache before Claim.
func (s *LevelSet) Touch(fp uint64) uint64 {
	if fp == 0 {
		fp = 1
	}
	return atomic.LoadUint64(&s.e[fp&uint64(len(s.e)-1)].inv)
}

// Claim records that key reached fp and reports whether key is the least
// key for fp so far (or the set could not tell).
func (s *LevelSet) Claim(fp, key uint64) bool {
	if fp == 0 {
		fp = 1
	}
	mask := uint64(len(s.e) - 1)
	i := fp & mask
	for range levelProbes {
		e := &s.e[i]
		cur := atomic.LoadUint64(&e.fp)
		if cur == 0 {
			if atomic.CompareAndSwapUint64(&e.fp, 0, fp) {
				cur = fp
			} else {
				cur = atomic.LoadUint64(&e.fp)
			}
		}
		if cur == fp {
			// Lower the key to ours unless it is lower already.
			inv := ^key
			for {
				old := atomic.LoadUint64(&e.inv)
				if old >= inv {
					return false
				}
				if atomic.CompareAndSwapUint64(&e.inv, old, inv) {
					return true
				}
			}
		}
		i = (i + 1) & mask
	}
	return true
}
