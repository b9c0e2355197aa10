package engine

import (
	"bufio"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// spill keeps a search's levels in files of a work directory, so that a
// level's size is bounded by the disk and not by memory. A level's
// frontier (each state's encoding after its length as a uvarint) is
// written once, in order, and read back once, in order, block by block; a
// level's trail (parent index and action index, two little-endian int32
// per state) is read back only to rebuild a counterexample.
type spill struct {
	dir   string
	owned bool  // dir was made by the search and goes with it
	disk  int64 // bytes in the files now
}

// createForWrite opens a file to write; tests point it at a full disk.
var createForWrite = func(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
}

func newSpill(workDir string) (*spill, error) {
	if err := os.MkdirAll(workDir, 0o700); err != nil {
		return nil, fmt.Errorf("engine: work directory: %w", err)
	}
	dir, err := os.MkdirTemp(workDir, "search-")
	if err != nil {
		return nil, fmt.Errorf("engine: work directory: %w", err)
	}
	return &spill{dir: dir, owned: true}, nil
}

func (sp *spill) levelPath(l int) string { return filepath.Join(sp.dir, fmt.Sprintf("level-%d", l)) }
func (sp *spill) trailPath(l int) string { return filepath.Join(sp.dir, fmt.Sprintf("trail-%d", l)) }

// remove deletes a file the search no longer needs.
func (sp *spill) remove(path string) {
	if fi, err := os.Stat(path); err == nil {
		sp.disk -= fi.Size()
	}
	os.Remove(path)
}

// close removes the work directory the search made.
func (sp *spill) close() {
	if sp.owned {
		os.RemoveAll(sp.dir)
	}
}

// fileWriter writes a file sequentially and keeps its first error, so
// that a full disk is found once, where it is checked. It fills one
// buffer while a goroutine of its own writes the other: the frontier and
// the trail are written by the merge, which the workers wait for, and a
// write(2) into the page cache, throttled while the kernel writes back,
// costs as much as the rest of the merge. An error of a background write
// is kept when the next buffer is handed over, or at close.
type fileWriter struct {
	f       *os.File
	buf     []byte     // being filled
	spare   []byte     // the other buffer, when no write is in flight
	written chan error // the background write's outcome (nil: none in flight)
	bytes   int64
	err     error
}

// writeBuffer is the size of each of a fileWriter's two buffers.
const writeBuffer = 1 << 20

func createFile(path string) (*fileWriter, error) {
	f, err := createForWrite(path)
	if err != nil {
		return nil, err
	}
	return &fileWriter{f: f, buf: make([]byte, 0, writeBuffer), spare: make([]byte, 0, writeBuffer)}, nil
}

func (fw *fileWriter) write(p []byte) {
	if fw.err != nil {
		return
	}
	for len(p) > 0 {
		n := copy(fw.buf[len(fw.buf):cap(fw.buf)], p)
		fw.buf, p, fw.bytes = fw.buf[:len(fw.buf)+n], p[n:], fw.bytes+int64(n)
		if len(fw.buf) == cap(fw.buf) {
			if fw.handOver(); fw.err != nil {
				return
			}
		}
	}
}

// handOver starts the background write of the full buffer, once the one
// before it is written, and goes on filling the other.
func (fw *fileWriter) handOver() {
	fw.wait()
	if fw.err != nil {
		return
	}
	full, done := fw.buf, make(chan error, 1)
	fw.buf, fw.spare, fw.written = fw.spare[:0], nil, done
	go func() {
		_, err := fw.f.Write(full)
		fw.spare = full // read only after wait has received from done
		done <- err
	}()
}

// wait waits for the background write, if one is in flight, and keeps
// its error.
func (fw *fileWriter) wait() {
	if fw.written == nil {
		return
	}
	fw.err = cmp.Or(fw.err, <-fw.written)
	fw.written = nil
}

// state writes one encoded state of a frontier.
func (fw *fileWriter) state(enc []byte) {
	var hdr [binary.MaxVarintLen64]byte
	fw.write(hdr[:binary.PutUvarint(hdr[:], uint64(len(enc)))])
	fw.write(enc)
}

// step writes one state's trail entry.
func (fw *fileWriter) step(parent, action int32) {
	var b [8]byte
	binary.LittleEndian.PutUint32(b[:], uint32(parent))
	binary.LittleEndian.PutUint32(b[4:], uint32(action))
	fw.write(b[:])
}

// close writes what is buffered and closes the file, and with sync
// makes it durable (a checkpoint names it).
func (fw *fileWriter) close(sync bool) error {
	fw.wait()
	err := fw.err
	if err == nil && len(fw.buf) > 0 {
		_, err = fw.f.Write(fw.buf)
	}
	if err == nil && sync {
		err = fw.f.Sync()
	}
	return errors.Join(err, fw.f.Close())
}

// levelReader reads a frontier file back in order.
type levelReader struct {
	f    *os.File
	r    *bufio.Reader
	left int // states not read yet
}

func openLevel(path string, states int) (*levelReader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	return &levelReader{f: f, r: bufio.NewReaderSize(newReadAhead(f), 64<<10), left: states}, nil
}

// readAhead reads a file in order a buffer ahead of its reader, in a
// goroutine of its own, so that the next segment of a level is read
// while the workers expand this one; as fileWriter writes, with two
// buffers.
type readAhead struct {
	f     *os.File
	cur   []byte        // what is left to consume of whole
	whole []byte        // the buffer cur is the rest of
	ready chan readDone // the buffer being filled, when it is
	err   error         // the error that ended the file, once cur is consumed
}

type readDone struct {
	buf []byte
	err error
}

func newReadAhead(f *os.File) *readAhead {
	ra := &readAhead{f: f, ready: make(chan readDone, 1)}
	ra.fill(make([]byte, writeBuffer))
	return ra
}

// fill reads the next buffer of the file into buf in the background.
func (ra *readAhead) fill(buf []byte) {
	go func() {
		n, err := io.ReadFull(ra.f, buf[:cap(buf)])
		if err == io.ErrUnexpectedEOF {
			err = io.EOF // a short last buffer: what it holds is read
		}
		ra.ready <- readDone{buf[:n], err}
	}()
}

func (ra *readAhead) Read(p []byte) (int, error) {
	for len(ra.cur) == 0 {
		if ra.err != nil {
			return 0, ra.err
		}
		d := <-ra.ready
		spent := ra.whole
		ra.cur, ra.whole, ra.err = d.buf, d.buf, d.err
		if ra.err == nil {
			if spent == nil {
				spent = make([]byte, writeBuffer)
			}
			ra.fill(spent)
		}
	}
	n := copy(p, ra.cur)
	ra.cur = ra.cur[n:]
	return n, nil
}

// read fills seg with the next states of the level, about maxBytes of
// them (at least one while any is left), in arena chunks from chunk (one
// of at least n bytes).
func (lr *levelReader) read(seg *frontier, maxBytes int, chunk func(n int) []byte) error {
	seg.refs, seg.chunks = seg.refs[:0], seg.chunks[:0]
	total := 0
	for lr.left > 0 && (total < maxBytes || len(seg.refs) == 0) {
		n, err := binary.ReadUvarint(lr.r)
		if err != nil {
			return fmt.Errorf("reading a state's length: %w", noEOF(err))
		}
		if n > 1<<30 {
			return fmt.Errorf("a state of %d bytes: the file is damaged", n)
		}
		k := len(seg.chunks) - 1
		if k < 0 || len(seg.chunks[k])+int(n) > cap(seg.chunks[k]) {
			seg.chunks = append(seg.chunks, chunk(int(n)))
			k++
		}
		c := seg.chunks[k]
		off := len(c)
		c = c[:off+int(n)]
		if _, err := io.ReadFull(lr.r, c[off:]); err != nil {
			return fmt.Errorf("reading a state: %w", noEOF(err))
		}
		seg.chunks[k] = c
		seg.refs = append(seg.refs, ref{chunk: int32(k), off: uint32(off), end: uint32(len(c))})
		total += int(n)
		lr.left--
	}
	return nil
}

func (lr *levelReader) close() error { return lr.f.Close() }

// noEOF turns an end of file in the middle of a level into the damage it is.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// trailEntry reads state j's entry of a level's trail file.
func trailEntry(f *os.File, j int32) (parent, action int32, err error) {
	var b [8]byte
	if _, err := f.ReadAt(b[:], int64(j)*8); err != nil {
		return 0, 0, noEOF(err)
	}
	return int32(binary.LittleEndian.Uint32(b[:])), int32(binary.LittleEndian.Uint32(b[4:])), nil
}
