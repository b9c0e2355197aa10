package sim

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/verishake/verishake/protocol"
	"github.com/verishake/verishake/trace"
)

// Errors a TraceError wraps: the trace cannot be read (ErrMalformed: bad
// input, exit status 2) or the model does not do what it says
// (ErrDiverged: exit status 1).
var (
	ErrMalformed = errors.New("malformed trace")
	ErrDiverged  = errors.New("trace does not reproduce")
)

// TraceError locates a problem with a trace: file, line (from 1) and what.
type TraceError struct {
	File string
	Line int
	Err  error
}

func (e *TraceError) Error() string { return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err) }

// Unwrap returns the cause, which wraps ErrMalformed or ErrDiverged.
func (e *TraceError) Unwrap() error { return e.Err }

// ReplayOptions choose what Replay keeps besides the verdict.
type ReplayOptions struct {
	// Handshake is the number of the handshake whose records to keep for a
	// sequence diagram; 0 keeps the first one started.
	Handshake uint64
}

// Replayed is the outcome of a replay that reproduced its trace.
type Replayed struct {
	Header trace.Header
	// Steps replayed; Stopped and Violations as the re-run found them (and
	// the trace's last line said).
	Steps      uint64
	Stopped    string
	Violations []trace.Violation
	// HS is the handshake kept (0 if the trace starts none), RegID its
	// client, and Records its steps: from its start to the client's next
	// start, every step that involves its RegID.
	HS      uint64
	RegID   uint64
	Records []trace.Record
	// ViolationHS is the handshake the first violation's client was in
	// (0: none, or no client concerned): the one worth drawing.
	ViolationHS uint64
}

// Replay re-runs a simulator trace step by step through World.Apply and
// the monitors, checking that every step does what its record says and
// that the run ends with the violations the trace ends with. name is the
// file name used in errors. The error is a *TraceError wrapping
// ErrMalformed or ErrDiverged.
func Replay(r io.Reader, name string, opts ReplayOptions) (*Replayed, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	line := 0
	bad := func(kind error, format string, args ...any) error {
		return &TraceError{File: name, Line: line, Err: fmt.Errorf("%w: %s", kind, fmt.Sprintf(format, args...))}
	}
	next := func() ([]byte, string, error) {
		if !sc.Scan() {
			if err := sc.Err(); err != nil {
				return nil, "", bad(ErrMalformed, "%v", err)
			}
			return nil, "", nil
		}
		line++
		b := sc.Bytes()
		var head struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal(b, &head); err != nil {
			return nil, "", bad(ErrMalformed, "not a JSON object: %v", err)
		}
		return b, head.Type, nil
	}

	b, typ, err := next()
	switch {
	case err != nil:
		return nil, err
	case b == nil:
		return nil, bad(ErrMalformed, "empty file")
	case typ != trace.LineHeader:
		return nil, bad(ErrMalformed, "first line is %q, want the header", typ)
	}
	var hd trace.Header
	if err := strictUnmarshal(b, &hd); err != nil {
		return nil, bad(ErrMalformed, "header: %v", err)
	}
	if hd.Schema != trace.Schema {
		return nil, bad(ErrMalformed, "schema %d, this verishake reads schema %d", hd.Schema, trace.Schema)
	}
	if hd.Source == trace.SourceTransport {
		return nil, bad(ErrMalformed, "a %s trace records a real run; replay re-runs simulator and explorer traces", hd.Source)
	}
	if hd.Config == nil {
		return nil, bad(ErrMalformed, "header has no config")
	}
	cfg := configOf(&hd)
	if err := cfg.Validate(); err != nil {
		return nil, bad(ErrMalformed, "header: %v", err)
	}
	h, err := cfg.Profile.Compile()
	if err != nil {
		return nil, bad(ErrMalformed, "header: %v", err)
	}
	wo := cfg.worldOptions(NoAdversary{})
	switch hd.Tokens {
	case trace.TokensSeeded:
	case trace.TokensSymbolic:
		wo.Tokens = &protocol.SymbolicTokens{}
	default:
		return nil, bad(ErrMalformed, "header: unknown token source %q", hd.Tokens)
	}
	w, err := NewWorld(h, wo)
	if err != nil {
		return nil, bad(ErrMalformed, "header: %v", err)
	}
	mon := NewMonitors(cfg.Profile, cfg.Clients, RetireWindow(cfg))
	out := &Replayed{Header: hd, HS: opts.Handshake}
	// A targeted trace is judged for its target alone, and its length is
	// needed first (AGREE's continuation starts that many steps before
	// the end): read it whole.
	var j *judge
	if hd.Target != nil {
		var lines [][]byte
		for {
			b, _, err := next()
			if err != nil {
				return nil, err
			}
			if b == nil {
				break
			}
			lines = append(lines, slices.Clone(b))
		}
		if j, err = newJudge(cfg, *hd.Target, uint64(max(len(lines)-1, 0))); err != nil {
			line = 1
			return nil, bad(ErrMalformed, "header: %v", err)
		}
		body, i := lines, 0
		next = func() ([]byte, string, error) {
			if i >= len(body) {
				return nil, "", nil
			}
			b := body[i]
			i++
			line++
			var head struct {
				Type string `json:"type"`
			}
			if err := json.Unmarshal(b, &head); err != nil {
				return nil, "", bad(ErrMalformed, "not a JSON object: %v", err)
			}
			return b, head.Type, nil
		}
		line = 1
	}

	var (
		n      uint64
		viol   []trace.Violation
		res    Result
		inHS   bool
		ended  *trace.End
		lastHS = make([]uint64, cfg.Clients+1) // by RegID: its latest handshake
	)
	for {
		b, typ, err := next()
		if err != nil {
			return nil, err
		}
		if b == nil {
			return nil, bad(ErrMalformed, "the trace ends without its %q line", trace.LineEnd)
		}
		if typ == trace.LineEnd {
			ended = &trace.End{}
			if err := strictUnmarshal(b, ended); err != nil {
				return nil, bad(ErrMalformed, "end: %v", err)
			}
			break
		}
		if typ != trace.LineStep {
			return nil, bad(ErrMalformed, "unknown line type %q", typ)
		}
		var want trace.Record
		if err := strictUnmarshal(b, &want); err != nil {
			return nil, bad(ErrMalformed, "step: %v", err)
		}
		if want.N != n+1 {
			return nil, bad(ErrMalformed, "step %d follows step %d", want.N, n)
		}
		s, err := ParseStep(&want)
		if err != nil {
			return nil, bad(ErrMalformed, "step %d: %v", want.N, err)
		}
		if j != nil {
			if err := j.before(w, n, &s); err != nil {
				return nil, bad(ErrDiverged, "%v", err)
			}
		} else {
			if len(viol) > 0 {
				return nil, bad(ErrDiverged, "step %d follows the violation the model finds at step %d: %v", want.N, viol[0].Step, viol[0])
			}
			if v := mon.Tick(n, s.At); v != nil {
				return nil, bad(ErrDiverged, "before step %d the model finds %v, and the trace goes on", want.N, v)
			}
		}
		if err := w.ApplyInto(&s, &res); err != nil {
			return nil, bad(ErrDiverged, "step %d cannot be taken: %v", want.N, err)
		}
		n++
		got := RecordOf(n, s, &res, w)
		want.Wall = ""
		if sameReason(want.Err, got.Err) {
			want.Err = got.Err
		}
		if d := diffRecords(want, got); d != "" {
			return nil, bad(ErrDiverged, "step %d: %s", n, d)
		}
		if j != nil {
			j.observe(w, n, &res)
		} else if v := mon.Observe(w, n, &res); v != nil {
			viol = append(viol, *v)
		}
		// Keep the chosen handshake's records for the diagram.
		if got.Step == StepStart.String() && got.HS != 0 {
			lastHS[got.RegID] = got.HS
			switch {
			case out.HS == 0 || got.HS == out.HS:
				out.HS, out.RegID, inHS = got.HS, got.RegID, true
			case got.RegID == out.RegID:
				inHS = false
			}
		}
		if inHS && involves(&got, out.RegID) {
			out.Records = append(out.Records, got)
		}
	}
	if ended.Steps != n {
		return nil, bad(ErrMalformed, "the end line counts %d steps, the trace has %d", ended.Steps, n)
	}
	if j != nil {
		found, ok, err := j.finish(w, n)
		if err != nil {
			return nil, bad(ErrDiverged, "%v", err)
		}
		if !ok {
			return nil, bad(ErrDiverged, "the trace was written for %s, and the model finds no %s violation on it (it finds %s)",
				hd.Target.Property, hd.Target.Property, jsonOf(found))
		}
		viol = found
	}
	if len(viol) == 0 && j == nil {
		switch ended.Stopped {
		case "violation":
			if v := mon.Tick(n, ended.T); v != nil {
				viol = append(viol, *v)
			}
		case "done", "horizon":
			if v := mon.Finish(w, n, ended.T); v != nil {
				viol = append(viol, *v)
			}
		}
	}
	if viol == nil {
		viol = []trace.Violation{}
	}
	if ended.Violations == nil {
		ended.Violations = []trace.Violation{}
	}
	if g, t := jsonOf(viol), jsonOf(ended.Violations); g != t {
		return nil, bad(ErrDiverged, "the trace ends with violations %s, the model finds %s", t, g)
	}
	if opts.Handshake != 0 && out.RegID == 0 {
		return nil, bad(ErrMalformed, "the trace starts no handshake #%d", opts.Handshake)
	}
	out.Steps, out.Stopped, out.Violations = n, ended.Stopped, viol
	if len(viol) > 0 && viol[0].RegID >= 1 && viol[0].RegID <= uint64(cfg.Clients) {
		out.ViolationHS = lastHS[viol[0].RegID]
	}
	return out, nil
}

// strictUnmarshal decodes one JSON value and nothing after it.
func strictUnmarshal(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return errors.New("trailing data after the JSON object")
	}
	return nil
}

func jsonOf(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("<%v>", err)
	}
	return string(b)
}

// diffRecords names the first field in which the model's record differs
// from the trace's, or returns "".
func diffRecords(want, got trace.Record) string {
	wv, gv := reflect.ValueOf(want), reflect.ValueOf(got)
	t := wv.Type()
	for i := range t.NumField() {
		a, b := wv.Field(i).Interface(), gv.Field(i).Interface()
		if reflect.DeepEqual(a, b) {
			continue
		}
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		return fmt.Sprintf("field %q: the trace has %s, the model gives %s", name, jsonOf(a), jsonOf(b))
	}
	return ""
}

// sameReason reports whether a rejection reason as a trace records it and
// as the model gives it are the same verdict. Traces written before the
// protocol's errors took the package's prefix, and before a table refusal
// named its row (protocol.NoTransitionError), still replay: the record's
// machine and state fields still say where the refusal happened.
func sameReason(traced, model string) bool {
	if traced == model {
		return true
	}
	unexpected := strings.TrimPrefix(protocol.ErrUnexpected.Error(), "protocol: ")
	norm := func(s string) string {
		s = strings.TrimPrefix(s, "protocol: ")
		if strings.HasPrefix(s, unexpected) {
			return unexpected
		}
		return s
	}
	return norm(traced) == norm(model)
}

// involves reports whether a record concerns RegID id: the machine that
// acted, or the message taken or sent.
func involves(r *trace.Record, id uint64) bool {
	return r.RegID == id || r.Recv != nil && r.Recv.RegID == id || r.Sent != nil && r.Sent.RegID == id
}

// Mermaid renders the records of one handshake (as Replayed keeps them) as
// a Mermaid sequence diagram: client, server and, if it takes part, the
// adversary; each message as an arrow when it arrives (a cross when lost),
// timers, claims and rejections as notes. A violation found at one of the
// records' steps is marked there.
func Mermaid(hs, regID uint64, recs []trace.Record, violations ...trace.Violation) string {
	var b strings.Builder
	adv := false
	for i := range recs {
		if r := &recs[i]; r.Recv != nil && r.Recv.From == FromAdversary.String() || r.Step == StepInject.String() || r.Step == StepFlood.String() {
			adv = true
		}
	}
	fmt.Fprintf(&b, "sequenceDiagram\n")
	fmt.Fprintf(&b, "    participant C as Client %d\n", regID)
	fmt.Fprintf(&b, "    participant S as Server\n")
	if adv {
		fmt.Fprintf(&b, "    participant A as Adversary\n")
	}
	party := func(from string, upstream bool) string {
		switch {
		case from == FromAdversary.String():
			return "A"
		case upstream:
			return "C"
		}
		return "S"
	}
	arrow := func(m *trace.Msg, style, suffix string) {
		k, _ := trace.ParseKind(m.Kind)
		to := "S"
		if !k.Upstream() {
			to = "C"
		}
		fmt.Fprintf(&b, "    %s%s%s: %s%s\n", party(m.From, k.Upstream()), style, to, trace.MermaidLabel(m), suffix)
	}
	for i := range recs {
		r := &recs[i]
		at := time.Duration(r.T).Round(time.Microsecond)
		note := func(who, format string, args ...any) {
			fmt.Fprintf(&b, "    Note over %s: %s\n", who, trace.MermaidText(fmt.Sprintf(format, args...)))
		}
		who := "C"
		if r.Machine == "server" {
			who = "S"
		}
		switch r.Step {
		case StepStart.String():
			note("C", "t=%v start handshake %d", at, r.HS)
		case StepInsider.String():
			arrow(r.Recv, "->>", " (insider's own handshake)")
		case StepFlood.String():
			note("A,S", "t=%v flood: %d Hellos from forged RegIDs", at, r.Count)
		case StepDeliver.String():
			if r.Lost {
				arrow(r.Recv, "-x", " (no device)")
				break
			}
			arrow(r.Recv, "->>", "")
		case StepDrop.String():
			arrow(r.Recv, "-x", " (lost)")
		case StepDup.String():
			note("C,S", "t=%v network duplicates %s (msg %d)", at, r.Recv.Kind, r.Recv.ID)
		case StepCorrupt.String():
			if r.Lost {
				arrow(r.Recv, "-x", " (corrupted, frame rejected)")
			} else {
				note("C,S", "t=%v %s corrupted in transit, still decodes", at, r.Recv.Kind)
			}
		case StepClientTimer.String():
			if r.Sent != nil {
				note("C", "t=%v timer: re-send %s", at, r.Sent.Kind)
			} else {
				note("C", "t=%v timer: %s", at, r.State)
			}
		case StepServerTimer.String():
			note("S", "t=%v session timer: %s", at, r.State)
		case StepIssue.String():
			if r.Sent != nil {
				note("S", "t=%v issue command %d", at, r.Sent.Seq)
			}
		case StepInject.String():
			if r.Sent.Guess {
				note("A", "t=%v inject %s with a guessed token", at, r.Sent.Kind)
				break
			}
			note("A", "t=%v inject %s", at, r.Sent.Kind)
		}
		for _, c := range r.Claims {
			note(who, "%s(%s) %s", c.Kind, c.Role, trace.MermaidTokens(c.Tc, c.Ts))
		}
		if r.Err != "" && r.Machine != "" {
			// The note says which machine rejects; the package prefix of
			// its reason would only repeat that it is the protocol's.
			note(who, "rejects %s: %s", r.Recv.Kind, strings.TrimPrefix(r.Err, "protocol: "))
		}
		if r.Step == StepDeliver.String() && r.Machine == "client" && (r.State == "Verified" || r.State == "Failed") && len(r.Claims) > 0 && r.Claims[0].Kind == "Commit" {
			note("C", "t=%v verified", at)
		}
		if r.Step == StepClientTimer.String() && r.State == "Failed" {
			note("C", "t=%v handshake %d failed", at, hs)
		}
		for _, v := range violations {
			if v.Step == r.N {
				note("C,S", "%s VIOLATED at step %d", v.Property, v.Step)
			}
		}
	}
	return b.String()
}
