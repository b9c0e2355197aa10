package transport

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/verishake/verishake/protocol"
	"github.com/verishake/verishake/sim"
)

// TraceWriter is a Tracer that writes steps as JSON Lines in the
// simulator's trace schema (sim.TraceSchema, source "transport"), so that
// `verishake validate` and the simulator's tools read a real run like a
// simulated one. A server and each process of devices write their own file;
// message ids tie a send in one file to its receives in another.
//
// Lines are buffered; Flush writes them out and Close ends the trace. The
// first write error is kept (see Err) and later steps are dropped: a
// service must not stop because its trace disk is full.
type TraceWriter struct {
	mu    sync.Mutex
	w     *bufio.Writer
	n     uint64
	lastT protocol.Time
	err   error
}

// NewTraceWriter writes the header line for a run of profile p to w.
func NewTraceWriter(w io.Writer, p protocol.Profile) (*TraceWriter, error) {
	t := &TraceWriter{w: bufio.NewWriterSize(w, 64<<10)}
	t.line(sim.Header{Type: sim.LineHeader, Schema: sim.TraceSchema, Source: sim.SourceTransport, Profile: p})
	if err := t.Flush(); err != nil {
		return nil, err
	}
	return t, nil
}

// Step writes one step.
func (t *TraceWriter) Step(st Step) {
	rec := Record(st)
	t.mu.Lock()
	defer t.mu.Unlock()
	t.n++
	rec.N = t.n
	t.lastT = max(t.lastT, st.Time)
	t.line(rec)
}

// Record converts a step to the simulator's trace record, with N unset.
func Record(st Step) sim.Record {
	rec := sim.Record{
		Type:  sim.LineStep,
		T:     st.Time,
		Wall:  time.Unix(0, int64(st.Time)).UTC().Format(time.RFC3339Nano),
		RegID: uint64(st.RegID),
		Err:   errString(st.Err),
	}
	switch st.Role {
	case protocol.RoleClient:
		rec.Machine = "client"
		rec.State = protocol.ClientState(st.State).String()
	case protocol.RoleServer:
		rec.Machine = "server"
		rec.State = protocol.SessionState(st.State).String()
	}
	switch st.Input {
	case InputStart:
		rec.Step = sim.StepStart.String()
	case InputRecv:
		rec.Step = sim.StepDeliver.String()
		rec.Recv = traceMsg(st.Recv, st.RecvID, "")
	case InputTimeout:
		rec.Step = sim.StepClientTimer.String()
	case InputIssue:
		rec.Step = sim.StepIssue.String()
	case InputExpire:
		rec.Step = sim.StepServerTimer.String()
	}
	if st.Send.Kind != 0 {
		rec.Sent = traceMsg(st.Send, st.SendID, st.Role.String())
	}
	for _, c := range st.Claims {
		rec.Claims = append(rec.Claims, sim.ClaimOf(c))
	}
	return rec
}

func traceMsg(m protocol.Message, id uint64, from string) *sim.Msg {
	t := &sim.Msg{ID: id, From: from, Kind: m.Kind.String(), RegID: uint64(m.RegID), Seq: m.Seq, Payload: m.Payload}
	if !m.Tc.IsZero() {
		t.Tc = m.Tc.String()
	}
	if !m.Ts.IsZero() {
		t.Ts = m.Ts.String()
	}
	return t
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// line writes v as one JSON line; t.mu is held (or t is not yet shared).
func (t *TraceWriter) line(v any) {
	if t.err != nil {
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.err = fmt.Errorf("trace: %w", err)
		return
	}
	b = append(b, '\n')
	if _, err := t.w.Write(b); err != nil {
		t.err = fmt.Errorf("trace: %w", err)
	}
}

// Flush writes buffered lines to the underlying writer.
func (t *TraceWriter) Flush() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.err == nil {
		if err := t.w.Flush(); err != nil {
			t.err = fmt.Errorf("trace: %w", err)
		}
	}
	return t.err
}

// Close writes the end line and flushes. It does not close the
// underlying writer. The end line lists no violations: a real run's
// properties are for `verishake validate` to check.
func (t *TraceWriter) Close() error {
	t.mu.Lock()
	t.line(sim.End{Type: sim.LineEnd, Steps: t.n, T: t.lastT, Stopped: "closed", Violations: []sim.Violation{}})
	t.mu.Unlock()
	return t.Flush()
}

// Err returns the first write error, if any.
func (t *TraceWriter) Err() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.err
}

// MultiTracer sends every step to each of ts.
func MultiTracer(ts ...Tracer) Tracer {
	return TracerFunc(func(s Step) {
		for _, t := range ts {
			if t != nil {
				t.Step(s)
			}
		}
	})
}
