package main

import (
	"fmt"
	"io"

	"github.com/verishake/verishake/engine"
	"github.com/verishake/verishake/internal/verifier"
)

// compactFlag is --compact: alone, hash compaction; =hash, =bitstate or
// =exact (the default) by name.
type compactFlag struct{ c engine.Compaction }

func (f *compactFlag) String() string {
	if f == nil {
		return engine.Exact.String()
	}
	return f.c.String()
}

func (f *compactFlag) IsBoolFlag() bool { return true }

func (f *compactFlag) Set(v string) error {
	switch v {
	case "true", "hash":
		f.c = engine.HashCompaction
	case "bitstate":
		f.c = engine.Bitstate
	case "false", "exact":
		f.c = engine.Exact
	default:
		return fmt.Errorf("%q: want hash, bitstate or exact", v)
	}
	return nil
}

const compactUsage = "keep the visited set lossily, in a table of --compact-size: hash (32 bits a state, as Spin's -DHC4; --compact alone) or bitstate (3 bits a state, as -DBITSTATE); the report says how many states it may have omitted, and what holds is lossy"

// The lossy search's report and the table's default size are package
// verifier's, which runs the search.
type compactReport = verifier.CompactReport

const lossyBy = verifier.LossyBy

var compactTable = verifier.CompactTable

const compactSizeUsage = "`SIZE` of the --compact table (default: a quarter of the search's share of --memory, at most 512MiB)"

// printCompact is the text report's line on a lossy search.
func printCompact(w io.Writer, c *compactReport) {
	if c == nil {
		return
	}
	fmt.Fprintf(w, "LOSSY (%s compaction, a %s table): %.3g states expected omitted, so a probability of at most %.3g that any was; a property that holds, holds in every state kept\n",
		c.Mode, formatSize(c.TableBytes), c.ExpectedOmitted, c.OmissionProbability)
}
