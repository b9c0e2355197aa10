package bfs

import (
	"bytes"
	"cmp"
	"math/rand/v2"
	"slices"
	"testing"
)

// Byte order of keys must be the lexicographic order of their paths, or
// the search keeps other parents and counterexamples than the engine.
func TestKeyOrderIsPathOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	edges := []int{0, 1, 126, 127, 128, 1<<14 - 1, 1 << 14, 1<<21 - 1, 1 << 21, 1 << 30}
	index := func() int {
		if r.IntN(2) == 0 {
			return edges[r.IntN(len(edges))]
		}
		return r.IntN(1 << 22)
	}
	for range 20000 {
		n := 1 + r.IntN(4)
		a, b := make([]int, n), make([]int, n)
		var ka, kb []byte
		for i := range n {
			a[i], b[i] = index(), index()
			if r.IntN(3) == 0 {
				b[i] = a[i]
			}
			ka, kb = appendIndex(ka, a[i]), appendIndex(kb, b[i])
		}
		if got, want := bytes.Compare(ka, kb), slices.Compare(a, b); got != want {
			t.Fatalf("paths %v and %v compare %d, their keys %d", a, b, want, got)
		}
		back, err := Key(ka).Indices()
		if err != nil {
			t.Fatal(err)
		}
		if slices.CompareFunc(back, a, func(x int32, y int) int { return cmp.Compare(int(x), y) }) != 0 {
			t.Fatalf("key of %v decodes to %v", a, back)
		}
	}
	if _, err := Key([]byte{0x81}).Indices(); err == nil {
		t.Fatal("a key cut inside an index decoded")
	}
}
