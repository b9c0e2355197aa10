// Package engine is verishake's exhaustive explorer, and it knows no
// protocol: it searches any Model, a finite transition system given as
// states of a type S and actions of a type A, breadth first, and reports
// for each property a verdict (holds, violated, unknown) and, for each
// violated one, a shortest counterexample.
//
// # The contract
//
// A model says where it starts (Init), what may happen next (Actions, in
// a fixed order), what each action does (Apply, into a state of the
// engine's that it may reuse), and what a state is (Encode, Decode): two
// states with equal encodings are one state, so every part of a state that
// can change what happens next must be encoded, and nothing else. The
// engine keeps only fingerprints of the states it has seen and the
// encodings of the states it has still to expand; it never keeps a
// pointer into a model's state.
//
// Every method must be deterministic. A counterexample is recorded as, for
// each state on the path, the index of the action taken among those its
// state enabled; it is rebuilt by running the model again from Init. A
// model whose Actions depend on anything but the state (a clock, a map's
// order) breaks that, and Search says so rather than report a path that
// does not reach the violation.
//
// # Properties
//
// A Property sets one check: State (an invariant of every reachable
// state), Step (a condition on every transition, such as a claim made
// with no matching claim before it), Stuck (judged on states with no
// action: deadlock) or Continue (a run of the model's own choosing from
// every state, judged where it ends, such as "with no further fault, both
// sides agree"). Properties see the model's states only through these
// functions, so a model keeps whatever history its properties need (a
// ledger of claims, say) in its state, and encodes it.
//
// # Verdicts
//
// Breadth-first order makes counterexamples shortest: the first level at
// which a property fails is the length of the shortest path to a failure,
// and within that level the least (state, action) in search order is
// kept, so the report is the same for any number of workers. A search cut
// short (Config.MaxStates, StopOn, a cancelled context) is not complete,
// and a property it did not find violated is unknown, never held.
//
// # Memory
//
// The visited set keeps 64-bit fingerprints, 10 to 15 bytes a state;
// Config.WorkDir puts the frontier and the parent records on disk, and
// Config.MemoryBudget bounds the rest: a level is expanded a part at a
// time, so that neither the budget nor Config.MaxStates waits for a whole
// level's successors. Config.Compact trades exactness for memory (hash
// compaction, bitstate): such a search reports the states it may have
// omitted (Report.Omitted), and what holds in it holds in the states it
// kept.
//
// # Random walks
//
// Simulate is the random scheduler of any model: walks from Init choosing
// uniformly among the enabled actions, with the same properties judged at
// every state and step. What it finds is a counterexample that reproduces;
// what it does not find is reported as how much it saw, never as held.
//
// # Reductions and speed
//
// Optional interfaces let a model make the search cheaper without the
// engine learning what the model means: a Fingerprinter fingerprints
// states up to a symmetry (interchangeable processes, renamed fresh
// names); a Peeker fingerprints cheap successors without making them; a
// Redundant model names actions that repeat an earlier one; a Kinded
// model has its transitions counted by kind. Each one's documentation
// says when it is sound.
//
// The handshake (package sim/explore) and the Needham–Schroeder public-key
// protocol (examples/nspk) are two models of it.
package engine
