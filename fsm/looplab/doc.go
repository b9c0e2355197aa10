// Package looplab runs an [fsm.Machine]'s transition table on
// github.com/looplab/fsm (v1.0.3), for services already built on it.
//
// It is a package of its own so that programs embedding package fsm or
// package protocol do not link looplab: only a program that imports this
// package does.
//
// [New] builds an equivalent looplab FSM from a machine's spec; states and
// events are named by fmt.Sprint, the naming rule of [fsm.Machine.StateByName],
// which [fsm.Spec.Validate] checks is injective. looplab's Event method
// differs from [fsm.Instance.Fire] in three ways, which [Fire] maps back:
//
//   - A self-loop (From == To) is accepted but reported as
//     fsm.NoTransitionError; Fire reports it as accepted.
//   - An event that exists in the table but not in the current state gives
//     fsm.InvalidEventError, and an event in no row at all (declared but
//     unused events included) gives fsm.UnknownEventError; Fire returns the
//     same *[fsm.NoTransitionError] as [fsm.Instance.Fire] for both.
//   - Event needs a context and takes locks; Fire passes
//     context.Background().
//
// The differential test TestLooplabDifferential drives both engines with
// random valid specs and event sequences and requires the same states,
// verdicts and errors. BenchmarkFireVsLooplab times both engines on one
// table in the same run.
package looplab
