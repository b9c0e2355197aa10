// Package bench holds verishake's cross-tool benchmarks: the fsm engine
// against github.com/looplab/fsm and github.com/qmuntal/stateless on one
// transition table (engines_test.go), and, under spin/, a Promela model of
// the hardened handshake that bench/run.sh runs through Spin beside
// `verishake check` on the same bounds. See docs/performance.md.
//
// Under soak/ is the driver of bash bench/soak.sh, which runs `verishake
// serve` as a separate process under faults: kill -9 during handshakes on
// bbolt, sustained load on both stores, a forged-Hello flood. See
// docs/embedding.md.
//
// Nothing here runs under a plain `go test ./...` but the engines'
// agreement test: the benchmarks need -bench, the Spin comparison needs
// bash bench/run.sh, the soak bash bench/soak.sh.
package bench
