package sim

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/verishake/verishake/adversary"
	"github.com/verishake/verishake/protocol"
)

// A field of a machine's or the world's state that the fingerprint does
// not see makes the explorer merge states that behave differently, and a
// complete search of the wrong state space then reports that every
// property holds. TestEveryFieldCounts changes every field of every state
// type, one at a time, by reflection, and requires every fingerprint and
// the snapshot to change, and the snapshot to load back to the changed
// world. A field that deliberately does not count must be listed below
// with the reason; a new field that is in no walk (encoding_walk.go) and
// in neither list fails the test, by name.

// reportOnly lists the fields that only feed reports: a snapshot keeps
// them (the test requires it to change and to load back), the
// fingerprints do not (the test requires them not to change).
var reportOnly = func() map[string]string {
	m := map[string]string{
		"sim.book.hs":               "the handshake's number, for results and traces; whether the client has started one is book.nstart",
		"sim.book.began":            "when the handshake began, for the latency histogram",
		"sim.Envelope.ID":           "names the send, for steps and traces; the messages in flight are a multiset by content",
		"sim.Envelope.From":         "only decides whether a delivery counts for FORGE (and is told to an Outcomer adversary, which the explorer's is not)",
		"sim.Envelope.Guess":        "only decides whether a delivery counts for FORGE",
		"sim.World.nextID":          "names the next send: message ids do not count",
		"sim.World.free":            "where the next message goes: slot positions do not count",
		"protocol.SymbolicTokens.N": "the next fresh token's name: a fresh token is new in any world and compared only for equality (docs/performance.md, \"State counts\")",
	}
	for _, f := range []string{"Verified", "Failed", "HalfVerified", "Sent", "Rejected", "Lost", "Issued", "Executed", "ForgeGuesses", "ForgeAccepted"} {
		m["sim.Counters."+f] = "a tally for the report; no step depends on it"
	}
	m["sim.Counters.Steps[0]"] = "names no step kind"
	m[fmt.Sprintf("sim.Counters.Steps[%d]", StepInsider)] = "no Limit reads the insider's steps: its progress is adversary.Explorer.InsiderRuns and InsiderTs"
	for _, k := range []StepKind{StepDeliver, StepClientTimer, StepServerTimer, StepStart, StepIssue} {
		m[fmt.Sprintf("sim.Counters.Steps[%d]", k)] = fmt.Sprintf("no Limit reads the count of %v steps", k)
	}
	return m
}()

// notState lists the fields the test does not change: settings of the run
// (the same in every world of it, kept by LoadSnapshot from the world it
// loads into), values derived from others, scratch, and the fields whose
// contents another state type of the test covers.
var notState = map[string]string{
	"sim.World.h":        "the run's compiled profile",
	"sim.World.opts":     "the run's options",
	"sim.World.fhash":    "the fingerprint's kept hashes",
	"sim.World.msum":     "the fingerprint's kept sums",
	"sim.World.ssum":     "the fingerprint's kept sums",
	"sim.World.ssumAt":   "the fingerprint's kept sums",
	"sim.World.msumOK":   "the fingerprint's kept sums",
	"sim.World.ssumOK":   "the fingerprint's kept sums",
	"sim.World.live":     "the number of occupied in-flight slots, derived from flight",
	"sim.World.frame":    "scratch",
	"sim.World.moves":    "scratch",
	"sim.World.shares":   "scratch",
	"sim.World.Clients":  "covered as protocol.Client",
	"sim.World.books":    "covered as sim.book",
	"sim.World.Server":   "covered as protocol.Server",
	"sim.World.Counters": "covered as sim.Counters",
	"sim.World.flight":   "covered as sim.Envelope",
	"sim.World.tokens":   "covered as protocol.SymbolicTokens",
	"sim.World.adv":      "covered as adversary.Explorer",

	"protocol.Server.slots":    "covered as protocol.Slot",
	"protocol.Server.n":        "the number of slots, derived from slots",
	"protocol.Server.halfOpen": "the number of half-open slots, derived from slots",

	"adversary.Explorer.Caps":                  "the run's adversary",
	"adversary.Explorer.budgeted":              "the run's budget",
	"adversary.Explorer.MaxInsiderRuns":        "the run's adversary",
	"adversary.Explorer.Targets":               "the run's adversary",
	"adversary.Explorer.Knowledge.tokSet":      "simulation only (see adversary.Knowledge.tokSet)",
	"adversary.Explorer.Knowledge.msgSet":      "simulation only (see adversary.Knowledge.tokSet)",
	"adversary.Explorer.Knowledge.tokNext":     "simulation only (see adversary.Knowledge.tokSet)",
	"adversary.Explorer.Knowledge.msgNext":     "simulation only (see adversary.Knowledge.tokSet)",
	"adversary.Explorer.Knowledge.MaxCaptured": "the run's adversary (a snapshot refuses a bounded window)",
}

// listed returns the reason path (or a field it is inside) is listed in m.
func listed(m map[string]string, path string) (string, bool) {
	for p := path; ; {
		if why, ok := m[p]; ok {
			return why, true
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			return "", false
		}
		p = p[:i]
	}
}

// encodingWorld is a world with something in every part: two clients in
// handshakes (so that it is Symmetric, the explorer adversary targeting
// both), a server slot, messages in flight and free in-flight slots, a
// finite limit on every limited step and on retransmissions, and an adversary that has captured
// messages and knows a token.
func encodingWorld(t *testing.T) *World {
	t.Helper()
	x := adversary.NewExplorer(adversary.Default(), 2, 3)
	x.SetBudget(3)
	w := newTestWorld(t, protocol.Hardened(), WorldOptions{Clients: 2, Handshakes: 4, Commands: 1, Adversary: x,
		Limits: Limits{Drops: 2, Dups: 2, Corrupts: 1, Injects: 3, StartsPerClient: 2, Retransmits: 2}})
	// The insider's Hello (its session pending, its Ts known) and a flood.
	apply(t, w, Step{Kind: StepInsider, Msg: protocol.Message{Kind: protocol.Hello, RegID: 3, Tc: adversary.Own}})
	apply(t, w, Step{Kind: StepFlood, Count: 3})
	apply(t, w, Step{Kind: StepStart, Client: 0})
	apply(t, w, Step{Kind: StepStart, Client: 1})
	apply(t, w, Step{Kind: StepDeliver, Slot: 0, ID: mustEnv(t, w, 0).ID})
	apply(t, w, Step{Kind: StepDup, Slot: 1, ID: mustEnv(t, w, 1).ID})
	// Two free in-flight slots, so that the free list has an order.
	n := int32(len(w.flight))
	w.flight = append(w.flight, Envelope{}, Envelope{})
	w.free = append(w.free, n, n+1)
	require.True(t, w.Symmetric() && w.Renamable())
	require.NotEmpty(t, x.Knowledge.Captured)
	require.NotEmpty(t, x.Knowledge.Tokens)
	return w
}

// stateRoot is a state type's value inside a world: get returns it,
// addressable, from w; put, if not nil, writes a changed copy back.
type stateRoot struct {
	name string
	get  func(w *World) reflect.Value
	put  func(w *World, v reflect.Value)
}

func stateRoots(base *World) []stateRoot {
	roots := []stateRoot{
		{name: "sim.World", get: func(w *World) reflect.Value { return reflect.ValueOf(w).Elem() }},
		{name: "sim.Counters", get: func(w *World) reflect.Value { return reflect.ValueOf(&w.Counters).Elem() }},
		{name: "protocol.Server", get: func(w *World) reflect.Value { return reflect.ValueOf(w.Server).Elem() }},
		{name: "protocol.SymbolicTokens", get: func(w *World) reflect.Value { return reflect.ValueOf(w.tokens).Elem() }},
		{name: "adversary.Explorer", get: func(w *World) reflect.Value { return reflect.ValueOf(w.adv).Elem() }},
	}
	for i := range base.Clients {
		roots = append(roots,
			stateRoot{name: "protocol.Client", get: func(w *World) reflect.Value { return reflect.ValueOf(&w.Clients[i]).Elem() }},
			stateRoot{name: "sim.book", get: func(w *World) reflect.Value { return reflect.ValueOf(&w.books[i]).Elem() }})
	}
	for i := range base.flight {
		if base.flight[i].Msg.Kind != 0 {
			roots = append(roots, stateRoot{name: "sim.Envelope", get: func(w *World) reflect.Value { return reflect.ValueOf(&w.flight[i]).Elem() }})
		}
	}
	for _, sl := range base.Server.Slots() {
		id := sl.RegID
		roots = append(roots, stateRoot{name: "protocol.Slot",
			get: func(w *World) reflect.Value {
				sl, _ := w.Server.Slot(id)
				return reflect.ValueOf(&sl).Elem()
			},
			put: func(w *World, v reflect.Value) {
				w.Server.Put(protocol.Slot{RegID: id}) // out with the old
				w.Server.Put(v.Interface().(protocol.Slot))
			}})
	}
	return roots
}

// leaf is one field to change: its path from its root and how to reach it.
type leaf struct {
	path string
	at   []int // field or element indices from the root
}

// leaves lists the fields of v to change, recursing into structs, arrays
// (but for tokens) and slices; it stops at fields listed in notState.
func leaves(t *testing.T, v reflect.Value, path string, at []int, out []leaf) []leaf {
	if _, ok := listed(notState, path); ok {
		return out
	}
	switch {
	case v.Type() == reflect.TypeFor[protocol.Token]():
		return append(out, leaf{path, slices.Clone(at)})
	case v.Kind() == reflect.Struct:
		for i := range v.NumField() {
			out = leaves(t, v.Field(i), path+"."+v.Type().Field(i).Name, append(at, i), out)
		}
		return out
	case v.Kind() == reflect.Array || v.Kind() == reflect.Slice:
		if path == "sim.World.free" {
			return append(out, leaf{path, slices.Clone(at)}) // changed as a whole: reversed
		}
		for i := range v.Len() {
			out = leaves(t, v.Index(i), fmt.Sprintf("%s[%d]", path, i), append(at, i), out)
		}
		return out
	case v.Kind() == reflect.Bool, v.CanInt(), v.CanUint(), v.Kind() == reflect.String:
		return append(out, leaf{path, slices.Clone(at)})
	}
	t.Errorf("%s: a %v field: state the test cannot change; add it to the world's walk and teach the test, or list it in notState", path, v.Kind())
	return out
}

// reach returns the field at indices at from v, settable even if unexported.
func reach(v reflect.Value, at []int) reflect.Value {
	for _, i := range at {
		if v.Kind() == reflect.Struct {
			v = v.Field(i)
		} else {
			v = v.Index(i)
		}
		v = reflect.NewAt(v.Type(), unsafe.Pointer(v.UnsafeAddr())).Elem()
	}
	return v
}

// change sets v to a different value.
func change(v reflect.Value) {
	switch {
	case v.Type() == reflect.TypeFor[protocol.Token]():
		// Zero (no token) and a token: different under any renaming.
		if v.Interface().(protocol.Token).IsZero() {
			v.Set(reflect.ValueOf(protocol.Symbolic(1)))
		} else {
			v.Set(reflect.ValueOf(protocol.Token{}))
		}
	case v.Kind() == reflect.Slice: // the free list
		slices.Reverse(v.Interface().([]int32))
	case v.Kind() == reflect.Bool:
		v.SetBool(!v.Bool())
	case v.CanInt():
		x, most := v.Int(), int64(^uint64(0)>>(65-v.Type().Bits()))
		if x == most {
			v.SetInt(x - 1)
		} else {
			v.SetInt(x + 1)
		}
	case v.CanUint():
		x, most := v.Uint(), ^uint64(0)>>(64-v.Type().Bits())
		if x == most {
			v.SetUint(x - 1)
		} else {
			v.SetUint(x + 1)
		}
	case v.Kind() == reflect.String:
		v.SetString(v.String() + "!")
	}
}

// forms are the fingerprints of w and its snapshot.
type forms struct {
	plain, named, symmetric uint64
	snapshot                []byte
}

func formsOf(t *testing.T, w *World) forms {
	t.Helper()
	var names Names
	snap, err := w.Clone().AppendSnapshot(nil)
	require.NoError(t, err)
	return forms{
		plain:     w.Clone().Fingerprint(),
		named:     w.FingerprintNamed(&names, nil),
		symmetric: w.SymmetricFingerprint(func(protocol.RegID) uint64 { return 0 }),
		snapshot:  snap,
	}
}

// assertSameWorld asserts that a and b hold the same state.
func assertSameWorld(t *testing.T, a, b *World, msg string) {
	t.Helper()
	assert.Equal(t, a.Now, b.Now, msg)
	assert.Equal(t, a.Clients, b.Clients, msg)
	assert.Equal(t, a.books, b.books, msg)
	assert.Equal(t, a.Server.Slots(), b.Server.Slots(), msg)
	assert.Equal(t, a.Server.HalfOpen(), b.Server.HalfOpen(), msg)
	assert.Equal(t, a.Counters, b.Counters, msg)
	// (nil and empty are the same list)
	assert.Equal(t, append([]Envelope{}, a.flight...), append([]Envelope{}, b.flight...), msg)
	assert.Equal(t, append([]int32{}, a.free...), append([]int32{}, b.free...), msg)
	assert.Equal(t, a.live, b.live, msg)
	assert.Equal(t, a.nextID, b.nextID, msg)
	assert.Equal(t, a.tokens, b.tokens, msg)
	assert.Equal(t, a.adv, b.adv, msg)
}

func TestEveryFieldCounts(t *testing.T) {
	base := encodingWorld(t)
	was := formsOf(t, base)
	changed := 0
	for _, root := range stateRoots(base) {
		for _, lf := range leaves(t, root.get(base), root.name, nil, nil) {
			w := base.Clone()
			v := root.get(w)
			field := reach(v, lf.at)
			before := fmt.Sprint(field.Interface())
			change(field)
			if root.put != nil {
				root.put(w, v)
			}
			msg := fmt.Sprintf("%s changed from %s to %v", lf.path, before, field.Interface())
			now := formsOf(t, w)
			if why, ok := listed(reportOnly, lf.path); ok {
				assert.Equal(t, was.plain, now.plain, "%s: listed as report-only (%s), yet Fingerprint sees it", msg, why)
				assert.Equal(t, was.named, now.named, "%s: listed as report-only, yet FingerprintNamed sees it", msg)
				assert.Equal(t, was.symmetric, now.symmetric, "%s: listed as report-only, yet SymmetricFingerprint sees it", msg)
			} else {
				hint := "add it to its type's walk in encoding_walk.go, or list it in reportOnly or notState with the reason"
				assert.NotEqual(t, was.plain, now.plain, "%s: Fingerprint does not see it: %s", msg, hint)
				assert.NotEqual(t, was.named, now.named, "%s: FingerprintNamed does not see it: %s", msg, hint)
				assert.NotEqual(t, was.symmetric, now.symmetric, "%s: SymmetricFingerprint does not see it: %s", msg, hint)
			}
			assert.NotEqual(t, was.snapshot, now.snapshot, "%s: AppendSnapshot does not keep it", msg)
			into := base.Clone()
			rest, err := into.LoadSnapshot(append(now.snapshot, "tail"...))
			if assert.NoError(t, err, msg) {
				assert.Equal(t, "tail", string(rest), msg)
				assertSameWorld(t, w, into, msg+": LoadSnapshot")
				assert.Equal(t, now.plain, into.Fingerprint(), msg+": loaded")
			}
			changed++
		}
	}
	require.Greater(t, changed, 100, "fields changed")
}
