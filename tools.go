//go:build tools

// Package main pins modules that packages still being written will import;
// it is removed once they do.
package main

import (
	_ "github.com/qmuntal/stateless"
	_ "github.com/schollz/progressbar/v3"
	_ "go.etcd.io/bbolt"
	_ "go.uber.org/goleak"
	_ "golang.org/x/term"
)
