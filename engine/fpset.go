package engine

import (
	"math/bits"
	"sync/atomic"
)

// FPSet is the set of visited states, as 64-bit fingerprints in 256
// open-addressing tables (linear probing), one per value of a
// fingerprint's top byte: no allocation per state, 8 bytes a slot. A
// fingerprint's home slot in its shard is its next bits scaled to the
// shard (fastrange), so that a shard may have any size: each grows by
// half once it is 4/5 full, on its own, which keeps it between 8/15 and
// 4/5 full, between 10 and 15 bytes a stored state (Spin's full state
// vectors take ten times that). A shard that grows holds its old table
// and its new one for a moment: the whole set then needs 1/256 of itself
// more, not two and a half times itself as one table would. Large tables
// are mapped from the operating system and returned to it when they are
// replaced (tableAlloc), so that a table left behind by a growth is not
// garbage waiting for a collection.
//
// Zero marks an empty slot, so fingerprint 0 is stored as 1: a collision
// no likelier than any other.
type FPSet struct {
	shards [fpShards]fpShard
	n      int
	bytes  int
}

type fpShard struct {
	slots  []uint64
	n      int
	mapped bool // slots came from the operating system (tableAlloc)
}

const (
	fpShardBits = 8
	fpShards    = 1 << fpShardBits
	minShard    = 16
)

// NewFPSet returns an empty set with room for capacity fingerprints
// before it first grows.
func NewFPSet(capacity int) *FPSet {
	size := minShard
	for size*4/5 < capacity/fpShards+1 {
		size += size / 2
	}
	s := &FPSet{}
	for i := range s.shards {
		s.shards[i].slots, s.shards[i].mapped = tableAlloc(size)
		s.bytes += 8 * size
	}
	return s
}

func (s *FPSet) shard(fp uint64) *fpShard { return &s.shards[shardOf(fp)] }

func (sh *fpShard) home(fp uint64) int {
	hi, _ := bits.Mul64(fp<<fpShardBits, uint64(len(sh.slots)))
	return int(hi)
}

func (sh *fpShard) grows() bool { return 5*(sh.n+1) > 4*len(sh.slots) }

// Add inserts fp and reports whether it was new.
func (s *FPSet) Add(fp uint64) bool {
	added, grew := s.addToShard(fp)
	if added {
		s.n++
	}
	s.bytes += grew
	return added
}

// addToShard is Add with the set's totals left to the caller: it inserts
// fp into its shard and reports whether fp was new and how many bytes the
// shard grew by. Goroutines may call it at once for fingerprints of
// different shards (the search's addInParallel does).
func (s *FPSet) addToShard(fp uint64) (added bool, grew int) {
	if fp == 0 {
		fp = 1
	}
	sh := s.shard(fp)
	for i := sh.home(fp); ; {
		switch sh.slots[i] {
		case 0:
			if sh.grows() {
				// Only a new fingerprint grows a shard, so that a
				// search at its memory budget can still look up the rest.
				grew += s.grow(sh)
				i = sh.home(fp)
				continue
			}
			sh.slots[i] = fp
			sh.n++
			return true, grew
		case fp:
			return false, grew
		}
		if i++; i == len(sh.slots) {
			i = 0
		}
	}
}

// shardOf is the shard fp is kept in (0 is kept as 1, in shard 0).
func shardOf(fp uint64) int { return int(max(fp, 1) >> (64 - fpShardBits)) }

// growthBound is at most what adding fps new fingerprints to shard i may
// grow it by, in all and in the largest single table it makes.
func (s *FPSet) growthBound(i, fps int) (total, largest int) {
	sh := &s.shards[i]
	n, size := sh.n, len(sh.slots)
	for 5*(n+fps) > 4*size {
		grown := size + size/2
		total, largest = total+8*(grown-size), 8*grown
		size = grown
	}
	return total, largest
}

// Has reports whether fp is in the set. Any number of goroutines may call
// it while none calls Add.
func (s *FPSet) Has(fp uint64) bool {
	if fp == 0 {
		fp = 1
	}
	sh := s.shard(fp)
	return probe(sh.slots, sh.home(fp), fp)
}

// probe reports whether v is in the run of full slots of a linear-probing
// table that starts at i.
func probe[T uint32 | uint64](slots []T, i int, v T) bool {
	for {
		switch slots[i] {
		case 0:
			return false
		case v:
			return true
		}
		if i++; i == len(slots) {
			i = 0
		}
	}
}

// grow makes sh's table half as big again and returns the bytes it added.
func (s *FPSet) grow(sh *fpShard) int {
	old, oldMapped := sh.slots, sh.mapped
	size := len(old) + len(old)/2
	sh.slots, sh.mapped = tableAlloc(size)
	for _, fp := range old {
		if fp == 0 {
			continue
		}
		i := sh.home(fp)
		for sh.slots[i] != 0 {
			if i++; i == len(sh.slots) {
				i = 0
			}
		}
		sh.slots[i] = fp
	}
	tableFree(old, oldMapped)
	return 8 * (size - len(old))
}

// free returns the set's tables; the set is empty and unusable after.
func (s *FPSet) free() {
	for i := range s.shards {
		sh := &s.shards[i]
		tableFree(sh.slots, sh.mapped)
		sh.slots, sh.n = nil, 0
	}
	s.n, s.bytes = 0, 0
}

// Len is the number of fingerprints stored.
func (s *FPSet) Len() int { return s.n }

// Touch reads fp's home slot, to bring it into the cache before Has.
func (s *FPSet) Touch(fp uint64) uint64 {
	sh := s.shard(fp)
	return sh.slots[sh.home(fp)]
}

// Grows reports whether adding fp, if it is new, grows its shard.
func (s *FPSet) Grows(fp uint64) bool {
	if fp == 0 {
		fp = 1
	}
	return s.shard(fp).grows()
}

// GrowBytes is the memory the set needs beyond Bytes while fp's shard
// grows: the shard's new table, half as big again as its old one.
func (s *FPSet) GrowBytes(fp uint64) int {
	if fp == 0 {
		fp = 1
	}
	n := len(s.shard(fp).slots)
	return 8 * (n + n/2)
}

// Bytes is the memory the set holds.
func (s *FPSet) Bytes() int { return s.bytes }

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
