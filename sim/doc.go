// Package sim is the simulated world of the handshake: honest clients, one
// server, the upstream and push channels, virtual time and an adversary
// hook, composed into one value (World) that two schedulers drive the same
// way.
//
// World.Enabled lists what may happen next and World.Apply makes one of
// those things happen, as a Step: deliver, drop, duplicate or corrupt a
// message in flight, fire a timer, start a handshake, issue a command,
// inject an adversary's message. The random scheduler (Runner, Run) picks
// steps with a seeded generator and a time-ordered event queue, at hundreds
// of thousands of handshakes a second; the exhaustive explorer (package
// sim/explore) takes every enabled step breadth-first, deduplicating worlds
// by Fingerprint. Every move of either is a Step through Apply, so a trace
// or a counterexample re-runs through Apply alone (Replay).
//
// The machines are package protocol's, sans-IO: the world owns the clock
// and hands them the time and the token source. Monitors check AUTH-C,
// AUTH-S, CMD, FORGE, LIVE and BOUNDED online, and DELIVER when a run
// without loss or adversary ends. The adversary joins
// through a hook (Adversary); package adversary's strategies (replay,
// forge, impersonate, flood, all) are registered under those names, and
// ApplyVariant resolves the variant catalog. Traces are JSON Lines in
// package trace's versioned schema, which package transport shares for
// real runs; RecordOf and ParseStep convert between a Step and its trace
// record. docs/simulation.md describes the channel model, the schema, the
// stats and how to reproduce a failure from its seed.
package sim
