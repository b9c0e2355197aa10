//go:build race

package main

// raceDetector is true under `go test -race`, whose instrumentation makes
// the explorer some ten times slower.
const raceDetector = true
