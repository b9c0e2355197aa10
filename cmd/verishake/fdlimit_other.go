//go:build !unix

package main

// openFileLimit is unknown here: the connection limit keeps its default.
func openFileLimit() uint64 { return 0 }
