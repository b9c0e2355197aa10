// Package fsm is a typed, table-driven state-machine engine: the control
// skeleton of the handshake machines in package protocol.
//
// A [Spec] is plain data (states, events, a transition table). [Compile]
// validates it and freezes it into an immutable [Machine]; an [Instance] is a
// current state over a Machine, a small value that can be copied, compared and
// hashed, so a simulator or an exhaustive explorer can clone worlds cheaply.
// The engine carries no callbacks, guards or I/O: the caller decides what an
// event means and asks the machine only whether it may happen and where it
// leads.
//
// # Semantics
//
// A transition is a row (From, Event, To); at most one row per (From, Event),
// so the machine is deterministic. A terminal state has no way out: no row
// leads from it to a different state. A self-loop on a terminal state is
// allowed, because absorbing a duplicate message without leaving the final
// state is not a way out. Every non-terminal state needs a way out, and every
// state must be reachable from Initial; [Spec.Validate] reports all violations
// at once.
//
// # Errors
//
// A rejected event is reported as a *[NoTransitionError] (always a pointer)
// naming the machine, the state and the event; the instance's state is left
// unchanged. Its Err field says why: [ErrNoTransition] (both declared, no
// row), [ErrUnknownState] or [ErrUnknownEvent] (a value the spec does not
// declare, typically a programming error). Nothing in the engine panics on
// an undeclared state or event value; only [MustCompile] panics, on a bad
// spec.
//
// # Cost
//
// Next, Can and Fire are table lookups that do not allocate unless they
// fail (a rejection allocates its error). For integer state and event types
// whose declared values are close together (iota enums) the lookup indexes
// arrays directly; other types go through a map (the unexported index type
// in machine.go documents how). An Instance caches its state's table index,
// so Fire costs one event lookup and one table load: a few nanoseconds,
// roughly 100 times faster than looplab's Event on the benchmark table
// (BenchmarkFireVsLooplab in package fsm/looplab). S and E may be interface
// types, but a dynamic value that is not comparable panics as it would as a
// map key.
//
// # Names
//
// States and events are named by fmt.Sprint, so types with a String method
// read well in errors, diagrams and the looplab adapter. Because diagrams and
// other engines identify states and events by name, Validate rejects specs
// in which two states, or two events, print the same.
//
// # Other engines
//
// Package fsm/looplab runs a Machine's table on github.com/looplab/fsm, for
// services already built on it; it is a package of its own so that programs
// embedding this one do not link looplab.
package fsm
