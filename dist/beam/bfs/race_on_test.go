//go:build race

package bfs_test

// raceEnabled: the race detector slows the searches tenfold.
const raceEnabled = true
