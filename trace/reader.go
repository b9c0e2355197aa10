package trace

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// MaxLine is the longest line, in bytes, a Reader reads.
const MaxLine = 1 << 20

// Reader reads a trace a line at a time, each checked against the schema:
// a trace is one or more runs, each a header of this Schema, its steps
// and retractions, and at most one end line (package transport appends a
// run to a file per restart of a service). Blank lines are skipped. Each
// line decodes strictly (DecodeHeader, DecodeRecord, DecodeRetract,
// DecodeEnd). What a run means,
// such as whether its steps replay, is the caller's to check.
type Reader struct {
	sc      *bufio.Scanner
	line    int
	lines   int  // lines that were not blank
	started bool // a header was read
	ended   bool // the current run's end line was read
	err     error
}

// NewReader returns a Reader of r.
func NewReader(r io.Reader) *Reader {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), MaxLine)
	return &Reader{sc: sc}
}

// Line is one line of a trace: Header, Step, Retract or End is set, as
// Type says.
type Line struct {
	Number  int // from 1
	Type    string
	Header  *Header
	Step    *Record
	Retract *Retract
	End     *End
}

// LineError is a line that is not what the schema allows: Err says what
// is wrong and names the field.
type LineError struct {
	Line int // from 1
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("trace: line %d: %v", e.Line, e.Err) }

// Unwrap returns the cause (for a line cut short, it wraps ErrCutShort).
func (e *LineError) Unwrap() error { return e.Err }

// Next returns the next line, or io.EOF after the last. An error is a
// *LineError. Next may be called again after one, to read past a line
// (one cut short, say), except after a failure to read the input, which
// ends it.
func (r *Reader) Next() (Line, error) {
	if r.err != nil {
		return Line{}, r.err
	}
	for r.sc.Scan() {
		r.line++
		b := r.sc.Bytes()
		if len(bytes.TrimSpace(b)) == 0 {
			continue
		}
		r.lines++
		l, err := r.decode(b)
		if err != nil {
			return Line{}, &LineError{Line: r.line, Err: err}
		}
		return l, nil
	}
	if err := r.sc.Err(); err != nil {
		r.err = &LineError{Line: r.line + 1, Err: fmt.Errorf("reading: %w", err)}
		return Line{}, r.err
	}
	if !r.started {
		why := errors.New("empty trace: no header")
		if r.lines > 0 {
			why = errors.New("the trace ends without a header that reads")
		}
		r.err = &LineError{Line: max(r.line, 1), Err: why}
		return Line{}, r.err
	}
	return Line{}, io.EOF
}

func (r *Reader) decode(b []byte) (Line, error) {
	typ, err := LineType(b)
	if err != nil {
		return Line{}, err
	}
	l := Line{Number: r.line, Type: typ}
	switch {
	case !r.started && typ != LineHeader:
		return l, fmt.Errorf("first line is a %q, want the header", typ)
	case r.ended && typ != LineHeader:
		return l, fmt.Errorf("a %q line after the end line", typ)
	}
	switch typ {
	case LineHeader:
		h, err := DecodeHeader(b)
		if err != nil {
			return l, err
		}
		if h.Schema != Schema {
			return l, fmt.Errorf("header: schema %d, this reader reads schema %d", h.Schema, Schema)
		}
		r.started, r.ended = true, false
		l.Header = &h
	case LineStep:
		rec, err := DecodeRecord(b)
		if err != nil {
			return l, err
		}
		l.Step = &rec
	case LineRetract:
		rt, err := DecodeRetract(b)
		if err != nil {
			return l, err
		}
		l.Retract = &rt
	case LineEnd:
		e, err := DecodeEnd(b)
		if err != nil {
			return l, err
		}
		r.ended = true
		l.End = &e
	default:
		return l, fmt.Errorf("unknown line type %q", typ)
	}
	return l, nil
}
