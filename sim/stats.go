package sim

import "math/bits"

// histogram records non-negative durations (nanoseconds) in log-linear
// buckets: exact below 2^subBits, then 2^subBits buckets per power of two,
// so a quantile is off by under 1/2^subBits (0.8%). Its size is fixed, which
// keeps a run's memory flat however many handshakes it counts.
type histogram struct {
	counts [(64 - subBits + 1) << subBits]uint64
	n      uint64
	max    int64
}

const subBits = 7

func bucketOf(v int64) int {
	u := uint64(max(v, 0))
	if u < 1<<subBits {
		return int(u)
	}
	l := bits.Len64(u) // > subBits
	m := u >> (l - subBits - 1)
	return (l-subBits)<<subBits + int(m) - 1<<subBits
}

// upper returns the largest value that falls in bucket i.
func upper(i int) int64 {
	if i < 1<<subBits {
		return int64(i)
	}
	l := i>>subBits + subBits // bit length of the bucket's values
	m := uint64(i&(1<<subBits-1) + 1<<subBits)
	shift := l - subBits - 1
	return int64((m+1)<<shift - 1)
}

func (h *histogram) add(v int64) {
	h.counts[bucketOf(v)]++
	h.n++
	h.max = max(h.max, v)
}

// quantile returns the q-quantile (0 < q ≤ 1): the upper bound of the
// bucket holding it, capped by the largest value seen. Zero when empty.
func (h *histogram) quantile(q float64) int64 {
	if h.n == 0 {
		return 0
	}
	rank := uint64(q*float64(h.n) + 0.5)
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return min(upper(i), h.max)
		}
	}
	return h.max
}
