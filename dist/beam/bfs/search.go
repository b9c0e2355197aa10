package bfs

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/local" // a work path on a local disk

	"github.com/verishake/verishake/engine"
)

// Options say where and how the levels run.
type Options struct {
	// Runner runs each level's pipeline (Prism, Universal).
	Runner Runner
	// Work is the path under which the search keeps its files, in a
	// directory of its own that it removes when it ends (a local
	// directory, or any path Beam's filesystems know, such as gs://).
	Work string
	// Partitions is the number of fingerprint ranges the visited set is
	// split into, and so of shards each level is written in.
	Partitions int
	// MaxStates stops the search once that many states are stored (0: no
	// limit), as engine.Config.MaxStates does.
	MaxStates int
	// Progress, if set, is called after each level.
	Progress func(engine.Progress)
}

// Result is a search's report, the engine's, and what it cost the runner.
type Result[A any] struct {
	engine.Report[A]
	// Pipelines is the number of level pipelines run.
	Pipelines int
	// Candidates are the successors sent through the shuffle, and
	// Shuffled their bytes (keys and values, before the runner's framing).
	Candidates int64
	Shuffled   int64
}

// ErrOptions marks options the search cannot run with.
var ErrOptions = errors.New("bfs: bad options")

// Search explores m level by level on Beam, each level a pipeline the
// runner runs, and reports what engine.Search reports for m: the workers
// build the model spec names, which must be m. It stops between levels
// when ctx is cancelled.
func Search[S, A any](ctx context.Context, m engine.Model[S, A], spec Spec, opt Options) (Result[A], error) {
	start := time.Now()
	if opt.Partitions < 1 {
		return Result[A]{}, fmt.Errorf("%w: %d partitions: want at least 1", ErrOptions, opt.Partitions)
	}
	if opt.Runner == nil || opt.Work == "" {
		return Result[A]{}, fmt.Errorf("%w: a runner and a work path are needed", ErrOptions)
	}
	if !beam.Initialized() {
		return Result[A]{}, fmt.Errorf("%w: beam.Init has not been called", ErrOptions)
	}
	local := Bind(m)
	remote, err := spec.build()
	if err != nil {
		return Result[A]{}, err
	}
	fp, enc := local.m.root()
	if rfp, renc := remote.m.root(); rfp != fp || !bytes.Equal(renc, enc) {
		return Result[A]{}, fmt.Errorf("%w: model %s, as the workers build it, starts elsewhere than the model searched", ErrOptions, spec.Model)
	}
	d := &driver[S, A]{m: m, spec: spec, opt: opt, props: local.m.properties()}
	if d.fs, err = filesystem.New(ctx, opt.Work); err != nil {
		return Result[A]{}, fmt.Errorf("%w: --work %s: %w", ErrOptions, opt.Work, err)
	}
	defer d.fs.Close()
	var tag [6]byte
	rand.Read(tag[:])
	d.run = strings.TrimSuffix(opt.Work, "/") + "/verishake-beam-" + hex.EncodeToString(tag[:])
	defer d.removeAll(context.WithoutCancel(ctx))
	r, err := d.search(ctx, fp, enc)
	r.Elapsed = time.Since(start)
	return r, err
}

type driver[S, A any] struct {
	m     engine.Model[S, A]
	spec  Spec
	opt   Options
	props []string
	fs    filesystem.Interface
	run   string // the directory of this search's files

	found    map[int]violationAt
	written  []string         // every file, for removeAll
	disk     int64            // bytes in the files now
	frontier map[string]int64 // the bytes of each frontier shard not yet expanded
}

// violationAt is a property's first violation: at a level.
type violationAt struct {
	violation
	level int
}

func (d *driver[S, A]) search(ctx context.Context, rootFP uint64, rootEnc []byte) (Result[A], error) {
	var r Result[A]
	r.Properties = d.props
	d.found, d.frontier = map[int]violationAt{}, map[string]int64{}
	part := partitionOf(rootFP, d.opt.Partitions)
	root := []struct {
		name string
		data []byte
	}{
		{frontierPath(d.run, 0, part), appendFrontier(nil, rootFP, nil, rootEnc)},
		{parentsPath(d.run, 0, part), appendParent(nil, rootFP, 0, -1)},
		{visitedPath(d.run, part, 0), binary.LittleEndian.AppendUint64(nil, rootFP)},
	}
	for _, f := range root {
		if err := writeFile(ctx, d.fs, f.name, f.data); err != nil {
			return r, fmt.Errorf("%w (--work %s)", err, d.opt.Work)
		}
		d.wrote(f.name, int64(len(f.data)))
	}
	d.frontier[root[0].name] = int64(len(root[0].data))
	shards := []string{root[0].name}
	states, levelSize := uint64(1), 1
	complete := true
	for level := 0; levelSize > 0; level++ {
		if ctx.Err() != nil {
			r.Stopped, complete = engine.StoppedContext, false
			break
		}
		found := make([]bool, len(d.props))
		for pi := range d.found {
			found[pi] = true
		}
		_, inProcess := d.opt.Runner.(Prism)
		if err := d.opt.Runner.Run(ctx, levelPipeline(d.spec, d.run, level, d.opt.Partitions, found, shards, !inProcess)); err != nil {
			if ctx.Err() != nil {
				r.Stopped, complete = engine.StoppedContext, false
				break
			}
			return r, fmt.Errorf("bfs: level %d: %w", level, err)
		}
		r.Pipelines++
		if err := d.readExpansions(ctx, level, shards, &r); err != nil {
			return r, err
		}
		for _, shard := range shards {
			removeFile(ctx, d.fs, shard)
			d.disk -= d.frontier[shard]
			delete(d.frontier, shard)
		}
		next, added, err := d.readJoins(ctx, level+1)
		if err != nil {
			return r, err
		}
		shards = next
		levelSize = added
		if room := uint64(d.opt.MaxStates) - states; d.opt.MaxStates > 0 && uint64(added) > room {
			levelSize = int(room)
			r.Stopped = engine.StoppedMaxStates
		}
		states += uint64(levelSize)
		if levelSize > 0 {
			r.Depth++
		}
		r.Disk = max(r.Disk, d.disk)
		if d.opt.Progress != nil {
			d.opt.Progress(engine.Progress{States: states, Transitions: r.Transitions, Depth: r.Depth, Frontier: levelSize, Disk: d.disk})
		}
		if r.Stopped != "" {
			complete = false
			break
		}
	}
	r.States, r.Complete = states, complete
	r.VisitedBytes = int(8 * states)
	for pi, name := range d.props {
		v, ok := d.found[pi]
		if !ok {
			continue
		}
		c, err := d.counterexample(ctx, pi, v)
		if err != nil {
			return r, err
		}
		c.Property = name
		r.Counterexamples = append(r.Counterexamples, c)
	}
	return r, nil
}

// readExpansions adds up what expanding each shard of the level found,
// and keeps each property's least violation if the level is its first.
func (d *driver[S, A]) readExpansions(ctx context.Context, level int, shards []string, r *Result[A]) error {
	least := map[int]violation{}
	for _, shard := range shards {
		name := expandPath(shard)
		data, err := readFile(ctx, d.fs, name)
		if err != nil {
			return err
		}
		d.wrote(name, int64(len(data)))
		var x expandResult
		if err := json.Unmarshal(data, &x); err != nil {
			return fmt.Errorf("bfs: %s: %w", name, err)
		}
		r.Transitions += x.Transitions
		for k, n := range x.Taken {
			if k >= 0 && k < len(r.Taken) {
				r.Taken[k] += n
			}
		}
		r.Candidates += int64(x.Candidates)
		r.Shuffled += x.Shuffled
		for _, v := range x.Violations {
			if v.Property < 0 || v.Property >= len(d.props) {
				return fmt.Errorf("bfs: %s: a violation of property %d, of %d: %w", name, v.Property, len(d.props), errRecord)
			}
			if old, ok := least[v.Property]; !ok || v.before(&old) {
				least[v.Property] = v
			}
		}
	}
	for pi, v := range least {
		if _, earlier := d.found[pi]; !earlier {
			d.found[pi] = violationAt{v, level}
		}
	}
	return nil
}

// readJoins lists the next level's shards and counts its new states.
func (d *driver[S, A]) readJoins(ctx context.Context, level int) ([]string, int, error) {
	var shards []string
	added := 0
	for p := range d.opt.Partitions {
		name := joinPath(d.run, level, p)
		if !exists(ctx, d.fs, name) {
			continue // no successor fell in this partition
		}
		data, err := readFile(ctx, d.fs, name)
		if err != nil {
			return nil, 0, err
		}
		var j joinResult
		if err := json.Unmarshal(data, &j); err != nil {
			return nil, 0, fmt.Errorf("bfs: %s: %w", name, err)
		}
		d.wrote(name, int64(len(data)))
		if j.New > 0 {
			shard := frontierPath(d.run, level, p)
			shards = append(shards, shard)
			d.wrote(shard, j.Frontier)
			d.wrote(parentsPath(d.run, level, p), j.Bytes-j.Frontier)
			d.wrote(visitedPath(d.run, p, level), 0)
			d.frontier[shard] = j.Frontier
		}
		added += j.New
	}
	return shards, added, nil
}

func (d *driver[S, A]) wrote(name string, bytes int64) {
	d.written = append(d.written, name)
	d.disk += bytes
}

// removeAll removes the search's files and, on a local disk, its
// directories.
func (d *driver[S, A]) removeAll(ctx context.Context) {
	for _, name := range d.written {
		removeFile(ctx, d.fs, name)
	}
	removeLocalDir(d.run)
}

// counterexample walks the parent records back from the violation to the
// initial state, checks the path against the key the violation carries,
// and runs the model along it again.
func (d *driver[S, A]) counterexample(ctx context.Context, pi int, v violationAt) (engine.Counterexample[A], error) {
	idx := make([]int32, v.level)
	fp := v.FP
	for l := v.level; l > 0; l-- {
		name := parentsPath(d.run, l, partitionOf(fp, d.opt.Partitions))
		records, err := readFile(ctx, d.fs, name)
		if err != nil {
			return engine.Counterexample[A]{}, err
		}
		parent, action, err := findParent(records, fp)
		if err != nil {
			return engine.Counterexample[A]{}, fmt.Errorf("%w (%s)", err, name)
		}
		idx[l-1], fp = action, parent
	}
	if want, err := Key(v.Key).Indices(); err != nil || !slices.Equal(idx, want) {
		return engine.Counterexample[A]{}, fmt.Errorf("bfs: %s's counterexample: the parent records give the path %v, the search found %v", d.props[pi], idx, Key(v.Key))
	}
	if v.Action >= 0 {
		idx = append(idx, int32(v.Action))
	}
	return replay(d.m, pi, idx, v.Action >= 0, v.Reason)
}

// replay runs m from its initial state along the action indices and
// judges property pi again where the search found it violated (on the
// last step, if step is set), appending a continuation property's run.
func replay[S, A any](m engine.Model[S, A], pi int, idx []int32, step bool, reason string) (engine.Counterexample[A], error) {
	p := m.Properties()[pi]
	c := engine.Counterexample[A]{Reason: reason}
	broken := func(what string) (engine.Counterexample[A], error) {
		return c, fmt.Errorf("%w: %s's counterexample does not %s when run again (the model is not deterministic)", engine.ErrModel, p.Name, what)
	}
	var s, next S
	m.Init(&s)
	var acts []A
	for i, k := range idx {
		acts = m.Actions(&s, acts[:0])
		if int(k) >= len(acts) {
			return broken(fmt.Sprintf("enable an action %d at step %d", k, i+1))
		}
		a := acts[k]
		c.Actions = append(c.Actions, a)
		m.Apply(&s, &a, &next)
		if step && i == len(idx)-1 && p.Step(&s, &a, &next) == nil {
			return broken("break its last step")
		}
		s, next = next, s
	}
	if step {
		return c, nil
	}
	n := len(c.Actions)
	var err error
	switch {
	case p.State != nil:
		err = p.State(&s)
	case p.Stuck != nil:
		if len(m.Actions(&s, acts[:0])) == 0 {
			err = p.Stuck(&s)
		}
	case p.Continue != nil:
		err = p.Continue(&s, &c.Actions)
	}
	if err == nil {
		return broken("reach a violating state")
	}
	c.Continuation = len(c.Actions) - n
	return c, nil
}
