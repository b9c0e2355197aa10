package transport

import (
	"fmt"
	"strings"

	"github.com/verishake/verishake/protocol"
	"github.com/verishake/verishake/trace"
)

// SequenceDiagram renders the validated steps of RegID id, client and
// server, as a Mermaid sequenceDiagram in the vocabulary of `verishake
// replay`'s: a message is drawn as an arrow when it arrives ("S->>C:
// Validation Tc=… Ts=…", through the push platform for the server's), and
// one that never arrived as lost where it was sent ("S-xC: … (lost)");
// notes for claims, timers and rejected inputs.
func (r *ValidationReport) SequenceDiagram(id protocol.RegID) string {
	received := map[uint64]bool{}
	for _, l := range r.order {
		if rec := &l.rec; protocol.RegID(rec.RegID) == id && rec.Machine != "" && rec.Recv != nil {
			received[rec.Recv.ID] = true
		}
	}
	var b strings.Builder
	b.WriteString("sequenceDiagram\n")
	fmt.Fprintf(&b, "    participant C as Client %d (device)\n", id)
	b.WriteString("    participant S as Server\n")
	arrow := func(m *trace.Msg, style, suffix string) {
		from, to := "S", "C"
		if k, err := trace.ParseKind(m.Kind); err == nil && k.Upstream() {
			from, to = "C", "S"
		}
		fmt.Fprintf(&b, "    %s%s%s: %s%s\n", from, style, to, trace.MermaidLabel(m), suffix)
	}
	for _, l := range r.order {
		rec := &l.rec
		if protocol.RegID(rec.RegID) != id || rec.Machine == "" {
			continue
		}
		me := "C"
		if rec.Machine == "server" {
			me = "S"
		}
		note := func(format string, args ...any) {
			fmt.Fprintf(&b, "    Note over %s: %s\n", me, trace.MermaidText(fmt.Sprintf(format, args...)))
		}
		if l.retract {
			note("%s step retracted, as the store refused it", rec.Step)
			continue
		}
		if l.undone {
			note("this step was not stored before the restart, and is undone")
		}
		switch rec.Step {
		case trace.StepStart:
			if rec.HS != 0 {
				note("start handshake %d", rec.HS)
			} else {
				note("start handshake")
			}
		case trace.StepClientTimer:
			if rec.Sent != nil {
				note("timer: re-send %s", rec.Sent.Kind)
			} else {
				note("timer: %s", rec.State)
			}
		case trace.StepServerTimer:
			note("session timer: %s", rec.State)
		case trace.StepIssue:
			if rec.Sent != nil {
				note("issue command %d", rec.Sent.Seq)
			}
		}
		if rec.Recv != nil {
			arrow(rec.Recv, "->>", "")
		}
		if rec.Err != "" && rec.Recv != nil {
			note("rejects %s: %s", rec.Recv.Kind, mermaidText(strings.TrimPrefix(rec.Err, "protocol: ")))
		}
		for _, c := range rec.Claims {
			fmt.Fprintf(&b, "    Note over %s: %s\n", me, trace.MermaidClaim(c))
		}
		if rec.Sent != nil && !received[rec.Sent.ID] {
			arrow(rec.Sent, "-x", " (lost)")
		}
	}
	return b.String()
}

// VerifiedClients returns the RegIDs whose client ended the trace verified,
// in the order they were first seen.
func (r *ValidationReport) VerifiedClients() []protocol.RegID {
	last := map[protocol.RegID]string{}
	var ids []protocol.RegID
	for _, l := range r.order {
		if l.rec.Machine != "client" {
			continue
		}
		id := protocol.RegID(l.rec.RegID)
		if _, seen := last[id]; !seen {
			ids = append(ids, id)
		}
		last[id] = l.rec.State
	}
	out := ids[:0]
	for _, id := range ids {
		if last[id] == protocol.ClientVerified.String() {
			out = append(out, id)
		}
	}
	return out
}

// mermaidText keeps free text from breaking the diagram: ';' and '#' are
// syntax in Mermaid, and a newline would end the statement.
func mermaidText(s string) string {
	r := strings.NewReplacer(";", ",", "#", "No.", "\n", " ", "\r", " ", ":", " -")
	if len(s) > 60 {
		s = s[:60] + "…"
	}
	return r.Replace(s)
}
