package verishaketest

import (
	"context"
	"fmt"
	"strings"

	"github.com/verishake/verishake/engine"
)

// Describe prints Explore's actions with f (default: fmt's %v, which uses
// an action's String method). Explore only.
func Describe[A any](f func(A) string) Option {
	return func(s *settings) { s.describe = f }
}

// Explore searches every state of model reachable from its initial one
// (engine.Search, breadth first) and fails t with each property violated:
// its reason and the actions of its shortest counterexample, one a line.
// A search cut short (MaxStates) leaves the properties it did not find
// violated unknown, which fails t unless AllowUnknown. It returns the
// engine's report for further assertions.
func Explore[S, A any](t TB, model engine.Model[S, A], opts ...Option) engine.Report[A] {
	t.Helper()
	s := settingsOf(opts)
	describe := func(a A) string { return fmt.Sprint(a) }
	switch f := s.describe.(type) {
	case nil:
	case func(A) string:
		describe = f
	default:
		t.Errorf("verishaketest: Explore: Describe's function takes %T, not the model's action", f)
		return engine.Report[A]{}
	}
	if s.name != "" || len(s.only) > 0 || s.handshakes > 0 || s.cexDir != "" || s.quick {
		t.Errorf("verishaketest: Explore: Named, Only, Quick, MaxHandshakes and CounterexampleDir are for Verify and Check")
		return engine.Report[A]{}
	}
	rep, err := engine.Search(context.Background(), model, engine.Config{MaxStates: s.maxStates})
	if err != nil {
		t.Errorf("verishaketest: explore: %v", err)
		return rep
	}
	for _, name := range rep.Properties {
		switch rep.Verdict(name) {
		case engine.Violated:
			c, _ := rep.Violated(name)
			t.Errorf("%s", exploreFailure(c, describe))
		case engine.Unknown:
			unknown(t, s, fmt.Sprintf("verishaketest: %s unknown: the search was cut short (%s) after %d states without finding it violated; not a pass",
				name, rep.Stopped, rep.States))
		}
	}
	return rep
}

// exploreFailure is a violated property's failure message: the reason,
// then the counterexample's actions, the property's own continuation
// (see engine.Property.Continue) marked as such.
func exploreFailure[A any](c engine.Counterexample[A], describe func(A) string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "verishaketest: %s violated: %s\ncounterexample, %d steps:", c.Property, c.Reason, c.Path())
	path := c.Path()
	for i, a := range c.Actions {
		if i == path {
			fmt.Fprintf(&b, "\nthen the continuation %s judges by, %d steps:", c.Property, c.Continuation)
		}
		fmt.Fprintf(&b, "\n  %d. %s", i+1, describe(a))
	}
	return b.String()
}
