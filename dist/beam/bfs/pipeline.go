package bfs

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/bits"
	"slices"
	"sort"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/verishake/verishake/engine"
)

func init() {
	register.DoFn3x1[context.Context, string, func(int, []byte), error](&expandFn{})
	register.Emitter2[int, []byte]()
	register.DoFn3x1[context.Context, int, func(*[]byte) bool, error](&joinFn{})
	register.Iter1[[]byte]()
}

// levelPipeline is one level: expand the frontier's shards, shuffle the
// successors to their partitions, join each partition with its visited
// fingerprints. Spread reshuffles the shards' names first, so that a
// runner that fuses stages (Dataflow, Flink) does not expand every shard
// where it made the list; Prism, in one process, gains nothing by it and
// pays a stage a level.
func levelPipeline(spec Spec, run string, level, partitions int, found []bool, shards []string, spread bool) *beam.Pipeline {
	p, s := beam.NewPipelineWithRoot()
	in := beam.CreateList(s, shards)
	if spread {
		in = beam.Reshuffle(s, in)
	}
	succ := beam.ParDo(s, &expandFn{Model: spec.Model, Config: spec.Config, Partitions: partitions, Found: found}, in)
	beam.ParDo0(s, &joinFn{Run: run, Level: level}, beam.GroupByKey(s, succ))
	return p
}

// batchBytes is about the most successors' bytes one shuffled element
// carries.
const batchBytes = 1 << 20

// expandFn expands one frontier shard: it judges every state and
// transition for the properties not yet violated, and emits each
// successor, the one of least key where the shard reaches a state twice,
// keyed by its partition, in batches of length-prefixed candidates. What it saw goes to the shard's expand record.
type expandFn struct {
	Model      string
	Config     []byte
	Partitions int
	Found      []bool // by property: violated at an earlier level, no longer judged

	m Machine
}

func (f *expandFn) Setup() error {
	m, err := Spec{f.Model, f.Config}.build()
	f.m = m
	return err
}

func (f *expandFn) ProcessElement(ctx context.Context, shard string, emit func(int, []byte)) error {
	fs, err := filesystem.New(ctx, shard)
	if err != nil {
		return fmt.Errorf("bfs: %s: %w", shard, err)
	}
	defer fs.Close()
	data, err := readFile(ctx, fs, shard)
	if err != nil {
		return err
	}
	res := expandResult{Taken: map[int]uint64{}}
	least := map[int]*violation{}
	best := map[uint64]*candidate{}
	var fp uint64
	var key, enc []byte
	open := func(pi int) bool { return !f.Found[pi] && least[pi] == nil }
	violated := func(pi, action int, reason string) {
		v := &violation{Property: pi, Key: key, FP: fp, Action: action, Reason: reason}
		if old := least[pi]; old == nil || v.before(old) {
			least[pi] = v
		}
	}
	successor := func(action int, succFP uint64, succEnc []byte) {
		c := candidate{fp: succFP, parent: fp, key: appendIndex(slices.Clip(key), action)}
		if old := best[succFP]; old != nil && !c.before(old) {
			return
		}
		c.enc = append([]byte(nil), succEnc...)
		best[succFP] = &c
	}
	for rest := data; len(rest) > 0; {
		if fp, key, enc, rest, err = nextFrontier(rest); err != nil {
			return fmt.Errorf("bfs: %s, state %d: %w", shard, res.States, err)
		}
		x, err := f.m.m.expand(enc, open, violated, successor)
		if err != nil {
			return fmt.Errorf("bfs: %s, state %d: %w", shard, res.States, err)
		}
		res.States++
		res.Transitions += uint64(x.transitions)
		for k, n := range x.taken {
			if n > 0 {
				res.Taken[k] += n
			}
		}
	}
	// Successors go to their partitions in batches: the runner's cost is
	// per element as much as per byte.
	batches := make([][]byte, f.Partitions)
	send := func(part int) {
		emit(part, batches[part])
		res.Shuffled += int64(len(batches[part]) + len(binary.AppendUvarint(nil, uint64(part))))
		batches[part] = nil
	}
	var buf []byte
	for _, c := range best {
		part := partitionOf(c.fp, f.Partitions)
		buf = c.append(buf[:0])
		batches[part] = binary.AppendUvarint(batches[part], uint64(len(buf)))
		batches[part] = append(batches[part], buf...)
		res.Candidates++
		if len(batches[part]) >= batchBytes {
			send(part)
		}
	}
	for part, b := range batches {
		if len(b) > 0 {
			send(part)
		}
	}
	for _, v := range least {
		res.Violations = append(res.Violations, *v)
	}
	sort.Slice(res.Violations, func(i, j int) bool { return res.Violations[i].Property < res.Violations[j].Property })
	out, _ := json.Marshal(res)
	return writeFile(ctx, fs, expandPath(shard), out)
}

// joinFn joins a partition's successors with its visited fingerprints and
// writes what is new as the partition's shard of the next level, in
// search order, with its parent records and visited update.
type joinFn struct {
	Run   string
	Level int // the level expanded: the new states are of Level+1
}

func (f *joinFn) ProcessElement(ctx context.Context, part int, succ func(*[]byte) bool) error {
	fs, err := filesystem.New(ctx, f.Run)
	if err != nil {
		return fmt.Errorf("bfs: %s: %w", f.Run, err)
	}
	defer fs.Close()
	visited, err := f.visited(ctx, fs, part)
	if err != nil {
		return err
	}
	best := map[uint64]*candidate{}
	var batch []byte
	for succ(&batch) {
		for rest := batch; len(rest) > 0; {
			raw, more, err := lengthPrefixed(rest)
			if err != nil {
				return fmt.Errorf("bfs: partition %d of level %d: %w", part, f.Level+1, err)
			}
			rest = more
			c, err := decodeCandidate(raw)
			if err != nil {
				return fmt.Errorf("bfs: partition %d of level %d: %w", part, f.Level+1, err)
			}
			if visited.Has(spread(c.fp)) {
				continue
			}
			if old := best[c.fp]; old == nil || c.before(old) {
				best[c.fp] = &c
			}
		}
	}
	fresh := make([]*candidate, 0, len(best))
	for _, c := range best {
		fresh = append(fresh, c)
	}
	next := f.Level + 1
	res := joinResult{New: len(fresh)}
	if len(fresh) > 0 {
		sort.Slice(fresh, func(i, j int) bool { return fresh[i].before(fresh[j]) })
		var frontier []byte
		for _, c := range fresh {
			frontier = appendFrontier(frontier, c.fp, c.key, c.enc)
		}
		sort.Slice(fresh, func(i, j int) bool { return fresh[i].fp < fresh[j].fp })
		parents := make([]byte, 0, len(fresh)*parentRecordSize)
		fps := make([]byte, 0, len(fresh)*8)
		for _, c := range fresh {
			idx, err := Key(c.key).Indices()
			if err != nil || len(idx) != next {
				return fmt.Errorf("bfs: partition %d of level %d: key %x of a state of that level: %w", part, next, c.key, errRecord)
			}
			parents = appendParent(parents, c.fp, c.parent, idx[len(idx)-1])
			fps = binary.LittleEndian.AppendUint64(fps, c.fp)
		}
		for _, file := range []struct {
			name string
			data []byte
		}{{frontierPath(f.Run, next, part), frontier}, {parentsPath(f.Run, next, part), parents}, {visitedPath(f.Run, part, next), fps}} {
			if err := writeFile(ctx, fs, file.name, file.data); err != nil {
				return err
			}
			res.Bytes += int64(len(file.data))
		}
		res.Frontier = int64(len(frontier))
	}
	out, _ := json.Marshal(res)
	return writeFile(ctx, fs, joinPath(f.Run, next, part), out)
}

// spread is the fingerprint a partition's visited set holds for fp: the
// set's home slot is a fingerprint's high bits, which the partition's
// range fixes, and its table would fill from one end; rotated, the low
// bits choose the slot.
func spread(fp uint64) uint64 { return bits.RotateLeft64(fp, 32) }

// visited loads the partition's fingerprints of levels 0 to f.Level.
func (f *joinFn) visited(ctx context.Context, fs filesystem.Interface, part int) (*engine.FPSet, error) {
	dir := strings.TrimSuffix(visitedPath(f.Run, part, 0), "/level-000000")
	files, err := fs.List(ctx, dir+"/level-*")
	if err != nil {
		return nil, fmt.Errorf("bfs: listing %s: %w", dir, err)
	}
	var data [][]byte
	n := 0
	for _, name := range files {
		if l, ok := visitedLevel(name); !ok || l > f.Level || strings.Contains(name, ".tmp-") {
			continue
		}
		b, err := readFile(ctx, fs, name)
		if err != nil {
			return nil, err
		}
		if len(b)%8 != 0 {
			return nil, fmt.Errorf("bfs: %s: %d bytes, not whole fingerprints: %w", name, len(b), errRecord)
		}
		data, n = append(data, b), n+len(b)/8
	}
	set := engine.NewFPSet(n)
	for _, b := range data {
		for ; len(b) > 0; b = b[8:] {
			set.Add(spread(binary.LittleEndian.Uint64(b)))
		}
	}
	return set, nil
}
