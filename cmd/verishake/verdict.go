package main

import (
	"io"
	"os"
	"strings"

	"github.com/verishake/verishake/internal/verifier"
)

// defaultCexDir is where counterexample traces go by default: a directory
// of the working directory, where the user looks, not a shared /tmp.
const defaultCexDir = "verishake-cex"

const cexUsage = "write counterexample traces to `DIR` (an existing file is never overwritten: a new name gets a -2, -3... suffix)"

// shellQuote quotes s for a POSIX shell when it needs it.
var shellQuote = verifier.ShellQuote

// displayName is a report header's name for a profile and its variant.
// A profile a variant was applied to is already named profile+variant.
func displayName(profile, variant string) string {
	if variant == "" || strings.HasSuffix(profile, "+"+variant) {
		return profile
	}
	return profile + "+" + variant
}

// probeWritable fails now, not after the work, when path (if set) cannot
// be written.
func probeWritable(path string) error {
	if path == "" {
		return nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	return f.Close()
}

// writeFile writes path through write, reporting a failed close too.
func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	err = write(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
