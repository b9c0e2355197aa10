package engine

import "syscall"

// adviseHugePages asks Linux to back b with transparent huge pages, which
// it does for memory that asks when it is set to "madvise" (a common
// default) and for all memory when set to "always". A lookup in a visited
// set of hundreds of megabytes lands on a random page: with 4 KiB pages
// almost every one also misses the TLB and walks the page table, with 2
// MiB pages far fewer do. The advice is only advice: where it is refused,
// the table works as before.
func adviseHugePages(b []byte) { _ = syscall.Madvise(b, syscall.MADV_HUGEPAGE) }
