package bfs

import (
	"fmt"
	"sort"
	"sync"

	"github.com/cespare/xxhash/v2"

	"github.com/verishake/verishake/engine"
)

// Machine is a model with its types erased, as the pipeline's workers run
// it: a worker knows a model only by the name it was registered under.
type Machine struct{ m machine }

// machine is what a worker needs of a model: Bind's generic binding.
type machine interface {
	properties() []string
	root() (fp uint64, enc []byte)
	// expand judges the state encoded in enc and each of its transitions
	// for the properties open reports still looked for, and reports each
	// successor worth keeping.
	expand(enc []byte, open func(pi int) bool, violated func(pi, action int, reason string),
		successor func(action int, fp uint64, enc []byte)) (expansion, error)
}

// expansion is what one state's expansion counts.
type expansion struct {
	transitions int
	taken       [256]uint64
}

// Bind erases a model's types for the pipeline. Every call to a Machine
// uses scratch states of its own binding: a worker binds one per thread.
func Bind[S, A any](m engine.Model[S, A]) Machine {
	b := &binding[S, A]{m: m, props: m.Properties()}
	b.fingerprinter, _ = m.(engine.Fingerprinter[S])
	b.peeker, _ = m.(engine.Peeker[S, A])
	b.redundant, _ = m.(engine.Redundant[S, A])
	b.kinded, _ = m.(engine.Kinded[A])
	return Machine{b}
}

// binding is a model and the scratch one expansion at a time uses.
type binding[S, A any] struct {
	m             engine.Model[S, A]
	props         []engine.Property[S, A]
	fingerprinter engine.Fingerprinter[S]
	peeker        engine.Peeker[S, A]
	redundant     engine.Redundant[S, A]
	kinded        engine.Kinded[A]

	cur, next S
	acts      []A
	enc       []byte
}

func (b *binding[S, A]) properties() []string {
	names := make([]string, len(b.props))
	for i, p := range b.props {
		names[i] = p.Name
	}
	return names
}

// fingerprint is the engine's: the model's own, or the hash of the
// encoding (left in b.enc either way).
func (b *binding[S, A]) fingerprint(s *S) uint64 {
	b.enc = b.m.Encode(b.enc[:0], s)
	if b.fingerprinter != nil {
		return b.fingerprinter.Fingerprint(s)
	}
	return xxhash.Sum64(b.enc)
}

func (b *binding[S, A]) root() (uint64, []byte) {
	var s S
	b.m.Init(&s)
	fp := b.fingerprint(&s)
	return fp, append([]byte(nil), b.enc...)
}

// expand does what the engine's worker does with one state, in the same
// order, so that the same checks run on the same transitions: the state
// and continuation properties, the deadlock properties where nothing is
// enabled, then each action but the redundant ones, the step properties
// on those the model does not peek at.
func (b *binding[S, A]) expand(enc []byte, open func(int) bool, violated func(pi, action int, reason string),
	successor func(int, uint64, []byte)) (expansion, error) {
	var x expansion
	if err := b.m.Decode(enc, &b.cur); err != nil {
		return x, fmt.Errorf("%w: a frontier state does not decode: %w", engine.ErrModel, err)
	}
	for pi := range b.props {
		p := &b.props[pi]
		if !open(pi) {
			continue
		}
		var err error
		switch {
		case p.State != nil:
			err = p.State(&b.cur)
		case p.Continue != nil:
			err = p.Continue(&b.cur, nil)
		}
		if err != nil {
			violated(pi, -1, err.Error())
		}
	}
	b.acts = b.m.Actions(&b.cur, b.acts[:0])
	if len(b.acts) == 0 {
		for pi := range b.props {
			if p := &b.props[pi]; p.Stuck != nil && open(pi) {
				if err := p.Stuck(&b.cur); err != nil {
					violated(pi, -1, err.Error())
				}
			}
		}
	}
	x.transitions = len(b.acts)
	for ai := range b.acts {
		a := &b.acts[ai]
		if b.kinded != nil {
			x.taken[b.kinded.Kind(a)]++
		}
		if b.redundant != nil && b.redundant.Same(&b.cur, b.acts, ai) {
			continue
		}
		peeked := false
		var fp uint64
		if b.peeker != nil {
			fp, peeked = b.peeker.Peek(&b.cur, a)
		}
		b.m.Apply(&b.cur, a, &b.next)
		if !peeked {
			for pi := range b.props {
				if p := &b.props[pi]; p.Step != nil && open(pi) {
					if err := p.Step(&b.cur, a, &b.next); err != nil {
						violated(pi, ai, err.Error())
					}
				}
			}
			fp = b.fingerprint(&b.next)
		} else {
			b.enc = b.m.Encode(b.enc[:0], &b.next)
		}
		successor(ai, fp, b.enc)
	}
	return x, nil
}

// A Builder makes a registered model from its configuration.
type Builder func(config []byte) (Machine, error)

var (
	registryMu sync.RWMutex
	registry   = map[string]Builder{}
)

// Register binds a model to a name, for the workers to build it from a
// Spec; it is meant for init functions, and a name registered twice
// panics, as the mistake of a program, not of its input.
func Register(name string, build Builder) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if _, dup := registry[name]; dup {
		panic(fmt.Sprintf("bfs: model %q registered twice", name))
	}
	registry[name] = build
}

// Models lists the registered models' names, sorted.
func Models() []string {
	registryMu.RLock()
	defer registryMu.RUnlock()
	names := make([]string, 0, len(registry))
	for name := range registry {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// Spec names a registered model and its configuration, as the workers
// build it.
type Spec struct {
	Model  string
	Config []byte
}

// build makes the model spec names.
func (spec Spec) build() (Machine, error) {
	registryMu.RLock()
	build, ok := registry[spec.Model]
	registryMu.RUnlock()
	if !ok {
		return Machine{}, fmt.Errorf("bfs: no model registered as %q (have %v)", spec.Model, Models())
	}
	m, err := build(spec.Config)
	if err != nil {
		return Machine{}, fmt.Errorf("bfs: model %s: %w", spec.Model, err)
	}
	return m, nil
}
