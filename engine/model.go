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
