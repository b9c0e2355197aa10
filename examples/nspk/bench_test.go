package nspk_test

import (
	"testing"

	"github.com/verishake/verishake/examples/nspk"
)

// BenchmarkSearch is a complete search of the fix at two runs a role
// (5495 states, 17562 transitions); allocs/op are the whole search's.
func BenchmarkSearch(b *testing.B) {
	m := newModel(b, fixed(twoRunsARole))
	b.ReportAllocs()
	for b.Loop() {
		search(b, m)
	}
}

// BenchmarkStep is the model's own share of a transition: the actions of
// a state and the successor of each, into reused states, over every
// reachable state of the fix at two runs a role.
func BenchmarkStep(b *testing.B) {
	m := newModel(b, fixed(twoRunsARole))
	var states []nspk.State
	for _, s := range reachable(b, m) {
		states = append(states, s)
	}
	var acts []nspk.Action
	var next nspk.State
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		s := &states[i%len(states)]
		acts = m.Actions(s, acts[:0])
		for j := range acts {
			m.Apply(s, &acts[j], &next)
		}
	}
}
