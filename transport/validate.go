package transport

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"

	"github.com/verishake/verishake/protocol"
	"github.com/verishake/verishake/trace"
)

// TraceInput is one trace file to validate.
type TraceInput struct {
	Name string // for messages: the file name
	R    io.Reader
}

// TraceError locates the first line of a trace that could not be read or
// that the model forbids.
type TraceError struct {
	File string `json:"file"`
	Line int    `json:"line"`
	// Forbidden is true when the line parses but the step it records is not
	// one the model's machine takes (a tampered trace, or a service that
	// does not run the profile it says); false when the line itself is bad.
	Forbidden bool   `json:"forbidden"`
	Reason    string `json:"reason"`
}

// Error reads "file:line: reason", the form editors jump to.
func (e *TraceError) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Reason) }

// Injection is a receive that no logged send accounts for: a message from
// outside the logged machines (an attacker, a client that kept no trace),
// or one whose id names a logged send with other content.
type Injection struct {
	File   string `json:"file"`
	Line   int    `json:"line"`
	ID     uint64 `json:"id"`
	Kind   string `json:"kind"`
	Reason string `json:"reason"`
}

// TraceViolation is a property broken on the claims of a valid trace.
type TraceViolation struct {
	File      string
	Line      int
	Violation protocol.Violation
}

// String locates the violation and says what it broke.
func (v TraceViolation) String() string {
	return fmt.Sprintf("%s:%d: %v", v.File, v.Line, v.Violation.Error())
}

// TraceWarning locates a line of a trace that was read past.
type TraceWarning struct {
	File   string `json:"file"`
	Line   int    `json:"line"`
	Reason string `json:"reason"`
}

// String reads "file:line: reason".
func (w TraceWarning) String() string { return fmt.Sprintf("%s:%d: %s", w.File, w.Line, w.Reason) }

// ValidationReport is what ValidateTraces found in a trace that the model
// allows step by step.
type ValidationReport struct {
	Profile protocol.Profile
	// Files and Steps count the inputs and the machine steps replayed;
	// NetworkSteps counts simulator network steps (drop, dup, ...) passed over.
	Files, Steps, NetworkSteps int
	// Runs counts the runs in the files: a file holds one per header (a
	// service restarted on the same trace file appends a run).
	Runs int
	// Warnings are what was read past: records cut short, step numbers
	// missing from a run, machines that started afresh after a restart.
	// They do not make the report fail, but a step that the model then
	// forbids may be one the trace lost the cause of.
	Warnings []TraceWarning
	// Clients and Slots count the client machines and server slots seen.
	Clients, Slots int
	// Verified counts clients that ended in the Verified state.
	Verified int
	// Evictions counts pending sessions the server ended before their
	// lifetime at a full half-open cap (ServerConfig.EvictAfter): the one
	// step it takes that the model's machine does not, accepted because it
	// only ends a handshake and claims nothing.
	Evictions int
	// Receives counts delivered messages; Matched those paired with a send.
	Receives, Matched int
	Injections        []Injection
	// Undone counts server steps traced before a restart and not stored
	// (a kill between the trace and the store): the slot's first step after
	// the restart (or, when that one replays either way, a later one)
	// replays only from the state before that step, which is then undone,
	// claims and all. Retracted counts the steps the server
	// took back itself (a retract line: the store refused the slot). Each
	// undone step is also a warning.
	Undone, Retracted int
	// Claims counts claims checked; Violations are the properties broken
	// (AUTH-C, AUTH-S and CMD over the claims of clients present in the
	// trace; BOUNDED over the server's slots).
	Claims     int
	Violations []TraceViolation

	order []*traceLine // the merged, causally ordered steps
}

// OK reports whether no property is violated.
func (r *ValidationReport) OK() bool { return len(r.Violations) == 0 }

type traceLine struct {
	file int
	line int
	run  int // the file's run, from 1: one per header
	rec  trace.Record
	// retract marks a retract line: rec holds its T, Machine, RegID and
	// Step, the step it takes back.
	retract bool
	// undone marks a server step undone after a restart: it was traced
	// and not stored.
	undone bool
}

// runKey names one run of one file.
type runKey struct{ file, run int }

// machineKey names a client or a server slot.
type machineKey struct {
	server bool
	id     protocol.RegID
}

type warnKey struct {
	run    runKey
	server bool
}

// tokenScript is the token source of a replay: it hands the machine the
// token the trace says the step drew, so that a fresh token is reproduced
// rather than guessed; a second draw, or a draw the trace does not show,
// gets a symbolic token no real run makes, and the step then mismatches.
type tokenScript struct {
	tok  protocol.Token
	used bool
}

func (s *tokenScript) NewToken() protocol.Token {
	if s.used || s.tok.IsZero() {
		return protocol.Symbolic(^uint64(0))
	}
	s.used = true
	return s.tok
}

// ValidateTraces reads trace files (package trace's JSON Lines schema, as
// TraceWriter writes them), merges them into one causal order (every
// receive after its send, otherwise by time), and replays every machine step
// through the model's machines of the header's profile: each step must
// produce exactly the recorded messages, claims, verdict and state. It then
// checks AUTH-C, AUTH-S and CMD on the claims and BOUNDED on the slots.
//
// A file may hold several runs, each from its header on (a service
// restarted on the same trace file); the runs of a file, like the files of
// successive runs, are one sequence, and a machine keeps its state across
// them, as a server slot does on a durable store. A server traces a step
// before it stores the slot, so a server killed between the two has traced
// one step of the slot that its store does not hold: a slot's first step
// after a restart that replays only from the state before the slot's last
// step before the restart undoes that step (its state and its claims),
// with a warning, unless the step's answer was received or its claims were
// matched since. Only that one step can be undone, and only there (when
// the first step replays either way, the slot's steps replay on both
// courses until one of them fails, which settles it). A retract line (the
// store refused the step) undoes the slot's last step of its run likewise. A machine whose first step after a restart replays
// only from a new machine (a memory store, a restarted device) starts
// afresh there, with a warning. A record cut short and a gap in a run's
// step numbers are read past with a warning.
//
// A line that does not parse, or a set of files that disagree on the
// profile, gives a *TraceError with Forbidden false; the first step the
// model forbids gives one with Forbidden true. Property violations are in
// the report.
func ValidateTraces(inputs []TraceInput) (*ValidationReport, error) {
	if len(inputs) == 0 {
		return nil, errors.New("validate: no trace files")
	}
	var files [][]*traceLine
	var names []string
	var profile protocol.Profile
	var runs int
	var warns []TraceWarning
	for i, in := range inputs {
		lines, p, r, w, err := readTrace(i, in)
		if err != nil {
			return nil, err
		}
		runs += r
		warns = append(warns, w...)
		// DeepEqual: a Profile holds Hooks, and is not comparable; one read
		// from a trace never has any.
		if i > 0 && !reflect.DeepEqual(p, profile) {
			return nil, &TraceError{File: in.Name, Line: 1, Reason: fmt.Sprintf("profile %q differs from %s's %q", p.Name, inputs[0].Name, profile.Name)}
		}
		profile = p
		files = append(files, lines)
		names = append(names, in.Name)
	}
	h, err := profile.Compile()
	if err != nil {
		return nil, &TraceError{File: names[0], Line: 1, Reason: fmt.Sprintf("header profile: %v", err)}
	}
	v := &validator{h: h, names: names, report: &ValidationReport{Profile: profile, Files: len(inputs), Runs: runs, Warnings: warns},
		sends: map[uint64]*traceLine{}, emitted: map[uint64]bool{}, received: map[uint64]bool{},
		clients: map[protocol.RegID]*protocol.Client{}, slots: map[protocol.RegID]*protocol.Slot{},
		lastStep: map[protocol.RegID]*slotStep{}, doubt: map[protocol.RegID]*unstored{}, counted: map[protocol.RegID]bool{},
		lastRun: map[machineKey]runKey{}, warnedAfresh: map[warnKey]bool{}}
	if err := v.indexSends(files); err != nil {
		return nil, err
	}
	order, err := v.merge(files)
	if err != nil {
		return nil, err
	}
	v.report.order = order
	for _, l := range order {
		if err := v.replay(l); err != nil {
			if te, ok := errors.AsType[*TraceError](err); ok && len(warns) > 0 {
				te.Reason += fmt.Sprintf(" (the trace is incomplete: %d warning(s), the first %s)", len(warns), warns[0])
			}
			return nil, err
		}
	}
	for _, c := range v.clients {
		if c.State == protocol.ClientVerified {
			v.report.Verified++
		}
	}
	v.report.Clients, v.report.Slots = len(v.clients), len(v.slots)
	return v.report, nil
}

// readTrace parses one file: one or more runs, each a header, step and
// retract lines and at most one end line. A second header starts the run
// of a restart (OpenTraceFile appends it), which must have the first one's
// profile. A line cut short (a JSON object that ends before it closes: a
// crash or a failed write in the middle of a record) is skipped with a
// warning, and so is a gap in a run's step numbers (records a failed write
// lost).
//
// Package trace parses each line; the runs are read here rather than by
// trace.Reader so that validation keeps the rules and messages it had when
// the schema was the simulator's (an end line is taken without decoding it).
func readTrace(file int, in TraceInput) (lines []*traceLine, profile protocol.Profile, runs int, warns []TraceWarning, err error) {
	sc := bufio.NewScanner(in.R)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	n := 0
	ended := false
	var lastN uint64
	bad := func(format string, args ...any) error {
		return &TraceError{File: in.Name, Line: n, Reason: fmt.Sprintf(format, args...)}
	}
	warn := func(format string, args ...any) {
		warns = append(warns, TraceWarning{File: in.Name, Line: n, Reason: fmt.Sprintf(format, args...)})
	}
	for sc.Scan() {
		n++
		b := sc.Bytes()
		if len(strings.TrimSpace(string(b))) == 0 {
			continue
		}
		typ, err := trace.LineType(b)
		if errors.Is(err, trace.ErrCutShort) {
			warn("%v: skipped", err)
			continue
		}
		if err != nil {
			return nil, profile, runs, warns, bad("%v", err)
		}
		if runs == 0 && typ != trace.LineHeader {
			return nil, profile, runs, warns, bad("first line is a %q, want the header", typ)
		}
		if ended && typ != trace.LineHeader {
			return nil, profile, runs, warns, bad("a %q line after the end line", typ)
		}
		switch typ {
		case trace.LineHeader:
			hd, err := trace.DecodeHeader(b)
			if err != nil {
				return nil, profile, runs, warns, bad("%v", err)
			}
			if hd.Schema != trace.Schema {
				return nil, profile, runs, warns, bad("trace schema %d, this validator reads %d", hd.Schema, trace.Schema)
			}
			if runs > 0 && !reflect.DeepEqual(hd.Profile, profile) {
				return nil, profile, runs, warns, bad("a run of profile %q after runs of %q", hd.Profile.Name, profile.Name)
			}
			profile = hd.Profile
			runs++
			ended, lastN = false, 0
		case trace.LineStep:
			rec, err := trace.DecodeRecord(b)
			if err != nil {
				return nil, profile, runs, warns, bad("%v", err)
			}
			l := &traceLine{file: file, line: n, run: runs, rec: rec}
			if lastN > 0 && l.rec.N > lastN+1 {
				warn("steps %d to %d of this run are missing (lost to failed writes?): the steps after them may not replay", lastN+1, l.rec.N-1)
			}
			lastN = l.rec.N
			lines = append(lines, l)
		case trace.LineRetract:
			rt, err := trace.DecodeRetract(b)
			if err != nil {
				return nil, profile, runs, warns, bad("%v", err)
			}
			lines = append(lines, &traceLine{file: file, line: n, run: runs, retract: true,
				rec: trace.Record{Type: trace.LineRetract, T: rt.T, Machine: rt.Machine, RegID: rt.RegID, Step: rt.Step}})
		case trace.LineEnd:
			ended = true
		default:
			return nil, profile, runs, warns, bad("unknown line type %q", typ)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, profile, runs, warns, &TraceError{File: in.Name, Line: n + 1, Reason: fmt.Sprintf("reading: %v", err)}
	}
	if runs == 0 {
		return nil, profile, runs, warns, &TraceError{File: in.Name, Line: 1, Reason: "empty trace: no header"}
	}
	return lines, profile, runs, warns, nil
}

type validator struct {
	h        *protocol.Handshake
	names    []string
	report   *ValidationReport
	sends    map[uint64]*traceLine // message id → the machine step that sent it
	emitted  map[uint64]bool       // sends already placed in the merged order
	received map[uint64]bool       // message ids some step of the trace received
	honest   map[protocol.RegID]bool
	clients  map[protocol.RegID]*protocol.Client
	slots    map[protocol.RegID]*protocol.Slot
	ledger   protocol.Ledger // AUTH-C, AUTH-S, CMD over the honest RegIDs' claims
	// lastStep is each server slot's last step, while it may still be
	// undone: at the slot's first step after a restart, or by a retract
	// line of its run.
	lastStep map[protocol.RegID]*slotStep
	// doubt holds, for a slot whose first step after a restart replayed
	// both from the state its last step before reached and from the state
	// before that step, the slot as it would be had that step not been
	// stored, until one of the two fails to replay a step of the slot.
	doubt map[protocol.RegID]*unstored
	// half counts the slots counted half-open, counted says which: a slot
	// whose last step before a restart may be undone is counted only if
	// it is half-open whether or not that step was stored.
	half    int
	counted map[protocol.RegID]bool
	// serverRun is the run of the last server step, so that the first
	// server step of the next run (a restart) is known; serverSeen says
	// there was one.
	serverRun  runKey
	serverSeen bool
	// lastRun is the run of each machine's last step, so that its first
	// step after a restart is known; warnedAfresh the runs warned about.
	lastRun      map[machineKey]runKey
	warnedAfresh map[warnKey]bool
}

func (v *validator) at(l *traceLine, forbidden bool, format string, args ...any) error {
	return &TraceError{File: v.names[l.file], Line: l.line, Forbidden: forbidden, Reason: fmt.Sprintf(format, args...)}
}

// slotStep is a server slot's last step, as much of it as undoing it needs.
type slotStep struct {
	line   *traceLine
	before protocol.Slot // the slot before the step
	// claims are the step's claims that went into the ledger (an honest
	// RegID's, and no violation), in order.
	claims  []protocol.Claim
	evicted bool
}

// unstored is the other course of a slot in doubt: its last step before a
// restart, undo, not stored, and the slot as it is on that course (slot)
// and as it was before its latest step (before, for a retraction).
type unstored struct {
	undo         *slotStep
	slot, before protocol.Slot
}

// origin is the state a step is replayed from.
type origin int8

const (
	fromLast   origin = iota // the machine's state after its last step
	fromBefore               // a server slot's state before its last step, which is undone
	fromNew                  // a new machine: its state was not kept across a restart
	fromDoubt                // a slot in doubt, on the course where its last step before the restart was not stored
)

// indexSends finds every machine send by id, and the honest clients: the
// RegIDs with client steps in the trace. Claims of other RegIDs (an
// attacker's own sessions, devices that kept no trace) cannot be checked
// for agreement and are exempt, as docs/properties.md say.
func (v *validator) indexSends(files [][]*traceLine) error {
	v.honest = map[protocol.RegID]bool{}
	for _, lines := range files {
		for _, l := range lines {
			if l.rec.Machine == "client" {
				v.honest[protocol.RegID(l.rec.RegID)] = true
			}
			if l.rec.Machine != "" && l.rec.Recv != nil && l.rec.Recv.ID != 0 {
				v.received[l.rec.Recv.ID] = true
			}
			if l.rec.Machine == "" || l.rec.Sent == nil || l.rec.Sent.ID == 0 {
				continue
			}
			if prev, dup := v.sends[l.rec.Sent.ID]; dup {
				return v.at(l, false, "message id %d sent again (first at %s:%d)", l.rec.Sent.ID, v.names[prev.file], prev.line)
			}
			v.sends[l.rec.Sent.ID] = l
		}
	}
	return nil
}

// merge interleaves the files into one order in which every receive comes
// after its send: a k-way merge that takes, among the files whose next
// step is ready, the earliest by time. Each file keeps its own order (it
// was written in the order its machines acted). When no file can move, a
// receive precedes its send: the trace is not a run.
func (v *validator) merge(files [][]*traceLine) ([]*traceLine, error) {
	heads := make([]int, len(files))
	var order []*traceLine
	for {
		best := -1
		blocked := -1
		for f, lines := range files {
			if heads[f] == len(lines) {
				continue
			}
			l := lines[heads[f]]
			if !v.ready(l) {
				if blocked < 0 {
					blocked = f
				}
				continue
			}
			if best < 0 || l.rec.T < files[best][heads[best]].rec.T {
				best = f
			}
		}
		if best < 0 {
			if blocked < 0 {
				return order, nil
			}
			l := files[blocked][heads[blocked]]
			s := v.sends[l.rec.Recv.ID]
			return nil, v.at(l, true, "receives message %d before it is sent (at %s:%d)", l.rec.Recv.ID, v.names[s.file], s.line)
		}
		l := files[best][heads[best]]
		heads[best]++
		order = append(order, l)
		if l.rec.Sent != nil && l.rec.Machine != "" {
			v.emitted[l.rec.Sent.ID] = true
		}
	}
}

func (v *validator) ready(l *traceLine) bool {
	if l.rec.Recv == nil || l.rec.Recv.ID == 0 {
		return true
	}
	s, sent := v.sends[l.rec.Recv.ID]
	return !sent || s == l || v.emitted[l.rec.Recv.ID]
}

// replay runs one step through the model and compares.
func (v *validator) replay(l *traceLine) error {
	rec := &l.rec
	if l.retract {
		return v.retract(l)
	}
	if rec.Machine == "" {
		// A network step of a simulated run (drop, dup, corrupt, inject),
		// or a delivery no machine took: nothing for a machine to check.
		v.report.NetworkSteps++
		return nil
	}
	if rec.Machine != "client" && rec.Machine != "server" {
		return v.at(l, false, "unknown machine %q", rec.Machine)
	}
	v.report.Steps++
	id := protocol.RegID(rec.RegID)
	var recv protocol.Message
	if rec.Recv != nil {
		recv, _ = rec.Recv.Message()
		v.report.Receives++
		v.matchSend(l, recv)
	}
	var sent protocol.Message
	if rec.Sent != nil {
		sent, _ = rec.Sent.Message()
	}
	here := runKey{l.file, l.run}
	key := machineKey{server: rec.Machine == "server", id: id}
	if key.server {
		if v.serverSeen && v.serverRun != here {
			v.serverRestarted()
		}
		v.serverRun, v.serverSeen = here, true
	}
	last, seen := v.lastRun[key]
	v.lastRun[key] = here
	restarted := seen && last != here
	out, commit, _, err := v.apply(l, recv, sent, fromLast)
	switch {
	case key.server && restarted:
		// The slot's first step since a restart, from the state before
		// its last step: that step was traced and not stored (the server
		// writes ahead of its store, and was killed between the two). It
		// is undone, and only it: a server stores every step before it
		// traces the next. If the step replays from both states, the
		// slot is in doubt until one of them fails.
		ls := v.lastStep[id]
		ledger, ok := v.undoable(ls)
		if !ok {
			break
		}
		uout, ucommit, unext, uerr := v.apply(l, recv, sent, fromBefore)
		switch {
		case uerr != nil:
		case err == nil:
			kept := commit
			commit = func() { kept(); v.doubt[id] = &unstored{undo: ls, slot: unext, before: ls.before} }
		default:
			out, err = uout, nil
			commit = func() { v.undo(l, ls, ledger); ucommit() }
		}
	case key.server && v.doubt[id] != nil:
		d := v.doubt[id]
		dout, dcommit, dnext, derr := v.apply(l, recv, sent, fromDoubt)
		switch {
		case derr != nil && err == nil:
			delete(v.doubt, id) // the step was stored after all
		case derr != nil:
		case err == nil:
			kept := commit
			commit = func() { kept(); d.before, d.slot = d.slot, dnext }
		default:
			if ledger, ok := v.undoable(d.undo); ok {
				out, err = dout, nil
				commit = func() { delete(v.doubt, id); v.undo(l, d.undo, ledger); dcommit() }
			}
		}
	}
	if err != nil && restarted {
		// The machine's first step since a restart: a server on a memory
		// store, or a device process, starts with nothing. If the step
		// replays from a new machine, the state was lost, not forged.
		if fout, fcommit, _, ferr := v.apply(l, recv, sent, fromNew); ferr == nil {
			out, commit, err = fout, fcommit, nil
			v.warnAfresh(l, key, last)
		}
	}
	if err != nil {
		return err
	}
	commit()
	var kept []protocol.Claim
	for _, c := range out.ClaimList() {
		v.report.Claims++
		if !v.honest[c.RegID] {
			continue
		}
		if viol, bad := v.ledger.Observe(c); bad {
			v.report.Violations = append(v.report.Violations, TraceViolation{File: v.names[l.file], Line: l.line, Violation: viol})
		} else {
			kept = append(kept, c)
		}
	}
	if key.server {
		v.lastStep[id].claims = kept
	}
	return nil
}

// serverRestarted is told that the server's steps go on in a new run: a
// restart. Every slot's last step may then be one that was traced and not
// stored, so a slot is counted half-open, for BOUNDED, only if it is
// half-open whether or not that step was stored, until its first step
// after the restart tells which. A doubt left from the restart before is
// settled for the step having been stored: a slot is in doubt about one
// step at most.
func (v *validator) serverRestarted() {
	clear(v.doubt)
	for id, ls := range v.lastStep {
		if v.counted[id] && !ls.before.HalfOpen() {
			v.counted[id] = false
			v.half--
		}
	}
}

// undoable reports whether a slot's step ls may be undone, and the ledger
// without its claims: the step sent nothing that any step of the trace
// received (a server pushes an answer only once the step is stored), and
// its claims are all still as it left them.
func (v *validator) undoable(ls *slotStep) (protocol.Ledger, bool) {
	if ls == nil {
		return nil, false
	}
	if s := ls.line.rec.Sent; s != nil && v.received[s.ID] {
		return nil, false
	}
	ledger := slices.Clone(v.ledger)
	for _, c := range slices.Backward(ls.claims) {
		if !unobserve(&ledger, c) {
			return nil, false
		}
	}
	return ledger, true
}

// unobserve takes back what Observe did with c, a server's claim, and
// reports whether it could: a Running or Issued must still be unmatched,
// and a Commit gives back the client's Running it consumed.
func unobserve(l *protocol.Ledger, c protocol.Claim) bool {
	if c.Role != protocol.RoleServer {
		return false // a server step makes no client claim
	}
	switch c.Kind {
	case protocol.Running:
		return deleteClaim(l, protocol.Claim{Kind: protocol.Running, Role: protocol.RoleServer, RegID: c.RegID, Tc: c.Tc, Ts: c.Ts})
	case protocol.Issued:
		return deleteClaim(l, protocol.Claim{Kind: protocol.Issued, Role: protocol.RoleServer, RegID: c.RegID, Ts: c.Ts, Seq: c.Seq})
	case protocol.Commit:
		_, bad := l.Observe(protocol.Claim{Kind: protocol.Running, Role: protocol.RoleClient, RegID: c.RegID, Tc: c.Tc, Ts: c.Ts})
		return !bad
	}
	return false
}

// deleteClaim deletes one unmatched claim equal to c from the ledger, if
// there is one; deleting from the sorted multiset keeps it sorted. Tokens
// are compared in constant time, as everywhere.
func deleteClaim(l *protocol.Ledger, c protocol.Claim) bool {
	i := slices.IndexFunc(*l, func(e protocol.Claim) bool {
		return e.Kind == c.Kind && e.Role == c.Role && e.RegID == c.RegID && e.Seq == c.Seq && e.Tc.Equal(c.Tc) && e.Ts.Equal(c.Ts)
	})
	if i < 0 {
		return false
	}
	*l = slices.Delete(*l, i, i+1)
	return true
}

// undo takes back the last step ls of a slot, whose first step after a
// restart is l, and keeps ledger, the ledger without its claims. The
// caller then commits l from the state before ls.
func (v *validator) undo(l *traceLine, ls *slotStep, ledger protocol.Ledger) {
	v.ledger = ledger
	if ls.evicted {
		v.report.Evictions--
	}
	ls.line.undone = true
	v.report.Undone++
	v.report.Warnings = append(v.report.Warnings, TraceWarning{File: v.names[l.file], Line: l.line,
		Reason: fmt.Sprintf("server slot %d replays from the state before its step at %s:%d, which was traced before the restart and not stored (the server was stopped between the two): that step is undone",
			ls.line.rec.RegID, v.names[ls.line.file], ls.line.line)})
}

// retract replays a retract line: the server's store refused the slot's
// last step, which is undone. It must name that step, in the same run,
// and the step must have had no effect since.
func (v *validator) retract(l *traceLine) error {
	id := protocol.RegID(l.rec.RegID)
	ls := v.lastStep[id]
	if ls == nil || ls.line.file != l.file || ls.line.run != l.run || ls.line.rec.T != l.rec.T || ls.line.rec.Step != l.rec.Step {
		return v.at(l, true, "retracts a %s step of server slot %d at t=%d that is not the slot's last step in this run", l.rec.Step, id, l.rec.T)
	}
	ledger, ok := v.undoable(ls)
	if !ok {
		return v.at(l, true, "retracts the step of server slot %d at %s:%d, which had effects since: its answer was received, or its claims were matched",
			id, v.names[ls.line.file], ls.line.line)
	}
	v.ledger = ledger
	if ls.evicted {
		v.report.Evictions--
	}
	v.report.Retracted++
	before := ls.before
	v.slots[id] = &before
	delete(v.lastStep, id)
	if d := v.doubt[id]; d != nil {
		d.slot = d.before
	}
	v.count(l, id, before.HalfOpen())
	return nil
}

// count records whether slot id is half-open after step l and checks
// BOUNDED on the count.
func (v *validator) count(l *traceLine, id protocol.RegID, half bool) {
	if half != v.counted[id] {
		v.counted[id] = half
		if half {
			v.half++
		} else {
			v.half--
		}
	}
	if limit := v.h.Profile().HalfOpenCap; limit > 0 && v.half > limit {
		v.report.Violations = append(v.report.Violations, TraceViolation{File: v.names[l.file], Line: l.line,
			Violation: protocol.Violation{Property: protocol.Bounded, Reason: fmt.Sprintf("%d half-open sessions, cap %d", v.half, limit)}})
	}
}

// apply replays step l on a copy of its machine, in the state from says,
// and compares the outcome with the trace; commit keeps the new state, and
// next is it for a server slot.
func (v *validator) apply(l *traceLine, recv, sent protocol.Message, from origin) (out protocol.Output, commit func(), next protocol.Slot, err error) {
	rec := &l.rec
	id := protocol.RegID(rec.RegID)
	// The token a fresh-token step drew is the one its message carries.
	script := &tokenScript{}
	switch sent.Kind {
	case protocol.Hello:
		script.tok = sent.Tc
	case protocol.Validation:
		script.tok = sent.Ts
	}
	var state string
	if rec.Machine == "client" {
		c := protocol.NewClient(id)
		if old := v.clients[id]; old != nil && from == fromLast {
			c = *old
		}
		switch rec.Step {
		case trace.StepStart:
			out = c.Start(v.h, rec.T, script)
		case trace.StepDeliver:
			if rec.Recv == nil {
				return out, nil, next, v.at(l, false, "deliver step without a received message")
			}
			out = c.Handle(v.h, rec.T, recv)
		case trace.StepClientTimer:
			out = c.Timeout(v.h, rec.T, script)
		default:
			return out, nil, next, v.at(l, true, "a client takes no %q step", rec.Step)
		}
		state = c.State.String()
		commit = func() { v.clients[id] = &c }
	} else {
		sl := protocol.Slot{RegID: id}
		switch from {
		case fromLast:
			if old := v.slots[id]; old != nil {
				sl = *old
			}
		case fromBefore:
			sl = v.lastStep[id].before
		case fromDoubt:
			sl = v.doubt[id].slot
		}
		before := sl
		switch rec.Step {
		case trace.StepDeliver:
			if rec.Recv == nil {
				return out, nil, next, v.at(l, false, "deliver step without a received message")
			}
			// The server's admission depends on requests in flight, which
			// a trace does not show: its verdict on the cap is taken as
			// given, and BOUNDED is checked on the count below instead.
			env := protocol.SlotEnv{Admit: rec.Err != protocol.ErrSessionCap.Error()}
			out = sl.Handle(v.h, rec.T, recv, script, env)
		case trace.StepServerTimer:
			if rec.Err == ErrEvicted.Error() {
				var err error
				if out, err = v.evict(l, &sl); err != nil {
					return out, nil, next, err
				}
				break
			}
			out = sl.Expire(v.h, rec.T)
		case trace.StepIssue:
			out = sl.Issue(v.h, rec.T, sent.Payload)
		default:
			return out, nil, next, v.at(l, true, "a server slot takes no %q step", rec.Step)
		}
		state, next = sl.State.String(), sl
		evicted := rec.Step == trace.StepServerTimer && rec.Err == ErrEvicted.Error()
		commit = func() {
			v.slots[id] = &sl
			// The claims are the caller's to add, once it has checked them.
			v.lastStep[id] = &slotStep{line: l, before: before, evicted: evicted}
			if evicted {
				v.report.Evictions++
			}
			v.count(l, id, sl.HalfOpen())
		}
	}
	if err := v.compare(l, out, sent, state); err != nil {
		return out, nil, next, err
	}
	return out, commit, next, nil
}

// evict replays an eviction (ServerConfig.EvictAfter): the slot's pending
// session ends before its lifetime, by the transition its expiry takes,
// sending and claiming nothing. It is not a step of the model, whose
// sessions end at their lifetime only; it is the one step a server takes
// outside it, and it can only take away: it ends a handshake the server
// would otherwise have verified, and makes no claim. It is counted in the
// report when the step is committed.
func (v *validator) evict(l *traceLine, sl *protocol.Slot) (protocol.Output, error) {
	if !sl.HalfOpen() {
		return protocol.Output{}, v.at(l, true, "evicts the pending session of slot %d, which has none (state %v)", sl.RegID, sl.State)
	}
	to, ok := v.h.ServerMachine().Lookup(sl.State, protocol.ExpirePending)
	if !ok {
		return protocol.Output{}, v.at(l, true, "evicts the pending session of slot %d, whose profile never ends one", sl.RegID)
	}
	sl.State, sl.Pending = to, protocol.Session{}
	return protocol.Output{Deadline: sl.Deadline(), Err: ErrEvicted}, nil
}

// warnAfresh notes, once per run and kind of machine, that a machine
// started afresh after a restart.
func (v *validator) warnAfresh(l *traceLine, key machineKey, before runKey) {
	w := warnKey{runKey{l.file, l.run}, key.server}
	if v.warnedAfresh[w] {
		return
	}
	v.warnedAfresh[w] = true
	what := "client"
	if key.server {
		what = "server slot"
	}
	v.report.Warnings = append(v.report.Warnings, TraceWarning{File: v.names[l.file], Line: l.line,
		Reason: fmt.Sprintf("%s %d replays only from a new machine: its state from run %d of %s was not kept across the restart (a memory store, or a restarted device); later ones of this run are not listed",
			what, key.id, before.run, v.names[before.file])})
}

// matchSend pairs a receive with its send, or notes it as an injection.
func (v *validator) matchSend(l *traceLine, recv protocol.Message) {
	s, ok := v.sends[l.rec.Recv.ID]
	var reason string
	switch {
	case l.rec.Recv.ID == 0:
		reason = "no message id"
	case !ok:
		reason = "no logged send has this id"
	default:
		sent, _ := s.rec.Sent.Message()
		if sent == recv {
			v.report.Matched++
			return
		}
		// Ids travel in headers anyone can write: a copied id on other
		// content is an injection, not a fault of the trace.
		reason = fmt.Sprintf("content differs from the send at %s:%d", v.names[s.file], s.line)
	}
	v.report.Injections = append(v.report.Injections, Injection{File: v.names[l.file], Line: l.line, ID: l.rec.Recv.ID, Kind: l.rec.Recv.Kind, Reason: reason})
}

// compare checks that the model did what the trace says the machine did.
func (v *validator) compare(l *traceLine, out protocol.Output, sent protocol.Message, state string) error {
	rec := &l.rec
	verdict := func(err error) string {
		if err == nil {
			return "accepts"
		}
		return fmt.Sprintf("rejects (%v)", err)
	}
	if got := errString(out.Err); got != rec.Err {
		var traced error
		if rec.Err != "" {
			traced = errors.New(rec.Err)
		}
		return v.at(l, true, "the model %s the %s step; the trace says it %s", verdict(out.Err), rec.Step, verdict(traced))
	}
	if out.Send != sent {
		return v.at(l, true, "the model sends %v; the trace says %v", msgOrNone(out.Send), msgOrNone(sent))
	}
	var claims []protocol.Claim
	for _, c := range rec.Claims {
		pc, _ := c.Claim()
		claims = append(claims, pc)
	}
	if !slices.Equal(out.ClaimList(), claims) {
		return v.at(l, true, "the model claims %v; the trace says %v", out.ClaimList(), claims)
	}
	if rec.State != "" && rec.State != state {
		return v.at(l, true, "the model ends in state %s; the trace says %s", state, rec.State)
	}
	return nil
}

func msgOrNone(m protocol.Message) string {
	if m.Kind == 0 {
		return "nothing"
	}
	return m.String()
}
