package fsm

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"unsafe"
)

// Machine is an immutable compiled transition table, safe for concurrent use.
type Machine[S, E comparable] struct {
	spec   Spec[S, E]
	states []S // dense index -> value, in spec order
	events []E
	sIdx   index[S]
	eIdx   index[E]
	nE     int
	next   []int32 // [state*nE+event] -> target state index, or -1
	term   []bool  // by state index
	perm   [][]E   // by state index, in spec event order
	sNames []string
	eNames []string
}

// Compile validates sp and builds its machine.
func Compile[S, E comparable](sp Spec[S, E]) (*Machine[S, E], error) {
	if err := sp.Validate(); err != nil {
		return nil, err
	}
	sp = cloneSpec(sp)
	m := &Machine[S, E]{
		spec:   sp,
		states: sp.States,
		events: sp.Events,
		sIdx:   newIndex(sp.States),
		eIdx:   newIndex(sp.Events),
		nE:     len(sp.Events),
		term:   make([]bool, len(sp.States)),
		perm:   make([][]E, len(sp.States)),
	}
	m.next = make([]int32, len(sp.States)*m.nE)
	for i := range m.next {
		m.next[i] = -1
	}
	for _, t := range sp.Transitions {
		m.next[int(m.sIdx.find(t.From))*m.nE+int(m.eIdx.find(t.Event))] = m.sIdx.find(t.To)
	}
	for _, s := range sp.Terminal {
		m.term[m.sIdx.find(s)] = true
	}
	for si := range m.states {
		for ei, e := range m.events {
			if m.next[si*m.nE+ei] >= 0 {
				m.perm[si] = append(m.perm[si], e)
			}
		}
	}
	for _, s := range m.states {
		m.sNames = append(m.sNames, name(s))
	}
	for _, e := range m.events {
		m.eNames = append(m.eNames, name(e))
	}
	return m, nil
}

// MustCompile is Compile for package-level tables, where a bad spec is a
// programming error best caught at init.
func MustCompile[S, E comparable](sp Spec[S, E]) *Machine[S, E] {
	m, err := Compile(sp)
	if err != nil {
		panic(err)
	}
	return m
}

func cloneSpec[S, E comparable](sp Spec[S, E]) Spec[S, E] {
	sp.States = slices.Clone(sp.States)
	sp.Events = slices.Clone(sp.Events)
	sp.Terminal = slices.Clone(sp.Terminal)
	sp.Transitions = slices.Clone(sp.Transitions)
	return sp
}

// Name returns the spec's name, which errors about the machine give.
func (m *Machine[S, E]) Name() string { return m.spec.Name }

// Spec returns a copy of the spec the machine was compiled from.
func (m *Machine[S, E]) Spec() Spec[S, E] { return cloneSpec(m.spec) }

// Next returns the state that ev leads to from from. It is a pure lookup and
// does not allocate unless it fails.
func (m *Machine[S, E]) Next(from S, ev E) (S, error) {
	if to := m.target(m.sIdx.find(from), m.eIdx.find(ev)); to >= 0 {
		return m.states[to], nil
	}
	return from, m.reject(from, ev)
}

// Lookup is Next without the error value: ok is false when no transition
// exists. It never allocates, for callers that expect rejections on a hot
// path (a protocol machine refusing a replay) and report them their own way.
func (m *Machine[S, E]) Lookup(from S, ev E) (to S, ok bool) {
	if i := m.target(m.sIdx.find(from), m.eIdx.find(ev)); i >= 0 {
		return m.states[i], true
	}
	return from, false
}

// Can reports whether ev has a transition from from.
func (m *Machine[S, E]) Can(from S, ev E) bool {
	return m.target(m.sIdx.find(from), m.eIdx.find(ev)) >= 0
}

// Permitted returns the events with a transition from from, in spec order;
// nil if from is not declared. The slice is the caller's.
func (m *Machine[S, E]) Permitted(from S) []E {
	si := m.sIdx.find(from)
	if si < 0 {
		return nil
	}
	return slices.Clone(m.perm[si])
}

// IsTerminal reports whether s is a declared terminal state.
func (m *Machine[S, E]) IsTerminal(s S) bool {
	si := m.sIdx.find(s)
	return si >= 0 && m.term[si]
}

// StateByName returns the declared state whose name (fmt.Sprint) is n, for
// reading states back from diagrams, traces and other engines.
func (m *Machine[S, E]) StateByName(n string) (S, bool) {
	if i := slices.Index(m.sNames, n); i >= 0 {
		return m.states[i], true
	}
	var zero S
	return zero, false
}

// EventByName returns the declared event whose name (fmt.Sprint) is n.
func (m *Machine[S, E]) EventByName(n string) (E, bool) {
	if i := slices.Index(m.eNames, n); i >= 0 {
		return m.events[i], true
	}
	var zero E
	return zero, false
}

// target returns the dense index of the state that event ei leads to from
// state si, or -1; either index may be -1 (undeclared).
func (m *Machine[S, E]) target(si, ei int32) int32 {
	if si < 0 || ei < 0 {
		return -1
	}
	return m.next[int(si)*m.nE+int(ei)]
}

// reject builds the error for a failed lookup, out of line so the success
// path stays small.
//
//go:noinline
func (m *Machine[S, E]) reject(from S, ev E) error {
	err := ErrNoTransition
	switch {
	case m.sIdx.find(from) < 0:
		err = ErrUnknownState
	case m.eIdx.find(ev) < 0:
		err = ErrUnknownEvent
	}
	return &NoTransitionError[S, E]{Machine: m.spec.Name, State: from, Event: ev, Err: err}
}

// Instance is a running machine: a current state over a compiled table (a
// small value). Copying an Instance forks it; two instances are == iff they
// run on the same machine in the same state. The zero Instance has no
// machine and rejects every event with ErrUnknownState.
type Instance[S, E comparable] struct {
	m   *Machine[S, E]
	cur S
	// idx caches cur's dense index (-1 if undeclared), so Fire's chain
	// from one state to the next is a single table load.
	idx int32
}

// Start returns an instance at the initial state.
func (m *Machine[S, E]) Start() Instance[S, E] { return m.At(m.spec.Initial) }

// At returns an instance at s, e.g. to resume a stored session. An
// undeclared s is not rejected here; Fire will reject every event from it.
func (m *Machine[S, E]) At(s S) Instance[S, E] { return Instance[S, E]{m, s, m.sIdx.find(s)} }

// Fire moves the instance along ev. It does not allocate unless it fails; on
// failure it returns a *NoTransitionError and the state is unchanged.
func (in *Instance[S, E]) Fire(ev E) error {
	if in.m == nil {
		return &NoTransitionError[S, E]{State: in.cur, Event: ev, Err: ErrUnknownState}
	}
	to := in.m.target(in.idx, in.m.eIdx.find(ev))
	if to < 0 {
		return in.m.reject(in.cur, ev)
	}
	in.idx, in.cur = to, in.m.states[to]
	return nil
}

// State returns the current state.
func (in Instance[S, E]) State() S { return in.cur }

// Machine returns the compiled table the instance runs on (nil for the zero
// Instance).
func (in Instance[S, E]) Machine() *Machine[S, E] { return in.m }

// Permitted returns the events with a transition from the current state, in
// spec order.
func (in Instance[S, E]) Permitted() []E {
	if in.m == nil {
		return nil
	}
	return in.m.Permitted(in.cur)
}

// The reasons a [NoTransitionError] gives in its Err field; match them with
// errors.Is.
var (
	ErrNoTransition = errors.New("fsm: no transition")
	ErrUnknownState = errors.New("fsm: unknown state")
	ErrUnknownEvent = errors.New("fsm: unknown event")
)

// NoTransitionError reports a rejected event. It is always returned as a
// pointer, so match it with
//
//	var nt *fsm.NoTransitionError[State, Event]
//	errors.As(err, &nt)
//
// Err is ErrNoTransition, ErrUnknownState or ErrUnknownEvent; Unwrap returns
// it, so errors.Is works too.
type NoTransitionError[S, E comparable] struct {
	Machine string
	State   S
	Event   E
	Err     error
}

// Error names the machine, state and event.
func (e *NoTransitionError[S, E]) Error() string {
	switch e.Err {
	case ErrUnknownState:
		return fmt.Sprintf("fsm: machine %q: unknown state %s (event %s)", e.Machine, name(e.State), name(e.Event))
	case ErrUnknownEvent:
		return fmt.Sprintf("fsm: machine %q: unknown event %s in state %s", e.Machine, name(e.Event), name(e.State))
	}
	return fmt.Sprintf("fsm: machine %q: no transition from %s on %s", e.Machine, name(e.State), name(e.Event))
}

// Unwrap returns Err.
func (e *NoTransitionError[S, E]) Unwrap() error { return e.Err }

// index maps a declared value to its dense position (0..n-1), -1 if the
// value is not declared.
//
// A map keyed by a generic comparable type hashes through the type's
// generic hash function on every lookup, which alone costs more than the
// whole transition should. State and event types are nearly always small
// integer enums (iota), so Compile checks with reflect whether the type is
// an integer kind and the declared values span at most denseLimit
// consecutive integers; if so a lookup reads the value's bits through
// unsafe at the type's own width, subtracts the smallest declared value
// modulo 2^width and indexes a slice. Subtracting modulo 2^width maps the
// declared range [lo, hi] onto [0, hi-lo] for signed and unsigned types
// alike (so no sign handling is needed), and maps every value outside the
// range above hi-lo, where the bounds check rejects it: an undeclared value
// can never read out of range. Any other type (strings, structs, floats,
// sparse integers) falls back to a map.
type index[T comparable] struct {
	base  uint64 // smallest declared value's bits, zero-extended
	mask  uint64 // 2^width - 1
	dense []int32
	m     map[T]int32 // non-nil iff not dense
}

const denseLimit = 1024

func newIndex[T comparable](vals []T) index[T] {
	var x index[T]
	if t := reflect.TypeFor[T](); len(vals) > 0 && isInteger(t.Kind()) {
		x.mask = ^uint64(0) >> (64 - 8*t.Size())
		signed := t.Kind() >= reflect.Int && t.Kind() <= reflect.Int64
		// Order the values as their kind does: flipping the sign bit turns
		// signed order into unsigned order.
		key := func(v T) uint64 {
			if signed {
				return load(&v) ^ (x.mask>>1 + 1)
			}
			return load(&v)
		}
		lo, hi := vals[0], vals[0]
		for _, v := range vals {
			if key(v) < key(lo) {
				lo = v
			}
			if key(v) > key(hi) {
				hi = v
			}
		}
		if span := key(hi) - key(lo); span < denseLimit {
			x.base = load(&lo)
			x.dense = make([]int32, span+1)
			for i := range x.dense {
				x.dense[i] = -1
			}
			for i, v := range vals {
				x.dense[(load(&v)-x.base)&x.mask] = int32(i)
			}
			return x
		}
	}
	x.m = make(map[T]int32, len(vals))
	for i, v := range vals {
		x.m[v] = int32(i)
	}
	return x
}

func isInteger(k reflect.Kind) bool {
	return (k >= reflect.Int && k <= reflect.Int64) || (k >= reflect.Uint && k <= reflect.Uintptr)
}

// load reads *p's bits zero-extended. Only meaningful for integer kinds,
// where the size is 1, 2, 4 or 8; the switch is resolved at compile time
// for each instantiation shape.
func load[T any](p *T) uint64 {
	switch unsafe.Sizeof(*p) {
	case 1:
		return uint64(*(*uint8)(unsafe.Pointer(p)))
	case 2:
		return uint64(*(*uint16)(unsafe.Pointer(p)))
	case 4:
		return uint64(*(*uint32)(unsafe.Pointer(p)))
	case 8:
		return *(*uint64)(unsafe.Pointer(p))
	}
	return 0
}

// find is small enough to inline (a call per lookup would cost as much as
// the whole transition); the map access is the fallback, and in dense mode
// x.m is nil, so it only runs for undeclared values and returns -1.
func (x *index[T]) find(v T) int32 {
	if u := (load(&v) - x.base) & x.mask; u < uint64(len(x.dense)) {
		return x.dense[u]
	}
	if i, ok := x.m[v]; ok {
		return i
	}
	return -1
}
