//go:build race

package verishaketest_test

// raceDetector is true under `go test -race`, whose instrumentation makes
// the explorer some ten times slower.
const raceDetector = true
