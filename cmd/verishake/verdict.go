package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/verishake/verishake/adversary"
)

// counterexample is how a violation is reproduced, the same object in
// every command's --json (docs/verdict.schema.json).
type counterexample struct {
	// File is the trace to replay; empty when no trace was written (a
	// simulation without --trace: Replay then re-runs it with one).
	File string `json:"file,omitempty"`
	// Steps counts the steps up to and including the violating one (0:
	// not counted, as for validate, which gives the trace's Line).
	Steps int `json:"steps"`
	// Line is the line of File where validate found the violation.
	Line     int    `json:"line,omitempty"`
	Property string `json:"property"`
	// Replay is a shell command that reproduces the violation.
	Replay string `json:"replay"`
}

// defaultCexDir is where counterexample traces go by default: a directory
// of the working directory, where the user looks, not a shared /tmp.
const defaultCexDir = "verishake-cex"

const cexUsage = "write counterexample traces to `DIR` (an existing file is never overwritten: a new name gets a -2, -3... suffix)"

// configuration names the job's bounds and threat model in counterexample
// file names: verify's named runs by their tag, check's by its bounds.
func (j checkJob) configuration() string {
	if j.tag != "" {
		return j.tag
	}
	b := j.b
	s := fmt.Sprintf("c%d-s%d-l%d-d%d-i%d-r%d", b.Clients, b.Sessions, b.Losses, b.Dups, b.Injects, b.Retries)
	if b.Retransmits > 0 {
		s += fmt.Sprintf("-g%d", b.Retransmits)
	}
	s += fmt.Sprintf("-k%d", b.Commands)
	if j.caps != adversary.Default() {
		s += "-" + j.caps.String()
	}
	return s
}

// cexName is a counterexample file's name without its suffix: the profile
// (with its variant), the configuration and the property, in characters
// that need no quoting in a shell.
func cexName(profile, configuration, property string) string {
	name := profile + "-" + configuration + "-" + property
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '-'
	}, name)
}

// createCounterexample creates dir/name.jsonl, or dir/name-2.jsonl and so
// on when that exists: a run never overwrites another run's trace.
func createCounterexample(dir, name string) (*os.File, string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, "", err
	}
	for n := 1; n <= 1000; n++ {
		path := filepath.Join(dir, name+".jsonl")
		if n > 1 {
			path = filepath.Join(dir, fmt.Sprintf("%s-%d.jsonl", name, n))
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return f, path, err
	}
	return nil, "", fmt.Errorf("%s: 1000 traces of that name already: clear the directory", filepath.Join(dir, name+".jsonl"))
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./+=:,@%", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

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
