package engine

import (
	"fmt"
	"math"
	"math/bits"
	"unsafe"
)

// Compaction chooses how the visited set keeps states. Exact keeps each
// state's 64-bit fingerprint; the others keep less and may omit states:
// a state wrongly taken for one seen before is never expanded, and what
// only it leads to is never checked. A lossy search's Report.Omitted
// says how many states it may have omitted, and a property that holds
// in it holds in every state the search kept, not, for certain, in every
// reachable state.
type Compaction uint8

const (
	// Exact keeps 64-bit fingerprints (8 bytes a slot, 10 to 15 a state):
	// two states merge only when their fingerprints collide.
	Exact Compaction = iota
	// HashCompaction keeps 32 bits of each fingerprint in a table of
	// fixed size (Config.CompactBytes, 4 bytes a slot), as Spin's -DHC4
	// keeps 4 bytes: a new state is omitted when its 32 bits equal those
	// of a state it is compared with. A full table stops the search.
	HashCompaction
	// Bitstate sets 3 bits per state in a table of fixed size
	// (Config.CompactBytes), as Spin's -DBITSTATE: a new state is omitted
	// when its 3 bits are all set already. The table never grows.
	Bitstate
)

// String names the compaction as check's --compact does.
func (c Compaction) String() string {
	switch c {
	case Exact:
		return "exact"
	case HashCompaction:
		return "hash"
	case Bitstate:
		return "bitstate"
	}
	return fmt.Sprintf("Compaction(%d)", uint8(c))
}

// Lossy reports whether the compaction may omit states.
func (c Compaction) Lossy() bool { return c != Exact }

// visitedSet is what the search needs of its visited set. Any number of
// goroutines may call Has and Touch while none calls Add.
type visitedSet interface {
	// Add inserts fp and reports whether it was new.
	Add(fp uint64) bool
	Has(fp uint64) bool
	// Touch reads what Has will, to bring it into the cache.
	Touch(fp uint64) uint64
	Len() int
	Bytes() int
	// Grows reports whether adding fp, if new, grows the set, and
	// GrowBytes what the set needs beyond Bytes while it does.
	Grows(fp uint64) bool
	GrowBytes(fp uint64) int
	// omitted is the expected number of states the set omitted.
	omitted() float64
	free()
}

func (s *FPSet) omitted() float64 { return 0 }

// hcSet is the visited set of HashCompaction: one open-addressing table
// of fixed size (Config.CompactBytes) whose slots keep the fingerprint's
// low 32 bits, its high bits picking the home slot. A table that keeps
// only part of each fingerprint cannot grow (the home of a value moved to
// a bigger table is in the bits it no longer has), so a full one (4/5)
// stops the search, as a full budget does. It counts the stored values a
// new fingerprint was compared with before it found its empty slot: each
// such comparison wrongly matches with probability 2^-32, so the expected
// number of states omitted is about that count over 2^32.
type hcSet struct {
	slots    []uint32
	table    []uint64 // what slots is a view of, as tableAlloc made it
	mapped   bool
	n        int
	compared uint64
}

func newHCSet(bytes int64) *hcSet {
	s := &hcSet{}
	s.table, s.mapped = tableAlloc(max(int(bytes/8), minShard))
	s.slots = unsafe.Slice((*uint32)(unsafe.Pointer(&s.table[0])), 2*len(s.table))
	return s
}

func (s *hcSet) home(fp uint64) int {
	hi, _ := bits.Mul64(fp, uint64(len(s.slots)))
	return int(hi)
}

// value is what a slot keeps of fp; 0 marks an empty slot.
func value(fp uint64) uint32 { return max(uint32(fp), 1) }

func (s *hcSet) Add(fp uint64) bool {
	v := value(fp)
	compared := uint64(0)
	for i := s.home(fp); ; {
		switch s.slots[i] {
		case 0:
			s.slots[i] = v
			s.n++
			s.compared += compared
			return true
		case v:
			return false
		}
		compared++
		if i++; i == len(s.slots) {
			i = 0
		}
	}
}

func (s *hcSet) Has(fp uint64) bool { return probe(s.slots, s.home(fp), value(fp)) }

func (s *hcSet) Len() int               { return s.n }
func (s *hcSet) Bytes() int             { return 8 * len(s.table) }
func (s *hcSet) Touch(fp uint64) uint64 { return uint64(s.slots[s.home(fp)]) }

// Grows reports that the table is full: it never grows, and the search
// stops rather than fill it past 4/5.
func (s *hcSet) Grows(uint64) bool    { return 5*(s.n+1) > 4*len(s.slots) }
func (s *hcSet) GrowBytes(uint64) int { return 1 << 50 } // more than any budget: it never grows
func (s *hcSet) omitted() float64     { return float64(s.compared) / (1 << 32) }
func (s *hcSet) free()                { tableFree(s.table, s.mapped); s.table, s.slots = nil, nil }

// bitSet is the visited set of Bitstate: a table of bits, 3 set per
// state at places drawn from its fingerprint. Before each new state is
// added, the chance that its bits were all set already, had it been new,
// is f³ for a fraction f of bits set: their sum is the expected number
// of states omitted.
type bitSet struct {
	words    []uint64
	mapped   bool
	n, ones  int
	expected float64
}

const bitstateHashes = 3

func newBitSet(bytes int64) *bitSet {
	words := max(int(bytes/8), 1)
	s := &bitSet{}
	s.words, s.mapped = tableAlloc(words)
	return s
}

// bit is the place of fp's k-th bit: double hashing over the fingerprint.
func (s *bitSet) bit(fp uint64, k int) uint64 {
	h2 := bits.RotateLeft64(fp, 32)*0x9e3779b97f4a7c15 | 1
	hi, _ := bits.Mul64(fp+uint64(k)*h2, uint64(len(s.words))*64)
	return hi
}

func (s *bitSet) Has(fp uint64) bool {
	for k := range bitstateHashes {
		b := s.bit(fp, k)
		if s.words[b/64]&(1<<(b%64)) == 0 {
			return false
		}
	}
	return true
}

func (s *bitSet) Add(fp uint64) bool {
	if s.Has(fp) {
		return false
	}
	s.expected += math.Pow(float64(s.ones)/float64(64*len(s.words)), bitstateHashes)
	for k := range bitstateHashes {
		b := s.bit(fp, k)
		if w := &s.words[b/64]; *w&(1<<(b%64)) == 0 {
			*w |= 1 << (b % 64)
			s.ones++
		}
	}
	s.n++
	return true
}

func (s *bitSet) Touch(fp uint64) uint64 { return s.words[s.bit(fp, 0)/64] }
func (s *bitSet) Len() int               { return s.n }
func (s *bitSet) Bytes() int             { return 8 * len(s.words) }
func (s *bitSet) Grows(uint64) bool      { return false }
func (s *bitSet) GrowBytes(uint64) int   { return 0 }
func (s *bitSet) omitted() float64       { return s.expected }

func (s *bitSet) free() {
	tableFree(s.words, s.mapped)
	s.words = nil
}
