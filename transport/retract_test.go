package transport

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verishake/verishake/protocol"
	"github.com/verishake/verishake/trace"
)

// lineTypes returns the type of each line of a trace file, in order.
func lineTypes(t *testing.T, file []byte) []string {
	t.Helper()
	var types []string
	for _, ln := range strings.Split(strings.TrimSuffix(string(file), "\n"), "\n") {
		typ, err := trace.LineType([]byte(ln))
		require.NoError(t, err, "%s", ln)
		types = append(types, typ)
	}
	return types
}

// TestServerRetractsStepsItCouldNotStore: a step is traced before its slot
// is stored, so a save that fails leaves a traced step that did not
// happen; the server then writes a retraction after it. A Confirm1, a
// command and a timer's expiry whose saves fail are each retracted, the
// same steps succeed when the store is back, and the trace validates.
func TestServerRetractsStepsItCouldNotStore(t *testing.T) {
	faulty := &faultyStore{Store: NewMemoryStore()}
	r := newCrashRigOn(t, protocol.Hardened(), faulty)
	c := protocol.NewClient(1)
	require.True(t, r.post(r.hello(&c)))
	confirm1 := r.deliver(&c)
	faulty.failSave.Store(true)
	_, err := r.postResult(confirm1)
	require.ErrorIs(t, err, ErrStoreFailed)
	require.Equal(t, []string{trace.LineHeader, trace.LineStep, trace.LineStep, trace.LineRetract}, lineTypes(t, r.server.Bytes()),
		"the Confirm1 is traced, then retracted")
	_, err = r.srv.Issue(t.Context(), 1, "lost")
	require.ErrorIs(t, err, protocol.ErrNotVerified, "the verification was not stored")
	faulty.failSave.Store(false)
	require.True(t, r.post(r.retransmit(&c)))
	require.NoError(t, r.deliver(&c).Err)
	require.Equal(t, protocol.ClientVerified, c.State)

	faulty.failSave.Store(true)
	_, err = r.srv.Issue(t.Context(), 1, "refused")
	require.ErrorIs(t, err, ErrStoreFailed)
	faulty.failSave.Store(false)
	cmd, err := r.srv.Issue(t.Context(), 1, "stored")
	require.NoError(t, err)
	require.Equal(t, uint32(1), cmd.Seq, "the refused command's number is not spent")
	require.NoError(t, r.deliver(&c).Err)

	// A pending session whose lifetime is over, expired by its timer.
	c2 := protocol.NewClient(2)
	require.True(t, r.post(r.hello(&c2)))
	r.clock.Advance(r.h.Profile().Lifetime)
	faulty.failSave.Store(true)
	r.srv.expireBatch([]protocol.RegID{2})
	require.Equal(t, 1, r.srv.HalfOpen(), "the failed expiry changed nothing")
	faulty.failSave.Store(false)
	r.srv.expireBatch([]protocol.RegID{2})
	require.Zero(t, r.srv.HalfOpen())

	types := lineTypes(t, r.server.Bytes())
	require.Equal(t, 3, strings.Count(strings.Join(types, " "), trace.LineRetract))
	require.Equal(t, trace.LineRetract, types[len(types)-2], "the failed expiry is retracted")
	rep, err := r.validate()
	require.NoError(t, err)
	require.True(t, rep.OK(), "%v", rep.Violations)
	require.Equal(t, 3, rep.Retracted)
	require.Zero(t, rep.Undone)
	require.Equal(t, 1, rep.Verified)
	d := rep.SequenceDiagram(1)
	require.Contains(t, d, "Note over S: deliver step retracted, as the store refused it\n")
	require.Contains(t, d, "Note over S: issue step retracted, as the store refused it\n")
}

// TestValidateRefusesRetractionsOfOtherSteps: a retraction must name the
// last step of its slot in its run, and a step with no effect since: a
// retraction of a step whose answer was delivered, of another step, or of
// a slot with no step is a step the model does not take.
func TestValidateRefusesRetractionsOfOtherSteps(t *testing.T) {
	r := newCrashRig(t, protocol.Hardened())
	c := protocol.NewClient(1)
	r.verify(&c)
	recs, at := serverSteps(t, r.server.Bytes())
	last := recs[len(recs)-1]
	for _, tc := range []struct {
		name    string
		retract trace.Retract
		reason  string
	}{
		{"the step's answer was delivered", trace.Retract{T: last.T, RegID: 1, Step: last.Step}, "had effects since"},
		{"another time", trace.Retract{T: last.T + 1, RegID: 1, Step: last.Step}, "not the slot's last step"},
		{"another kind of step", trace.Retract{T: last.T, RegID: 1, Step: trace.StepIssue}, "not the slot's last step"},
		{"a slot with no step", trace.Retract{T: last.T, RegID: 9, Step: last.Step}, "not the slot's last step"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.retract.Type, tc.retract.Machine = trace.LineRetract, trace.MachineServer
			b, err := json.Marshal(tc.retract)
			require.NoError(t, err)
			lines := strings.Split(r.server.String(), "\n")
			n := at[len(at)-1] // the retraction goes on the line after the last step
			lines = append(lines[:n], append([]string{string(b)}, lines[n:]...)...)
			_, err = ValidateTraces(r.inputs([]byte(strings.Join(lines, "\n"))))
			requireForbiddenAt(t, err, n+1, tc.reason)
		})
	}
}

// TestMultiTracerForwardsRetractions: a MultiTracer is a Retracter, and
// hands a retraction to each of its tracers that is one.
func TestMultiTracerForwardsRetractions(t *testing.T) {
	var buf bytes.Buffer
	tw, err := NewTraceWriter(&buf, protocol.Hardened())
	require.NoError(t, err)
	log := &claimLog{}
	mt := MultiTracer(log, nil, tw)
	st := Step{Role: protocol.RoleServer, RegID: 4, Time: protocol.Time(time.Second), Input: InputIssue, State: uint8(protocol.SessionVerified)}
	mt.Step(st)
	r, ok := mt.(Retracter)
	require.True(t, ok)
	r.Retract(st)
	require.Len(t, log.steps, 1)
	require.Equal(t, []string{trace.LineHeader, trace.LineStep, trace.LineRetract}, lineTypes(t, buf.Bytes()))
	require.Contains(t, buf.String(), `{"type":"retract","t":1000000000,"machine":"server","regid":4,"step":"issue"}`)
}

// refusingBatchStore is a MemoryStore whose batch writes fail while
// refuse is set.
type refusingBatchStore struct {
	*MemoryStore
	refuse atomic.Bool
}

func (s *refusingBatchStore) SaveSlots(sls []protocol.Slot) error {
	if s.refuse.Load() {
		return errSaveDiskFull
	}
	return s.MemoryStore.SaveSlots(sls)
}

// TestServerRetractsABatchOfExpiriesItCouldNotStore: the expiries of one
// batch are traced before their one write; when it fails, each is
// retracted, and the expiries that then succeed validate.
func TestServerRetractsABatchOfExpiriesItCouldNotStore(t *testing.T) {
	p := protocol.Hardened()
	clock := newFakeClock()
	store := &refusingBatchStore{MemoryStore: NewMemoryStore()}
	var file bytes.Buffer
	tw, err := NewTraceWriter(&file, p)
	require.NoError(t, err)
	srv, err := NewServer(ServerConfig{Handshake: p.MustCompile(), Store: store, Pusher: &capturePusher{}, Tracer: tw, Now: clock.Now})
	require.NoError(t, err)
	// The test fires the expiries itself: the timer goroutine must not.
	require.NoError(t, srv.Close())
	for id := range protocol.RegID(2) {
		_, err := srv.Handle(t.Context(), protocol.Message{Kind: protocol.Hello, RegID: id + 1, Tc: protocol.Token{byte(id + 1)}}, 0)
		require.NoError(t, err)
	}
	clock.Advance(p.Lifetime)
	store.refuse.Store(true)
	srv.expireBatch([]protocol.RegID{1, 2})
	require.Equal(t, 2, srv.HalfOpen())
	store.refuse.Store(false)
	srv.expireBatch([]protocol.RegID{1, 2})
	require.Zero(t, srv.HalfOpen())
	require.Equal(t, []string{trace.LineHeader, trace.LineStep, trace.LineStep, trace.LineStep, trace.LineStep,
		trace.LineRetract, trace.LineRetract, trace.LineStep, trace.LineStep}, lineTypes(t, file.Bytes()))
	rep, err := ValidateTraces([]TraceInput{{Name: "server.jsonl", R: bytes.NewReader(file.Bytes())}})
	require.NoError(t, err)
	require.True(t, rep.OK(), "%v", rep.Violations)
	require.Equal(t, 2, rep.Retracted)
}

// TestValidateRefusesMalformedRetractions: a retract line that names no
// server step, or has a field the schema does not, is a line that does not
// parse, named by its file and line.
func TestValidateRefusesMalformedRetractions(t *testing.T) {
	header, err := json.Marshal(trace.Header{Type: trace.LineHeader, Schema: trace.Schema, Source: trace.SourceTransport, Profile: protocol.Hardened()})
	require.NoError(t, err)
	for _, tc := range []struct{ line, reason string }{
		{`{"type":"retract","t":1,"machine":"client","regid":1,"step":"start"}`, `retract: machine "client", want "server"`},
		{`{"type":"retract","t":1,"machine":"server","regid":1,"step":"nap"}`, `retract: unknown step "nap"`},
		{`{"type":"retract","t":1,"machine":"server","regid":1,"step":"deliver","n":4}`, `retract: json: unknown field "n"`},
		{`{"type":"retract","t":"soon"}`, `retract: json: cannot unmarshal`},
	} {
		_, err := ValidateTraces([]TraceInput{{Name: "server.jsonl", R: strings.NewReader(string(header) + "\n" + tc.line + "\n")}})
		te, ok := err.(*TraceError)
		require.True(t, ok, "%s: want a *TraceError, got %v", tc.line, err)
		require.False(t, te.Forbidden)
		require.Equal(t, 2, te.Line)
		require.Contains(t, te.Reason, tc.reason)
	}
}
