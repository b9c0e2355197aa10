package nspk_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verishake/verishake/engine"
	"github.com/verishake/verishake/examples/nspk"
)

// lowesBounds is the default Config: one initiator run by A, one responder
// run by B. twoRunsARole gives each honest agent one run of each role.
var (
	lowesBounds  = nspk.Config{}
	twoRunsARole = nspk.Config{Initiators: []nspk.Agent{nspk.A, nspk.B}, Responders: []nspk.Agent{nspk.B, nspk.A}}
)

func fixed(cfg nspk.Config) nspk.Config {
	cfg.Fixed = true
	return cfg
}

func newModel(t testing.TB, cfg nspk.Config) *nspk.Model {
	t.Helper()
	m, err := nspk.New(cfg)
	require.NoError(t, err)
	return m
}

func search(t testing.TB, m engine.Model[nspk.State, nspk.Action]) engine.Report[nspk.Action] {
	t.Helper()
	r, err := engine.Search(context.Background(), m, engine.Config{})
	require.NoError(t, err)
	return r
}

// replay runs actions from the initial state, requiring each to be enabled
// where it is taken, and returns the state reached.
func replay(t testing.TB, m *nspk.Model, actions []nspk.Action) nspk.State {
	t.Helper()
	var s, next nspk.State
	m.Init(&s)
	for i, a := range actions {
		require.Contains(t, m.Actions(&s, nil), a, "action %d (%v) is not enabled", i, a)
		m.Apply(&s, &a, &next)
		s, next = next, s
	}
	return s
}

// check returns the error of the model's property named name on s.
func check(t testing.TB, m *nspk.Model, name string, s *nspk.State) error {
	t.Helper()
	for _, p := range m.Properties() {
		if p.Name == name {
			return p.State(s)
		}
	}
	t.Fatalf("no property %s", name)
	return nil
}

// walk calls visit on every path of at most depth actions from the initial
// state, by plain recursion over the model: a check that does not go
// through the engine's search.
func walk(m *nspk.Model, depth int, visit func(path []nspk.Action, s *nspk.State)) {
	var root nspk.State
	m.Init(&root)
	var rec func(path []nspk.Action, s *nspk.State)
	rec = func(path []nspk.Action, s *nspk.State) {
		visit(path, s)
		if len(path) == depth {
			return
		}
		for _, a := range m.Actions(s, nil) {
			var next nspk.State
			m.Apply(s, &a, &next)
			rec(append(path[:len(path):len(path)], a), &next)
		}
	}
	rec(nil, &root)
}
