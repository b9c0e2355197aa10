// Package bfs is the engine's breadth-first search run as Apache Beam
// pipelines, one a level, so that a model too big for one machine is
// explored by a runner that scales (Flink, Spark, Dataflow) with the same
// report the single-process explorer (engine.Search) gives: the same
// states, transitions, depth, verdicts and shortest counterexamples.
//
// # One level
//
// Each level is a pipeline over the frontier shards of a work path. A
// ParDo expands each shard: it decodes every state through the model's
// codec, judges the properties on it and on each of its transitions, and
// emits each successor keyed by the fingerprint range (the partition) it
// falls in; successors a shard reaches twice leave it once. The runner's
// shuffle groups them by partition, and a second ParDo joins each
// partition against the visited fingerprints of its range (Stern and
// Dill's partitioning, done by the engine's shuffle): what is new is
// written as the partition's shard of the next frontier, its visited
// update and its parent records. A driver (Search) runs level after level
// until the frontier is empty or MaxStates is reached.
//
// # The same report
//
// The single-process explorer orders a level by the first (parent,
// action) that reached each state, and keeps, for a property, the least
// (state, action) at the first level that violates it. That order is the
// lexicographic order of each state's path of action indices from the
// initial state, through the least parent each time; a frontier record
// carries that path (Key), so every choice the explorer makes by
// position, this search makes by key, whatever the number of partitions
// or the order the runner delivers elements in. Counterexamples are
// rebuilt from the parent records (fingerprint, parent fingerprint,
// action) and checked against the key.
//
// # Models by name
//
// Beam ships DoFns to workers as data, so a worker builds the model from
// a name and a configuration (Register, Spec): a model is bound once, at
// init time, in every binary that runs the pipeline.
package bfs
