package transport

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/verishake/verishake/protocol"
	"github.com/verishake/verishake/trace"
)

// TraceWriter is a Tracer that writes steps as JSON Lines in package
// trace's schema (trace.Schema, source "transport"), so that
// `verishake validate` and the simulator's tools read a real run like a
// simulated one. A server and each process of devices write their own file;
// message ids tie a send in one file to its receives in another.
//
// Each record goes to the underlying writer whole, in one Write, before
// Step returns: a process that is killed loses no step it took. A Server
// traces a step before it stores the slot and pushes the answer (write
// ahead), so that after a kill the trace may be one step of a slot ahead
// of the store, which `verishake validate` accounts for, and never behind;
// a step the store then refuses is retracted (Retract). A record reaches
// the disk when the operating system writes it back, or at Flush and Close
// of a file opened with OpenTraceFile: the order holds against a process
// that is killed, not against the machine losing power, as a record is
// not synced before the store's write is.
//
// A failed write loses its record and nothing else: the writer goes on
// with the next step, so that a trace resumes when a full disk has room
// again. The failure and the resumption are logged, the first error is
// kept (Err) and the records lost are counted (Lost); their step numbers
// are skipped, so that `verishake validate` can tell where the gap is. A
// service must not stop because its trace disk is full.
type TraceWriter struct {
	mu   sync.Mutex
	w    io.Writer
	file *os.File // set by OpenTraceFile: synced and closed by Close
	log  *slog.Logger
	name string // the file, for errors and log lines; "" for NewTraceWriter's
	n    uint64
	// lastT is the latest step time, for the end line.
	lastT protocol.Time
	err   error
	lost  uint64
	// failing is set while writes fail; lostNow counts that streak's records.
	failing bool
	lostNow uint64
	// cut is set when a failed write may have left part of a line: the next
	// write ends it first, so that the next record starts a line of its own.
	cut    bool
	closed bool
}

// NewTraceWriter writes the header line for a run of profile p to w. Write
// failures are logged to slog.Default.
func NewTraceWriter(w io.Writer, p protocol.Profile) (*TraceWriter, error) {
	return newTraceWriter(w, p, nil, "", false)
}

func newTraceWriter(w io.Writer, p protocol.Profile, log *slog.Logger, name string, cut bool) (*TraceWriter, error) {
	if log == nil {
		log = slog.Default()
	}
	// The header is written here rather than by line: a trace that cannot
	// start is the caller's error to report, not a streak of lost records.
	b, err := json.Marshal(trace.Header{Type: trace.LineHeader, Schema: trace.Schema, Source: trace.SourceTransport, Profile: p})
	if err != nil {
		return nil, traceError(name, "header: %w", err)
	}
	if cut {
		b = append([]byte{'\n'}, b...)
	}
	if _, err := w.Write(append(b, '\n')); err != nil {
		return nil, traceError(name, "header: %w", err)
	}
	return &TraceWriter{w: w, log: log, name: name}, nil
}

// traceError prefixes an error with "trace" and the file it is about.
func traceError(name, format string, args ...any) error {
	prefix := "trace"
	if name != "" {
		prefix += " " + name
	}
	return fmt.Errorf("%s: %w", prefix, fmt.Errorf(format, args...))
}

// Step writes one step.
func (t *TraceWriter) Step(st Step) {
	rec := Record(st)
	t.mu.Lock()
	defer t.mu.Unlock()
	t.n++
	rec.N = t.n
	t.lastT = max(t.lastT, st.Time)
	if t.closed {
		// A step after Close (a timer firing during shutdown) is not traced:
		// the end line is written. Counted, so that it is not silent.
		t.lost++
		return
	}
	_ = t.line(rec) // failures are counted and logged by line
}

// Retract writes a retraction of st, the last step it traced for st's
// server slot: the session store refused the slot, so the step did not
// happen (see Retracter). `verishake validate` undoes that step.
func (t *TraceWriter) Retract(st Step) {
	rec := Record(st)
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		// The step after Close was not traced either; counted like it.
		t.lost++
		return
	}
	_ = t.line(trace.Retract{Type: trace.LineRetract, T: rec.T, Machine: rec.Machine, RegID: rec.RegID, Step: rec.Step})
}

// Record converts a step to its trace record, with N unset.
func Record(st Step) trace.Record {
	rec := trace.Record{
		Type:  trace.LineStep,
		T:     st.Time,
		Wall:  time.Unix(0, int64(st.Time)).UTC().Format(time.RFC3339Nano),
		RegID: uint64(st.RegID),
		Err:   errString(st.Err),
	}
	switch st.Role {
	case protocol.RoleClient:
		rec.Machine = trace.MachineClient
		rec.State = protocol.ClientState(st.State).String()
	case protocol.RoleServer:
		rec.Machine = trace.MachineServer
		rec.State = protocol.SessionState(st.State).String()
	}
	switch st.Input {
	case InputStart:
		rec.Step = trace.StepStart
	case InputRecv:
		rec.Step = trace.StepDeliver
		rec.Recv = trace.MsgOf(st.RecvID, "", false, st.Recv)
	case InputTimeout:
		rec.Step = trace.StepClientTimer
	case InputIssue:
		rec.Step = trace.StepIssue
	case InputExpire:
		rec.Step = trace.StepServerTimer
	case InputEvict:
		// The schema has no step of its own for it: an expiry, early,
		// whose reason (Err: ErrEvicted) says so; validate knows it.
		rec.Step = trace.StepServerTimer
	}
	if st.Send.Kind != 0 {
		rec.Sent = trace.MsgOf(st.SendID, st.Role.String(), false, st.Send)
	}
	for _, c := range st.Claims {
		rec.Claims = append(rec.Claims, trace.ClaimOf(c))
	}
	return rec
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// line writes v as one JSON line in one Write; t.mu is held. A failure is
// counted, logged when it starts a streak of failures, and returned.
func (t *TraceWriter) line(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return t.failed(0, traceError(t.name, "%w", err))
	}
	if t.cut {
		b = append([]byte{'\n'}, b...)
	}
	b = append(b, '\n')
	n, err := t.w.Write(b)
	if err != nil {
		return t.failed(n, traceError(t.name, "%w", err))
	}
	t.cut = false
	if t.failing {
		t.failing = false
		t.log.Warn("trace: writing again after lost records", "file", t.name, "lost", t.lostNow)
		t.lostNow = 0
	}
	return nil
}

// failed accounts for a record lost after n of its bytes were written.
func (t *TraceWriter) failed(n int, err error) error {
	t.lost++
	t.lostNow++
	t.cut = t.cut && n == 0 || n > 0
	if t.err == nil {
		t.err = err
	}
	if !t.failing {
		t.failing = true
		t.log.Error("trace: write failed; steps are not traced until writes succeed again", "file", t.name, "err", err)
	}
	return err
}

// Flush syncs a trace file opened with OpenTraceFile to stable storage;
// for any other writer it does nothing, as every record has already been
// written when Step returns.
func (t *TraceWriter) Flush() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.file == nil || t.closed {
		return nil
	}
	if err := t.file.Sync(); err != nil {
		return traceError(t.name, "sync: %w", err)
	}
	return nil
}

// Close writes the end line, and syncs and closes a file opened with
// OpenTraceFile (it does not close any other writer). It returns an error
// when the end line, the sync or the close fails; records lost before have
// been logged, and are counted by Lost. The end line lists no violations:
// a real run's properties are for `verishake validate` to check.
func (t *TraceWriter) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil
	}
	t.closed = true
	err := t.line(trace.End{Type: trace.LineEnd, Steps: t.n, T: t.lastT, Stopped: "closed", Violations: []trace.Violation{}})
	if t.file != nil {
		if serr := t.file.Sync(); serr != nil && err == nil {
			err = traceError(t.name, "sync: %w", serr)
		}
		if cerr := t.file.Close(); cerr != nil && err == nil {
			err = traceError(t.name, "close: %w", cerr)
		}
	}
	return err
}

// Err returns the first write error, if any.
func (t *TraceWriter) Err() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.err
}

// Lost returns the number of records that could not be written.
func (t *TraceWriter) Lost() uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.lost
}

// MultiTracer sends every step to each of ts, and every retraction to
// each of them that is a Retracter.
func MultiTracer(ts ...Tracer) Tracer { return multiTracer(ts) }

type multiTracer []Tracer

func (m multiTracer) Step(s Step) {
	for _, t := range m {
		if t != nil {
			t.Step(s)
		}
	}
}

func (m multiTracer) Retract(s Step) {
	for _, t := range m {
		if r, ok := t.(Retracter); ok {
			r.Retract(s)
		}
	}
}
