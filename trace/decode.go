package trace

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// ErrCutShort marks a line that is the beginning of a JSON object that
// ends before it closes: what a writer leaves when it stops in the middle
// of a record (a crash, a failed write). A reader may skip such a line
// with a warning; any other malformed line is an error.
var ErrCutShort = errors.New("a record cut short")

// LineType returns the "type" field a line starts with: LineHeader,
// LineStep, LineEnd, or whatever else it says. A line that is not a JSON
// object is an error, wrapping ErrCutShort if it is one cut short.
//
// Like DecodeHeader, DecodeRecord and DecodeEnd, it names what is wrong
// but not the line: the caller, which knows the file and line, adds them.
func LineType(b []byte) (string, error) {
	var typ struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(b, &typ); err != nil {
		if cutShort(b) {
			return "", fmt.Errorf("%w (%d bytes)", ErrCutShort, len(b))
		}
		return "", fmt.Errorf("not a JSON object: %w", err)
	}
	return typ.Type, nil
}

func cutShort(b []byte) bool {
	if len(b) == 0 || b[0] != '{' {
		return false
	}
	var v json.RawMessage
	return errors.Is(json.NewDecoder(bytes.NewReader(b)).Decode(&v), io.ErrUnexpectedEOF)
}

// DecodeHeader decodes a header line, refusing fields the schema does not
// have: a misspelt field in a hand-edited trace is not silently ignored.
// It does not check the schema version, whose message is the reader's
// (Header.Schema against Schema).
func DecodeHeader(b []byte) (Header, error) {
	var h Header
	if err := decodeStrict(b, &h); err != nil {
		return h, fmt.Errorf("header: %w", err)
	}
	return h, nil
}

// DecodeRecord decodes a step line as DecodeHeader does a header, and
// checks it (Record.Check), so that the record it returns replays.
func DecodeRecord(b []byte) (Record, error) {
	var r Record
	if err := decodeStrict(b, &r); err != nil {
		return r, fmt.Errorf("step: %w", err)
	}
	return r, r.Check()
}

// DecodeRetract decodes a retract line as DecodeHeader does a header, and
// checks that it names a server step.
func DecodeRetract(b []byte) (Retract, error) {
	var r Retract
	if err := decodeStrict(b, &r); err != nil {
		return r, fmt.Errorf("retract: %w", err)
	}
	if r.Machine != MachineServer {
		return r, fmt.Errorf("retract: machine %q, want %q: only a server slot's step is retracted", r.Machine, MachineServer)
	}
	if err := CheckStep(r.Step); err != nil {
		return r, fmt.Errorf("retract: %w", err)
	}
	return r, nil
}

// DecodeEnd decodes an end line as DecodeHeader does a header.
func DecodeEnd(b []byte) (End, error) {
	var e End
	if err := decodeStrict(b, &e); err != nil {
		return e, fmt.Errorf("end: %w", err)
	}
	return e, nil
}

// decodeStrict decodes the first JSON value of b; LineType has already
// refused anything after it.
func decodeStrict(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	return d.Decode(v)
}
