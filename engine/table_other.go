//go:build !unix

package engine

// tableAlloc returns n zeroed slots from the Go heap.
func tableAlloc(n int) ([]uint64, bool) { return make([]uint64, n), false }

// tableFree leaves the table to the garbage collector.
func tableFree([]uint64, bool) {}
