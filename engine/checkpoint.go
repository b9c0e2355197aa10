package engine

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// ErrCheckpoint marks a checkpoint a search cannot start or resume from.
var ErrCheckpoint = errors.New("engine: checkpoint")

const (
	checkpointVersion = 2
	checkpointMeta    = "checkpoint.json"
)

// checkpoint is what a search on disk needs to go on after its last
// completed level, besides the files it names: that level's frontier
// (level-Depth), the trails of levels 1 to Depth and the visited set
// (visited-Depth). The checkpoint is committed by renaming this file into
// place, after everything it names is on disk.
type checkpoint struct {
	Version     int
	Identity    string   // the caller's configuration
	Properties  []string // the model's, in order
	Depth       int      // levels explored: the next to expand
	LevelStates int      // states in level Depth
	States      int      // the visited set's size
	Transitions uint64
	Taken       [256]uint64
	Found       []foundRecord
	Disk        int64
	PeakMemory  int64
	PeakDisk    int64
	Elapsed     time.Duration
	Fanout      float64 // what sizes the next part of a level (search.fanout)
	Scratch     int64   // what the budget counts for the workers' buffers (search.scratchHW)
}

// foundRecord is a violation as a checkpoint keeps it.
type foundRecord struct {
	Property              int
	Level, Parent, Action int
	Reason                string
}

// CheckpointInfo is what a checkpoint says of the search it saved.
type CheckpointInfo struct {
	// Identity is the Config.Identity it was made with, so that a caller
	// can say how a resumed configuration differs.
	Identity string
	// Depth is the level a resume expands first; States the states stored.
	Depth, States int
}

// ReadCheckpoint describes the checkpoint in dir.
func ReadCheckpoint(dir string) (CheckpointInfo, error) {
	c, err := readCheckpoint(dir)
	if err != nil {
		return CheckpointInfo{}, err
	}
	return CheckpointInfo{Identity: c.Identity, Depth: c.Depth, States: c.States}, nil
}

func readCheckpoint(dir string) (*checkpoint, error) {
	raw, err := os.ReadFile(filepath.Join(dir, checkpointMeta))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCheckpoint, err)
	}
	var c checkpoint
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrCheckpoint, checkpointMeta, err)
	}
	if c.Version != checkpointVersion {
		return nil, fmt.Errorf("%w: version %d, want %d", ErrCheckpoint, c.Version, checkpointVersion)
	}
	return &c, nil
}

func (sp *spill) visitedPath(l int) string {
	return filepath.Join(sp.dir, fmt.Sprintf("visited-%d", l))
}

// startCheckpoint refuses a directory that holds a checkpoint already: a
// new search would overwrite what a resume needs.
func startCheckpoint(dir string) (*spill, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCheckpoint, err)
	}
	if _, err := os.Stat(filepath.Join(dir, checkpointMeta)); err == nil {
		return nil, fmt.Errorf("%w: %s holds a checkpoint already: resume it or remove it", ErrCheckpoint, dir)
	}
	return &spill{dir: dir}, nil
}

// writeCheckpoint commits the search after its level depth-1, with level
// depth (states of them) on disk, and removes what the last one needed
// and this one does not.
func (s *search[S, A]) writeCheckpoint(depth, states int, elapsed time.Duration) error {
	sp := s.disk
	if err := writeSynced(sp.visitedPath(depth), s.visited.(*FPSet).writeTo); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	sp.disk += 16 + int64(s.visited.Bytes())
	s.peakDisk = max(s.peakDisk, sp.disk)
	c := checkpoint{Version: checkpointVersion, Identity: s.cfg.Identity, Depth: depth, LevelStates: states,
		States: s.visited.Len(), Transitions: s.transitions, Disk: sp.disk, PeakMemory: s.peakMem, PeakDisk: s.peakDisk,
		Elapsed: elapsed, Fanout: s.fanout, Scratch: s.scratchHW}
	for _, p := range s.props {
		c.Properties = append(c.Properties, p.Name)
	}
	for _, wk := range s.workers {
		for k, n := range wk.taken {
			c.Taken[k] += n
		}
	}
	for pi, v := range s.found {
		c.Found = append(c.Found, foundRecord{Property: pi, Level: v.level, Parent: v.parent, Action: v.action, Reason: v.reason})
	}
	slices.SortFunc(c.Found, func(a, b foundRecord) int { return a.Property - b.Property })
	raw, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	err = writeSynced(filepath.Join(sp.dir, checkpointMeta), func(w io.Writer) error {
		_, err := w.Write(raw)
		return err
	})
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if d, err := os.Open(sp.dir); err == nil {
		d.Sync()
		d.Close()
	}
	if depth > 0 {
		sp.remove(sp.visitedPath(depth - 1))
		sp.remove(sp.levelPath(depth - 1))
	}
	return nil
}

// writeSynced writes a file whole under a temporary name, syncs it and
// renames it into place: a kill leaves the old file or the new.
func writeSynced(path string, write func(io.Writer) error) error {
	tmp := path + ".tmp"
	f, err := createForWrite(tmp)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	err = write(w)
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if err = errors.Join(err, f.Close()); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}

// resume loads the checkpoint in the search's directory and returns the
// level to expand next and its size.
func (s *search[S, A]) resume() (depth, states int, err error) {
	c, err := readCheckpoint(s.disk.dir)
	if err != nil {
		return 0, 0, err
	}
	if c.Identity != s.cfg.Identity {
		return 0, 0, fmt.Errorf("%w: made for %q, not %q", ErrCheckpoint, c.Identity, s.cfg.Identity)
	}
	var names []string
	for _, p := range s.props {
		names = append(names, p.Name)
	}
	if !slices.Equal(names, c.Properties) {
		return 0, 0, fmt.Errorf("%w: made for properties %v, not %v", ErrCheckpoint, c.Properties, names)
	}
	f, err := os.Open(s.disk.visitedPath(c.Depth))
	if err != nil {
		return 0, 0, fmt.Errorf("%w: %w", ErrCheckpoint, err)
	}
	defer f.Close()
	visited, err := readFPSet(bufio.NewReaderSize(f, 1<<20))
	if err != nil || visited.Len() != c.States {
		return 0, 0, fmt.Errorf("%w: visited set: damaged (%v)", ErrCheckpoint, err)
	}
	for _, v := range c.Found {
		if v.Property < 0 || v.Property >= len(s.props) {
			return 0, 0, fmt.Errorf("%w: a violation of property %d", ErrCheckpoint, v.Property)
		}
		s.found[v.Property] = violation{level: v.Level, parent: v.Parent, action: v.Action, reason: v.Reason}
	}
	s.visited.free()
	s.visited, s.transitions = visited, c.Transitions
	s.workers[0].taken = c.Taken
	s.disk.disk, s.peakMem, s.peakDisk, s.before, s.fanout, s.scratchHW = c.Disk, c.PeakMemory, c.PeakDisk, c.Elapsed, c.Fanout, c.Scratch
	return c.Depth, c.LevelStates, nil
}

// clearCheckpoint removes a finished search's files from its directory.
func (sp *spill) clearCheckpoint() {
	for _, pattern := range []string{checkpointMeta, "visited-*", "level-*", "trail-*"} {
		names, _ := filepath.Glob(filepath.Join(sp.dir, pattern))
		for _, name := range names {
			os.Remove(name)
		}
	}
}

// writeTo writes the set: its size, its shard count, and each shard's
// table after its size.
func (s *FPSet) writeTo(w io.Writer) error {
	var buf [8 << 10]byte
	binary.LittleEndian.PutUint64(buf[:], uint64(s.n))
	binary.LittleEndian.PutUint64(buf[8:], fpShards)
	if _, err := w.Write(buf[:16]); err != nil {
		return err
	}
	for si := range s.shards {
		slots := s.shards[si].slots
		binary.LittleEndian.PutUint64(buf[:], uint64(len(slots)))
		k := 8
		for i := 0; i < len(slots) || k > 0; {
			for ; k+8 <= len(buf) && i < len(slots); i, k = i+1, k+8 {
				binary.LittleEndian.PutUint64(buf[k:], slots[i])
			}
			if _, err := w.Write(buf[:k]); err != nil {
				return err
			}
			k = 0
		}
	}
	return nil
}

// readFPSet reads a set writeTo wrote.
func readFPSet(r io.Reader) (*FPSet, error) {
	var hdr [16]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, noEOF(err)
	}
	n, shards := binary.LittleEndian.Uint64(hdr[:]), binary.LittleEndian.Uint64(hdr[8:])
	if shards != fpShards || n > 1<<40 {
		return nil, fmt.Errorf("%d fingerprints in %d shards, want %d shards", n, shards, fpShards)
	}
	s := &FPSet{}
	ok := false
	defer func() {
		if !ok {
			s.free()
		}
	}()
	var buf [8 << 10]byte
	for si := range s.shards {
		sh := &s.shards[si]
		if _, err := io.ReadFull(r, buf[:8]); err != nil {
			return nil, noEOF(err)
		}
		size := binary.LittleEndian.Uint64(buf[:8])
		if size < minShard || size > 1<<36 {
			return nil, fmt.Errorf("shard %d of %d slots", si, size)
		}
		sh.slots, sh.mapped = tableAlloc(int(size))
		s.bytes += 8 * int(size)
		for i := 0; i < len(sh.slots); {
			k := min(len(buf), 8*(len(sh.slots)-i))
			if _, err := io.ReadFull(r, buf[:k]); err != nil {
				return nil, noEOF(err)
			}
			for j := 0; j < k; i, j = i+1, j+8 {
				if sh.slots[i] = binary.LittleEndian.Uint64(buf[j:]); sh.slots[i] != 0 {
					sh.n++
				}
			}
		}
		if 5*sh.n > 4*len(sh.slots) {
			return nil, fmt.Errorf("shard %d: %d fingerprints in %d slots", si, sh.n, len(sh.slots))
		}
		s.n += sh.n
	}
	if uint64(s.n) != n {
		return nil, fmt.Errorf("%d fingerprints, header says %d", s.n, n)
	}
	ok = true
	return s, nil
}
