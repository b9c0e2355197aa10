package transport

import (
	"bytes"
	"context"
	"encoding/json"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verishake/verishake/protocol"
	"github.com/verishake/verishake/trace"
)

// The tests of this file reproduce, without a process to kill, what a
// kill -9 of a traced server leaves between tracing a step and storing
// its slot, and check what validation makes of the trace after a restart.

// killPoint is where a killingStore's armed Save ends the server.
type killPoint int32

const (
	noKill         killPoint = iota
	killBeforeSave           // the write never happens: the slot is not stored
	killAfterSave            // the write is done: the slot is stored, and nothing after it runs
)

// killingStore wraps a Store. Armed, its next Save ends the calling
// goroutine (runtime.Goexit) before or after writing, as a kill -9 ends a
// process there: nothing of the step after that point runs (its answer is
// not pushed), and only deferred calls run, which release the slot's lock.
// With volatile set, a Save is held in memory, where the server reads it
// back, and is lost when the server dies (lose): a store that acknowledges
// writes it never makes durable, so that a server acts on steps it never
// stored.
type killingStore struct {
	Store
	kill     atomic.Int32
	mu       sync.Mutex
	volatile map[protocol.RegID]protocol.Slot
}

func (k *killingStore) Save(sl protocol.Slot) error {
	switch killPoint(k.kill.Swap(int32(noKill))) {
	case killBeforeSave:
		runtime.Goexit()
	case killAfterSave:
		if err := k.Store.Save(sl); err != nil {
			return err
		}
		runtime.Goexit()
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.volatile != nil {
		k.volatile[sl.RegID] = sl
		return nil
	}
	return k.Store.Save(sl)
}

func (k *killingStore) Load(id protocol.RegID) (protocol.Slot, bool, error) {
	k.mu.Lock()
	sl, held := k.volatile[id]
	k.mu.Unlock()
	if held {
		return sl, sl.State != protocol.SessionNone, nil
	}
	return k.Store.Load(id)
}

// holdWrites starts holding writes in memory; lose drops them.
func (k *killingStore) holdWrites() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.volatile = map[protocol.RegID]protocol.Slot{}
}

func (k *killingStore) lose() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.volatile = nil
}

// crashRig drives server slots and their clients by hand: the clients are
// model machines traced as devices trace them, and the server runs on one
// store and one trace file across its starts, each start appending its
// run (its header is the restart record), as serve --store --trace does.
type crashRig struct {
	t      *testing.T
	h      *protocol.Handshake
	clock  *fakeClock
	store  *killingStore
	pusher *capturePusher
	server bytes.Buffer // the server's trace file
	device bytes.Buffer // the devices' trace
	dev    *TraceWriter
	srv    *Server
}

func newCrashRig(t *testing.T, p protocol.Profile) *crashRig {
	return newCrashRigOn(t, p, NewMemoryStore())
}

// newCrashRigOn is newCrashRig on a store of the caller's.
func newCrashRigOn(t *testing.T, p protocol.Profile, store Store) *crashRig {
	r := &crashRig{t: t, h: p.MustCompile(), clock: newFakeClock(), store: &killingStore{Store: store}, pusher: &capturePusher{}}
	var err error
	r.dev, err = NewTraceWriter(&r.device, p)
	require.NoError(t, err)
	r.start()
	return r
}

// start starts a server process: a new trace run on the same file and the
// same store. Its timer goroutine is stopped at once, so that no expiry
// races the steps a test takes: a test that wants one calls expireBatch.
func (r *crashRig) start() {
	tw, err := NewTraceWriter(&r.server, r.h.Profile())
	require.NoError(r.t, err)
	srv, err := NewServer(ServerConfig{Handshake: r.h, Store: r.store, Pusher: r.pusher, Tracer: tw, Now: r.clock.Now})
	require.NoError(r.t, err)
	require.NoError(r.t, srv.Close())
	r.srv = srv
}

// kill ends the server process as kill -9 does: its trace run gets no end
// line, and writes its store held in memory are lost.
func (r *crashRig) kill() { r.store.lose() }

func (r *crashRig) now() protocol.Time { return protocol.Time(r.clock.Now().UnixNano()) }

// post hands what st sent to the server, as a request does, and reports
// whether the server lived through the step (false: killed in its save).
func (r *crashRig) post(st Step) bool {
	lived, err := r.postResult(st)
	require.NoError(r.t, err)
	return lived
}

// postResult is post, returning the server's error.
func (r *crashRig) postResult(st Step) (lived bool, err error) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, err = r.srv.Handle(context.Background(), st.Send, st.SendID)
		lived = true
	}()
	<-done
	return lived, err
}

// issue sends a command from the server, in a goroutine of its own for the
// same reason, and reports whether the server lived through it.
func (r *crashRig) issue(id protocol.RegID, payload string) bool {
	done := make(chan struct{})
	var lived bool
	var err error
	go func() {
		defer close(done)
		_, err = r.srv.Issue(context.Background(), id, payload)
		lived = true
	}()
	<-done
	require.NoError(r.t, err)
	return lived
}

// clientStep traces what client c did, as a Device does.
func (r *crashRig) clientStep(c *protocol.Client, in Input, recv Push, out protocol.Output) Step {
	st := Step{Role: protocol.RoleClient, RegID: c.RegID, Time: r.now(), Input: in, Recv: recv.Message, RecvID: recv.ID,
		Send: out.Send, Claims: out.ClaimList(), State: uint8(c.State), Err: out.Err}
	if out.Send.Kind != 0 {
		st.SendID = newMessageID()
	}
	r.dev.Step(st)
	return st
}

func (r *crashRig) hello(c *protocol.Client) Step {
	return r.clientStep(c, InputStart, Push{}, c.Start(r.h, r.now(), protocol.CryptoTokens{}))
}

// deliver hands c the server's last push.
func (r *crashRig) deliver(c *protocol.Client) Step {
	p := r.pusher.last()
	require.Equal(r.t, c.RegID, p.Message.RegID)
	return r.clientStep(c, InputRecv, p, c.Handle(r.h, r.now(), p.Message))
}

// retransmit fires c's timer when it is due.
func (r *crashRig) retransmit(c *protocol.Client) Step {
	r.clock.Advance(time.Duration(c.Deadline - r.now()))
	st := r.clientStep(c, InputTimeout, Push{}, c.Timeout(r.h, r.now(), protocol.CryptoTokens{}))
	require.NotZero(r.t, st.Send.Kind, "the timer re-sends")
	return st
}

// verify runs c's handshake to the end on the server as it is and
// returns the Confirm1 c sent, for a test to deliver a copy of it later.
func (r *crashRig) verify(c *protocol.Client) Step {
	require.True(r.t, r.post(r.hello(c)))
	confirm1 := r.deliver(c)
	require.True(r.t, r.post(confirm1))
	require.NoError(r.t, r.deliver(c).Err)
	require.Equal(r.t, protocol.ClientVerified, c.State)
	return confirm1
}

func (r *crashRig) inputs(server []byte) []TraceInput {
	return []TraceInput{{Name: "server.jsonl", R: bytes.NewReader(server)}, {Name: "devices.jsonl", R: bytes.NewReader(r.device.Bytes())}}
}

func (r *crashRig) validate() (*ValidationReport, error) {
	return ValidateTraces(r.inputs(r.server.Bytes()))
}

// serverSteps returns the server's step records in a trace file, in order,
// with the line each is on.
func serverSteps(t *testing.T, file []byte) (recs []trace.Record, lines []int) {
	t.Helper()
	for i, ln := range strings.Split(string(file), "\n") {
		var rec trace.Record
		if json.Unmarshal([]byte(ln), &rec) == nil && rec.Type == trace.LineStep && rec.Machine == trace.MachineServer {
			recs = append(recs, rec)
			lines = append(lines, i+1)
		}
	}
	return recs, lines
}

// editLastServerStep rewrites the last server step of a trace file.
func editLastServerStep(t *testing.T, file []byte, change func(*trace.Record)) ([]byte, int) {
	t.Helper()
	recs, at := serverSteps(t, file)
	require.NotEmpty(t, recs)
	rec := recs[len(recs)-1]
	change(&rec)
	b, err := json.Marshal(rec)
	require.NoError(t, err)
	lines := strings.Split(string(file), "\n")
	lines[at[len(at)-1]-1] = string(b)
	return []byte(strings.Join(lines, "\n")), at[len(at)-1]
}

// undoneWarnings are the report's warnings about steps undone at a restart.
func undoneWarnings(rep *ValidationReport) []TraceWarning {
	var out []TraceWarning
	for _, w := range rep.Warnings {
		if strings.Contains(w.Reason, "not stored") {
			out = append(out, w)
		}
	}
	return out
}

// TestTraceOfKillInTheStoreWindowValidates kills the server in the save of
// a Confirm1 it verified, before the write and after it, restarts it, and
// lets the device retransmit: the restarted server answers from what the
// store holds (the pending session, or the verified one), and the trace of
// both runs with the device's validates either way. Killed before the
// write, the trace holds the step the store does not (the trace is written
// ahead), and validation undoes it at the slot's first step after the
// restart; killed after it, nothing is undone.
func TestTraceOfKillInTheStoreWindowValidates(t *testing.T) {
	for _, tc := range []struct {
		name   string
		at     killPoint
		undone int
	}{
		{"killed before the write", killBeforeSave, 1},
		{"killed after the write", killAfterSave, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newCrashRig(t, protocol.Hardened())
			c := protocol.NewClient(1)
			require.True(t, r.post(r.hello(&c)))
			confirm1 := r.deliver(&c)
			r.store.kill.Store(int32(tc.at))
			require.False(t, r.post(confirm1), "the server dies in the Confirm1's save")
			require.Len(t, r.pusher.all(), 1, "the step that died pushed nothing")
			recs, _ := serverSteps(t, r.server.Bytes())
			require.Len(t, recs, 2, "the dead process's trace holds the Hello and the Confirm1 it took, stored or not")
			require.Equal(t, protocol.SessionVerified.String(), recs[1].State)
			r.kill()

			r.start()
			require.True(t, r.post(r.retransmit(&c)))
			require.NoError(t, r.deliver(&c).Err)
			require.Equal(t, protocol.ClientVerified, c.State)
			rep, err := r.validate()
			require.NoError(t, err)
			require.True(t, rep.OK(), "%v", rep.Violations)
			require.Equal(t, 3, rep.Runs, "two server runs and the devices' one")
			require.Equal(t, 1, rep.Verified)
			require.Len(t, undoneWarnings(rep), tc.undone, "%v", rep.Warnings)
			undone := "Note over S: this step was not stored before the restart, and is undone\n"
			require.Equal(t, tc.undone, strings.Count(rep.SequenceDiagram(1), undone))
		})
	}
}

// TestRestartUndoHidesNoViolation: undoing a slot's last step before a
// restart does not let a server that forgets or repeats a step pass. Once
// the answer of the step before the restart has reached the device, the
// step was stored (an answer is pushed only then), so it cannot be undone:
// a restarted server that verifies a session a second time, or forgets the
// re-handshake it stored, is reported. And once a slot has taken its first
// step after the restart, no step before it can be undone: a second
// Commit there is reported too.
func TestRestartUndoHidesNoViolation(t *testing.T) {
	t.Run("the step's answer was received", func(t *testing.T) {
		r := newCrashRig(t, protocol.Hardened())
		c := protocol.NewClient(1)
		confirm1 := r.verify(&c)
		r.kill()
		r.start()
		require.True(t, r.post(confirm1), "a copy of the Confirm1 reaches the restarted server")
		rep, err := r.validate()
		require.NoError(t, err, "as traced, the restarted server answers the copy from the verified session")
		require.True(t, rep.OK(), "%v", rep.Violations)
		require.Empty(t, undoneWarnings(rep))

		verified := verifyingClaims(t, r.server.Bytes())
		edited, line := editLastServerStep(t, r.server.Bytes(), func(rec *trace.Record) { rec.Claims = verified })
		_, err = ValidateTraces(r.inputs(edited))
		requireForbiddenAt(t, err, line, "claims")
	})
	t.Run("the Hello's Validation was received", func(t *testing.T) {
		r := newCrashRig(t, protocol.Hardened())
		c := protocol.NewClient(1)
		r.verify(&c)
		verified, _, err := r.srv.Slot(1)
		require.NoError(t, err)
		require.True(t, r.post(r.hello(&c)), "a re-handshake: the verified session is kept beside the pending one")
		confirm1 := r.deliver(&c)
		require.Equal(t, protocol.Confirm1, confirm1.Send.Kind)
		r.kill()
		r.start()
		require.True(t, r.post(confirm1))
		rep, err := r.validate()
		require.NoError(t, err)
		require.True(t, rep.OK(), "%v", rep.Violations)

		// A restarted server that lost the stored re-handshake would answer
		// the Confirm1 from the verified session alone: it refuses it.
		edited, line := editLastServerStep(t, r.server.Bytes(), func(rec *trace.Record) {
			lost := verified
			out := lost.Handle(r.h, rec.T, confirm1.Send, protocol.CryptoTokens{}, protocol.SlotEnv{Admit: true})
			require.Error(t, out.Err)
			rec.Sent, rec.Claims, rec.Err, rec.State = nil, nil, out.Err.Error(), lost.State.String()
		})
		_, err = ValidateTraces(r.inputs(edited))
		requireForbiddenAt(t, err, line, "rejects")
	})
	t.Run("the slot stepped since the restart", func(t *testing.T) {
		r := newCrashRig(t, protocol.Hardened())
		c := protocol.NewClient(1)
		require.True(t, r.post(r.hello(&c)))
		confirm1 := r.deliver(&c)
		r.store.kill.Store(int32(killBeforeSave))
		require.False(t, r.post(confirm1))
		r.kill()
		r.start()
		again := r.retransmit(&c)
		require.True(t, r.post(again), "the restarted server verifies the session: the step before is undone")
		require.True(t, r.post(again), "a copy of the Confirm1 is answered from the verified session")
		rep, err := r.validate()
		require.NoError(t, err)
		require.True(t, rep.OK(), "%v", rep.Violations)
		require.Len(t, undoneWarnings(rep), 1)

		verified := verifyingClaims(t, r.server.Bytes())
		edited, line := editLastServerStep(t, r.server.Bytes(), func(rec *trace.Record) { rec.Claims = verified })
		_, err = ValidateTraces(r.inputs(edited))
		requireForbiddenAt(t, err, line, "claims")
	})
}

// verifyingClaims returns the claims of the first server step of a trace
// file that verified a session (its claims end in a Commit).
func verifyingClaims(t *testing.T, file []byte) []trace.Claim {
	t.Helper()
	recs, _ := serverSteps(t, file)
	for _, rec := range recs {
		if n := len(rec.Claims); n > 0 && rec.Claims[n-1].Kind == "Commit" {
			return rec.Claims
		}
	}
	t.Fatal("no server step verified a session")
	return nil
}

// requireForbiddenAt checks that err is a *TraceError for a step the model
// forbids, at line of server.jsonl, whose reason mentions what.
func requireForbiddenAt(t *testing.T, err error, line int, what string) {
	t.Helper()
	te, ok := err.(*TraceError)
	require.True(t, ok, "want a *TraceError, got %v", err)
	require.True(t, te.Forbidden, "%v", te)
	require.Equal(t, "server.jsonl", te.File, "%v", te)
	require.Equal(t, line, te.Line, "%v", te)
	require.Contains(t, te.Reason, what)
}

// TestRestartUndoesOnlyTheLastStep: of the steps a slot took before a
// restart, only the last may be one the store does not hold. A server that
// dies issuing a command, before its save, numbers the command again after
// the restart, and its trace validates. When its store had also lost the
// write of the command before (acknowledged, never made durable; the
// command never reached the device), the restarted server numbers its
// command after the last one stored, two steps behind the trace: that
// agrees with no state a store one step behind the trace can hold, and
// the step is reported.
func TestRestartUndoesOnlyTheLastStep(t *testing.T) {
	for _, tc := range []struct {
		name      string
		forgotten int // commands issued before the kill's that the store lost
	}{
		{"the last command not stored", 0},
		{"the last two commands not stored", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newCrashRig(t, protocol.Hardened())
			c := protocol.NewClient(1)
			r.verify(&c)
			require.True(t, r.issue(1, "stored"))
			require.NoError(t, r.deliver(&c).Err)
			r.store.holdWrites()
			for range tc.forgotten {
				require.True(t, r.issue(1, "lost"), "the command is pushed, and lost on its way")
			}
			r.store.kill.Store(int32(killBeforeSave))
			require.False(t, r.issue(1, "killed"))
			r.kill()

			r.start()
			require.True(t, r.issue(1, "after"))
			ex := r.deliver(&c)
			require.NoError(t, ex.Err)
			require.Equal(t, uint32(2), r.pusher.last().Message.Seq, "numbered after the stored command")
			rep, err := r.validate()
			if tc.forgotten == 0 {
				require.NoError(t, err)
				require.True(t, rep.OK(), "%v", rep.Violations)
				require.Len(t, undoneWarnings(rep), 1)
				return
			}
			_, line := editLastServerStep(t, r.server.Bytes(), func(*trace.Record) {})
			requireForbiddenAt(t, err, line, "sends")
		})
	}
}

// TestRestartDoesNotCountAnUnstoredSessionAgainstTheCap: a Hello traced
// and not stored before a restart opened no session the restarted server
// counts, so another device's Hello may take the one place under the cap:
// BOUNDED is not violated. The first device's retransmission, a second
// later, finds the cap full and evicts that session (the server's eviction
// age is the profile's first retransmission timeout, a second) to open its
// own, which the trace shows from the state before its undone Hello.
func TestRestartDoesNotCountAnUnstoredSessionAgainstTheCap(t *testing.T) {
	p := protocol.Hardened()
	p.HalfOpenCap = 1
	r := newCrashRig(t, p)
	c1, c2 := protocol.NewClient(1), protocol.NewClient(2)
	hello := r.hello(&c1)
	r.store.kill.Store(int32(killBeforeSave))
	require.False(t, r.post(hello))
	recs, _ := serverSteps(t, r.server.Bytes())
	require.Len(t, recs, 1, "the Hello is traced though not stored")
	r.kill()

	r.start()
	require.True(t, r.post(r.hello(&c2)))
	require.Equal(t, 1, r.srv.HalfOpen())
	require.True(t, r.post(r.retransmit(&c1)))
	require.Equal(t, uint64(1), r.srv.Stats().Evicted)
	require.Equal(t, protocol.Validation, r.pusher.last().Message.Kind)
	rep, err := r.validate()
	require.NoError(t, err)
	require.True(t, rep.OK(), "%v", rep.Violations)
	require.Equal(t, 1, rep.Evictions)
	require.Len(t, undoneWarnings(rep), 1)
}

// TestRestartDoubtIsSettledByTheSlotsNextStep: the server dies issuing a
// command, and the slot's first step after the restart, answering a copy
// of the device's Confirm1, is the same whether the command was stored or
// not. The slot is in doubt until its next step, the next command, whose
// number tells which: the trace validates either way, undoing the command
// only when it was not stored. A command numbered as from neither state is
// reported.
func TestRestartDoubtIsSettledByTheSlotsNextStep(t *testing.T) {
	for _, tc := range []struct {
		name   string
		at     killPoint
		seq    uint32 // of the command issued after the restart
		undone int
	}{
		{"killed before the write", killBeforeSave, 2, 1},
		{"killed after the write", killAfterSave, 3, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newCrashRig(t, protocol.Hardened())
			c := protocol.NewClient(1)
			confirm1 := r.verify(&c)
			require.True(t, r.issue(1, "first"))
			require.NoError(t, r.deliver(&c).Err)
			r.store.kill.Store(int32(tc.at))
			require.False(t, r.issue(1, "killed"))
			r.kill()

			r.start()
			require.True(t, r.post(confirm1), "a copy of the Confirm1 is answered from the verified session")
			require.Equal(t, protocol.Confirm2, r.pusher.last().Message.Kind)
			require.True(t, r.issue(1, "after"))
			require.Equal(t, tc.seq, r.pusher.last().Message.Seq)
			require.NoError(t, r.deliver(&c).Err)
			rep, err := r.validate()
			require.NoError(t, err)
			require.True(t, rep.OK(), "%v", rep.Violations)
			require.Len(t, undoneWarnings(rep), tc.undone, "%v", rep.Warnings)

			edited, line := editLastServerStep(t, r.server.Bytes(), func(rec *trace.Record) { rec.Sent.Seq = 9 })
			_, err = ValidateTraces(r.inputs(edited))
			requireForbiddenAt(t, err, line, "sends")
		})
	}
}
