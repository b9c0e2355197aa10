package transport

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"reflect"

	"github.com/verishake/verishake/protocol"
	"github.com/verishake/verishake/trace"
)

// OpenTraceFile starts the trace of a run of profile p at the end of the
// file at path, creating it (mode 0600: a trace holds session tokens) if
// it does not exist. It never truncates: a run after a restart appends its
// own header line and steps to the runs before it, and `verishake
// validate` reads the file as that sequence of runs. It refuses a
// non-empty file that does not start with a trace header of this schema,
// or whose first run has another profile (the runs of one file are
// validated together). If the file ends inside a line (the last run was
// cut short mid-record), that line is ended first, so that the new header
// starts a line of its own. The file is locked (flock) until Close: a
// second process appending to it is refused.
//
// Failed writes are logged to log (slog.Default if nil); see TraceWriter.
func OpenTraceFile(path string, p protocol.Profile, log *slog.Logger) (*TraceWriter, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("trace: %w", err) // the error names path
	}
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		if err := lockTraceFile(f); err != nil {
			_ = f.Close()
			return nil, fmt.Errorf("trace %s: %w", path, err)
		}
	}
	cut, err := checkTraceFile(f, p)
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("trace %s: %w; not appending to it", path, err)
	}
	t, err := newTraceWriter(f, p, log, path, cut)
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	t.file = f
	return t, nil
}

// checkTraceFile checks that f is empty, not a regular file (a pipe, a
// terminal), or a trace of profile p, and reports whether it ends inside
// a line.
func checkTraceFile(f *os.File, p protocol.Profile) (cut bool, err error) {
	fi, err := f.Stat()
	if err != nil {
		return false, err
	}
	if fi.IsDir() {
		return false, errors.New("is a directory")
	}
	if !fi.Mode().IsRegular() || fi.Size() == 0 {
		return false, nil
	}
	first, err := bufio.NewReaderSize(io.NewSectionReader(f, 0, fi.Size()), 64<<10).ReadSlice('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return false, fmt.Errorf("not a trace: reading its first line: %w", err)
	}
	var hd trace.Header
	if err := json.Unmarshal(first, &hd); err != nil || hd.Type != trace.LineHeader {
		return false, errors.New("not a trace: the first line is not a trace header")
	}
	if hd.Schema != trace.Schema {
		return false, fmt.Errorf("trace schema %d, this program writes %d", hd.Schema, trace.Schema)
	}
	if !reflect.DeepEqual(hd.Profile, p) {
		if hd.Profile.Name == p.Name {
			return false, fmt.Errorf("its first run has profile %q with other settings than this run's", p.Name)
		}
		return false, fmt.Errorf("its first run has profile %q, this run %q", hd.Profile.Name, p.Name)
	}
	var last [1]byte
	if _, err := f.ReadAt(last[:], fi.Size()-1); err != nil {
		return false, err
	}
	return last[0] != '\n', nil
}
