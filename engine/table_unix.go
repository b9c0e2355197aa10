//go:build unix

package engine

import (
	"syscall"
	"unsafe"
)

// mapMin is the smallest table mapped from the operating system: below
// it, a mapping's page rounding costs more than the garbage it saves.
const mapMin = 256 << 10

// tableAlloc returns n zeroed slots and whether they are a mapping of
// their own, which tableFree returns to the operating system at once:
// a visited set's tables are most of a search's memory, and a table the
// Go heap freed would stay resident until a collection and a scavenge.
func tableAlloc(n int) ([]uint64, bool) {
	if 8*n < mapMin {
		return make([]uint64, n), false
	}
	b, err := syscall.Mmap(-1, 0, 8*n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return make([]uint64, n), false
	}
	if hugeTables {
		adviseHugePages(b)
	}
	return unsafe.Slice((*uint64)(unsafe.Pointer(&b[0])), n), true
}

// hugeTables asks for the mapped tables to be backed by huge pages where
// the system offers them (adviseHugePages); a benchmark turns it off to
// measure what they gain.
var hugeTables = true

// tableFree returns a table tableAlloc mapped; the Go heap keeps the rest.
func tableFree(slots []uint64, mapped bool) {
	if !mapped || len(slots) == 0 {
		return
	}
	syscall.Munmap(unsafe.Slice((*byte)(unsafe.Pointer(&slots[0])), 8*len(slots)))
}
