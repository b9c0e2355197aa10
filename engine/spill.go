package engine

import (
	"bufio"
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

// fileWriter writes a file sequentially through a buffer and keeps its
// first error, so that a full disk is found once, where it is checked.
type fileWriter struct {
	f     *os.File
	w     *bufio.Writer
	bytes int64
	err   error
}

func createFile(path string) (*fileWriter, error) {
	f, err := createForWrite(path)
	if err != nil {
		return nil, err
	}
	return &fileWriter{f: f, w: bufio.NewWriterSize(f, 1<<20)}, nil
}

func (fw *fileWriter) write(p []byte) {
	if fw.err != nil {
		return
	}
	n, err := fw.w.Write(p)
	fw.bytes += int64(n)
	fw.err = err
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

// close flushes and closes the file, and with sync makes it durable (a
// checkpoint names it).
func (fw *fileWriter) close(sync bool) error {
	err := fw.err
	if err == nil {
		err = fw.w.Flush()
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
	return &levelReader{f: f, r: bufio.NewReaderSize(f, 1<<20), left: states}, nil
}

// read fills seg with the next states of the level, about maxBytes of
// them (at least one while any is left), in arena chunks from chunk.
func (lr *levelReader) read(seg *frontier, maxBytes int, chunk func() []byte) error {
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
			c := chunk()
			if cap(c) < int(n) {
				c = make([]byte, 0, n)
			}
			seg.chunks = append(seg.chunks, c)
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
