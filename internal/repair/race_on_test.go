//go:build race

package repair

// raceDetector is true under `go test -race`, whose instrumentation makes
// the explorer some ten times slower.
const raceDetector = true
