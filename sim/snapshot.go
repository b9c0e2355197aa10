package sim

import (
	"errors"
	"fmt"

	"github.com/verishake/verishake/adversary"
	"github.com/verishake/verishake/protocol"
)

// ErrSnapshot marks a world AppendSnapshot cannot encode or a snapshot
// LoadSnapshot cannot decode.
var ErrSnapshot = errors.New("sim: snapshot")

// AppendSnapshot appends a compact encoding of w to b: the world's walk
// (encoding_walk.go) written out, everything that makes w behave and
// report as it does (clients and their books, server slots, in-flight
// slots with their ids, free list, counters, clock, token source and
// adversary knowledge), as varints and with symbolic tokens as their
// numbers: a hundred-odd bytes where the world holds kilobytes. The
// exhaustive explorer keeps its frontier as snapshots. LoadSnapshot
// restores one into a world of the same run. Only symbolic token sources
// and NoAdversary or *adversary.Explorer adversaries (with MaxCaptured
// zero) are supported; other worlds fail with ErrSnapshot and b unchanged.
func (w *World) AppendSnapshot(b []byte) ([]byte, error) {
	if err := w.snapshottable(); err != nil {
		return b, err
	}
	c := writeCodec{b: b}
	c.world(w)
	return c.b, nil
}

// snapshottable says why w has no snapshot, if it has none.
func (w *World) snapshottable() error {
	if _, ok := w.tokens.(*protocol.SymbolicTokens); !ok {
		return fmt.Errorf("%w: token source %T", ErrSnapshot, w.tokens)
	}
	switch a := w.adv.(type) {
	case NoAdversary:
	case *adversary.Explorer:
		if a.Knowledge.MaxCaptured != 0 {
			return fmt.Errorf("%w: adversary keeps a bounded window", ErrSnapshot)
		}
	default:
		return fmt.Errorf("%w: adversary %T", ErrSnapshot, w.adv)
	}
	return nil
}

// LoadSnapshot makes w the world AppendSnapshot encoded in b. w must be a
// world of the same run as the one encoded (made by Clone or CopyFrom from
// it or from a world it was cloned from): its handshake, options, token
// source type and adversary's capabilities and targets are kept, and the
// rest is overwritten. It reuses w's storage; the adversary's knowledge
// gets arrays of its own. It returns the bytes after the snapshot. Bytes
// that are not a snapshot fail with ErrSnapshot, leaving w to be loaded
// again before use.
func (w *World) LoadSnapshot(b []byte) ([]byte, error) {
	if _, ok := w.tokens.(*protocol.SymbolicTokens); !ok {
		return b, fmt.Errorf("%w: token source %T", ErrSnapshot, w.tokens)
	}
	w.msumOK, w.ssumOK = false, false
	c := readCodec{r: snapReader{b: b}}
	c.world(w)
	switch {
	case c.err != nil:
		return b, c.err
	case c.r.bad:
		return b, fmt.Errorf("%w: truncated or corrupt", ErrSnapshot)
	}
	return c.r.b[c.r.i:], nil
}
