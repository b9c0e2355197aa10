package transport

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
)

// bbolt's on-disk layout, as far as checkBoltFile reads it (bbolt v1.x,
// file format version 2):
// every page starts with a 16-byte header (id, flags, count, overflow);
// pages 0 and 1 each hold a meta record right after it, in the machine's
// byte order, with an FNV-64a checksum of its first 56 bytes.
const (
	boltMagic        = 0xED0CDAED
	boltVersion      = 2
	boltPageHeader   = 16
	boltMetaLen      = 56 // magic ... txid, then the checksum
	boltMinPageSize  = 512
	boltMaxPageSize  = 1 << 16
	boltNoFreelist   = ^uint64(0)
	boltMetaFlag     = 0x04
	boltFreelistFlag = 0x10
	boltBranchFlag   = 0x01
	boltLeafFlag     = 0x02
)

// boltMeta is the part of a meta page checkBoltFile uses.
type boltMeta struct {
	pageSize uint32
	root     uint64 // root bucket's page
	freelist uint64
	pgid     uint64 // high-water mark: pages [0, pgid) are in use or free
	txid     uint64
}

// checkBoltFile reads the meta pages of an existing bbolt file and checks
// that the pages they name are inside the file, so that bbolt is never
// handed a file it would fault or panic on when it maps it: bbolt reads the
// freelist and the root through a memory map, and a page past the end of a
// truncated file is a SIGBUS that no recover can catch. Both meta pages
// must be intact: bbolt would silently fall back to the older one, and with
// it to the sessions of an earlier transaction.
//
// It returns os.ErrNotExist for a missing file; every other error wraps
// ErrCorruptStore.
func checkBoltFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return errors.New("not a regular file")
	}
	size := fi.Size()
	if size == 0 {
		// bbolt would make it a new database; a store that exists but is
		// empty was cut short, or is not a store (a file in /proc).
		return fmt.Errorf("%w: empty file (0 bytes); remove it to start a new store", ErrCorruptStore)
	}
	m0, err := readBoltMeta(f, 0, size)
	if err != nil {
		return fmt.Errorf("%w: meta page 0: %w", ErrCorruptStore, err)
	}
	m1, err := readBoltMeta(f, int64(m0.pageSize), size)
	if err != nil {
		return fmt.Errorf("%w: meta page 1: %w", ErrCorruptStore, err)
	}
	if m1.pageSize != m0.pageSize {
		return fmt.Errorf("%w: meta pages disagree on the page size (%d, %d)", ErrCorruptStore, m0.pageSize, m1.pageSize)
	}
	m := m0
	if m1.txid > m0.txid {
		m = m1
	}
	ps := int64(m.pageSize)
	if size%ps != 0 {
		return fmt.Errorf("%w: a file of %d bytes, not a whole number of %d-byte pages (cut short?)", ErrCorruptStore, size, ps)
	}
	if m.pgid < 4 || m.pgid > uint64(size/ps) {
		return fmt.Errorf("%w: a file of %d bytes, but its meta page counts %d pages of %d bytes (cut short?)",
			ErrCorruptStore, size, m.pgid, ps)
	}
	if m.freelist == boltNoFreelist {
		// bbolt would rebuild and write the freelist while opening: a write
		// to a file nothing has checked yet. This store always syncs it.
		return fmt.Errorf("%w: no freelist page", ErrCorruptStore)
	}
	if err := checkBoltPage(f, m, m.freelist, "freelist", boltFreelistFlag); err != nil {
		return err
	}
	return checkBoltPage(f, m, m.root, "root", boltBranchFlag, boltLeafFlag)
}

// readBoltMeta reads and verifies the meta record of the page at off.
func readBoltMeta(f io.ReaderAt, off, size int64) (boltMeta, error) {
	var b [boltPageHeader + boltMetaLen + 8]byte
	if off+int64(len(b)) > size {
		return boltMeta{}, fmt.Errorf("file of %d bytes ends before it", size)
	}
	if _, err := f.ReadAt(b[:], off); err != nil {
		return boltMeta{}, err
	}
	le := binary.NativeEndian
	if flags := le.Uint16(b[8:]); flags != boltMetaFlag {
		return boltMeta{}, fmt.Errorf("page flags %#x, want a meta page (%#x)", flags, boltMetaFlag)
	}
	r := b[boltPageHeader:]
	if magic := le.Uint32(r); magic != boltMagic {
		return boltMeta{}, fmt.Errorf("magic %#x, want bbolt's %#x", magic, boltMagic)
	}
	if v := le.Uint32(r[4:]); v != boltVersion {
		return boltMeta{}, fmt.Errorf("bbolt file format %d, want %d", v, boltVersion)
	}
	h := fnv.New64a()
	h.Write(r[:boltMetaLen])
	if sum, want := le.Uint64(r[boltMetaLen:]), h.Sum64(); sum != want {
		return boltMeta{}, fmt.Errorf("checksum %#x, want %#x", sum, want)
	}
	m := boltMeta{pageSize: le.Uint32(r[8:]), root: le.Uint64(r[16:]), freelist: le.Uint64(r[32:]),
		pgid: le.Uint64(r[40:]), txid: le.Uint64(r[48:])}
	if m.pageSize < boltMinPageSize || m.pageSize > boltMaxPageSize || m.pageSize&(m.pageSize-1) != 0 {
		return boltMeta{}, fmt.Errorf("page size %d", m.pageSize)
	}
	return m, nil
}

// checkBoltPage checks that page id of the file lies, with its overflow
// pages, below the high-water mark, and carries one of the flags wanted.
func checkBoltPage(f io.ReaderAt, m boltMeta, id uint64, what string, flags ...uint16) error {
	if id < 2 || id >= m.pgid {
		return fmt.Errorf("%w: %s page %d outside pages 2..%d", ErrCorruptStore, what, id, m.pgid-1)
	}
	var b [boltPageHeader]byte
	if _, err := f.ReadAt(b[:], int64(id)*int64(m.pageSize)); err != nil {
		return fmt.Errorf("%w: %s page %d: %w", ErrCorruptStore, what, id, err)
	}
	le := binary.NativeEndian
	if got := le.Uint64(b[:]); got != id {
		return fmt.Errorf("%w: %s page %d says it is page %d", ErrCorruptStore, what, id, got)
	}
	if overflow := uint64(le.Uint32(b[12:])); id+overflow >= m.pgid {
		return fmt.Errorf("%w: %s page %d runs %d pages past the last page %d", ErrCorruptStore, what, id, overflow, m.pgid-1)
	}
	got := le.Uint16(b[8:])
	for _, want := range flags {
		if got == want {
			return nil
		}
	}
	return fmt.Errorf("%w: %s page %d has page flags %#x", ErrCorruptStore, what, id, got)
}
