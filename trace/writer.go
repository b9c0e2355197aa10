package trace

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
)

// Writer writes a JSON Lines trace: a Header, Records, an End. Encoding is
// deterministic (struct fields in order, no maps, HTML characters left
// unescaped), so the same run writes the same bytes. It is the
// simulator's writer, buffered for speed; package transport writes each
// record in one Write of its own instead, so that a killed process loses
// no step.
type Writer struct {
	bw  *bufio.Writer
	enc *json.Encoder
}

// NewWriter returns a writer to w, buffered; End flushes it.
func NewWriter(w io.Writer) *Writer {
	bw := bufio.NewWriterSize(w, 1<<16)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	return &Writer{bw: bw, enc: enc}
}

// Header writes the first line.
func (t *Writer) Header(h Header) error { return t.write(h) }

// Step writes one record.
func (t *Writer) Step(r Record) error { return t.write(r) }

// End writes the last line and flushes. Nil violations are written as an
// empty list, which a reader compares equal to none.
func (t *Writer) End(e End) error {
	if e.Violations == nil {
		e.Violations = []Violation{}
	}
	if err := t.write(e); err != nil {
		return err
	}
	return t.Flush()
}

// Flush writes out what is buffered.
func (t *Writer) Flush() error {
	if err := t.bw.Flush(); err != nil {
		return fmt.Errorf("trace: %w", err)
	}
	return nil
}

func (t *Writer) write(v any) error {
	if err := t.enc.Encode(v); err != nil {
		return fmt.Errorf("trace: %w", err)
	}
	return nil
}
