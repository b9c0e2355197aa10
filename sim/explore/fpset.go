package explore

// fpSet is the set of visited states, as 64-bit fingerprints in one
// open-addressing table (linear probing): no allocation per state, 8 bytes
// a slot, at most 3/4 full, so between 8 and 16 bytes a stored state
// (Spin's full state vectors take ~126 here). Zero marks an empty slot, so
// fingerprint 0 is stored as 1: a collision no likelier than any other.
type fpSet struct {
	slots []uint64
	n     int
}

func newFPSet(capacity int) *fpSet {
	size := 1024
	for size*3/4 < capacity {
		size *= 2
	}
	return &fpSet{slots: make([]uint64, size)}
}

// add inserts fp and reports whether it was new.
func (s *fpSet) add(fp uint64) bool {
	if fp == 0 {
		fp = 1
	}
	if 4*(s.n+1) > 3*len(s.slots) {
		s.grow()
	}
	mask := uint64(len(s.slots) - 1)
	for i := fp & mask; ; i = (i + 1) & mask {
		switch s.slots[i] {
		case 0:
			s.slots[i] = fp
			s.n++
			return true
		case fp:
			return false
		}
	}
}

// has reports whether fp is in the set.
func (s *fpSet) has(fp uint64) bool {
	if fp == 0 {
		fp = 1
	}
	mask := uint64(len(s.slots) - 1)
	for i := fp & mask; ; i = (i + 1) & mask {
		switch s.slots[i] {
		case 0:
			return false
		case fp:
			return true
		}
	}
}

func (s *fpSet) grow() {
	old := s.slots
	s.slots = make([]uint64, 2*len(old))
	mask := uint64(len(s.slots) - 1)
	for _, fp := range old {
		if fp == 0 {
			continue
		}
		i := fp & mask
		for s.slots[i] != 0 {
			i = (i + 1) & mask
		}
		s.slots[i] = fp
	}
}

// bytes is the memory the set holds.
func (s *fpSet) bytes() int { return 8 * len(s.slots) }
