package engine

// Model is a finite transition system: states of type S, actions of type A.
// The explorer (Search) and any other scheduler run a model only through
// these methods, so the engine knows nothing of what the states mean.
//
// Every method must be deterministic: the same state gives the same
// actions in the same order and the same successors. A counterexample
// names each action by its index among the actions its state enabled, and
// is rebuilt by running the model again from Init.
type Model[S, A any] interface {
	// Init writes the initial state into s, which may hold an earlier
	// state to reuse (or be the zero S).
	Init(s *S)
	// Actions appends to dst the actions enabled in s, in a fixed order.
	Actions(s *S, dst []A) []A
	// Apply writes into next the state that action a takes s to. next may
	// hold an earlier state to reuse (or be the zero S); it never aliases
	// s, and Apply must leave s as it was.
	Apply(s *S, a *A, next *S)
	// Encode appends the canonical encoding of s to dst: two states with
	// equal encodings are the same state, and every part of the state
	// that can change what happens next must be in it. Unless the model
	// is a Fingerprinter, a state's fingerprint is the hash of its
	// encoding.
	Encode(dst []byte, s *S) []byte
	// Decode reads back into s a state Encode wrote (s may hold an earlier
	// state to reuse). The explorer keeps its frontier encoded.
	Decode(src []byte, s *S) error
	// Properties are what the explorer checks, in report order.
	Properties() []Property[S, A]
}

// Fingerprinter is a Model whose states are fingerprinted otherwise than
// by hashing their encodings: typically a view up to a symmetry (a
// renaming of interchangeable processes or of fresh names), so that
// states equal up to the renaming are one state. It is sound when every
// property gives the same verdict on states with equal fingerprints.
type Fingerprinter[S any] interface {
	Fingerprint(s *S) uint64
}

// Peeker is a Model that can fingerprint some successors without making
// them: for an action that only moves a few bytes (a message lost or
// copied, say), the explorer learns whether the successor is new before
// paying for Apply, and most are not. Peek returns the fingerprint of
// the state a takes s to, and false when it cannot tell cheaply. It may
// answer only for actions that no Step property can find fault with
// unless the step into s already did: the explorer does not run the Step
// properties on an action Peek answered for.
type Peeker[S, A any] interface {
	Peek(s *S, a *A) (uint64, bool)
}

// Redundant is a Model that knows when an action does exactly what an
// earlier action of the same state does (the same message delivered
// from two copies of it, say): Same(s, acts, i) reports whether acts[i]
// reaches the state that some acts[j], j < i, reaches, by the same
// Step verdicts. The explorer counts such an action as a transition and
// skips it: the earlier of two equal successors is the one kept anyway.
type Redundant[S, A any] interface {
	Same(s *S, acts []A, i int) bool
}

// Kinded is a Model whose actions have kinds (at most 256): the report
// counts the transitions taken by kind, so that a kind the bounds allow
// and the search never took shows as a gap in the model.
type Kinded[A any] interface {
	Kind(a *A) uint8
}

// Property is one thing the explorer checks. Exactly one of its checks is
// set; each returns nil when the property holds and otherwise an error
// saying why not (its text is the counterexample's reason).
type Property[S, A any] struct {
	// Name identifies the property in reports (e.g. "AUTH-S").
	Name string
	// State must hold in every reachable state: an invariant.
	State func(s *S) error
	// Step must hold on every transition: a property of what an action
	// did (a claim made with no matching claim before it, say).
	Step func(from *S, a *A, to *S) error
	// Stuck is judged on the reachable states in which no action is
	// enabled: a deadlock property says which of them are final.
	Stuck func(s *S) error
	// Continue is judged on every reachable state by running a
	// continuation of the model's own choosing from it (a fault-free
	// run, say) and judging where it ends. When the explorer rebuilds a
	// counterexample it passes a non-nil path, and Continue appends the
	// actions it took.
	Continue func(s *S, path *[]A) error
}

// kind names which check of a Property is set.
func (p *Property[S, A]) kind() string {
	n := 0
	k := ""
	if p.State != nil {
		n, k = n+1, "state"
	}
	if p.Step != nil {
		n, k = n+1, "step"
	}
	if p.Stuck != nil {
		n, k = n+1, "stuck"
	}
	if p.Continue != nil {
		n, k = n+1, "continue"
	}
	if n != 1 {
		return ""
	}
	return k
}
