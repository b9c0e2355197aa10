package transport

import (
	"fmt"
	"strings"

	"github.com/verishake/verishake/protocol"
	"github.com/verishake/verishake/trace"
)

// SequenceDiagram renders the validated steps of RegID id, client and
// server, as a Mermaid sequenceDiagram: solid arrows upstream (HTTP),
// dashed arrows through the push platform, notes for claims, timers and
// rejected inputs. Messages appear when sent; a receive shows only when it
// was rejected, since acceptance is visible in what follows.
func (r *ValidationReport) SequenceDiagram(id protocol.RegID) string {
	var b strings.Builder
	b.WriteString("sequenceDiagram\n")
	fmt.Fprintf(&b, "    participant D as device %d\n", id)
	b.WriteString("    participant P as push relay\n")
	b.WriteString("    participant S as server\n")
	for _, l := range r.order {
		rec := &l.rec
		if protocol.RegID(rec.RegID) != id || rec.Machine == "" {
			continue
		}
		me, peer := "D", "S"
		if rec.Machine == "server" {
			me, peer = "S", "D"
		}
		switch rec.Step {
		case trace.StepClientTimer, trace.StepServerTimer:
			fmt.Fprintf(&b, "    Note over %s: timer (%s)\n", me, rec.State)
		case trace.StepStart:
			fmt.Fprintf(&b, "    Note over D: start handshake\n")
		case trace.StepIssue:
			fmt.Fprintf(&b, "    Note over S: issue command\n")
		}
		if rec.Err != "" && rec.Recv != nil {
			fmt.Fprintf(&b, "    Note over %s: rejects %s: %s\n", me, mermaidMsg(rec.Recv), mermaidText(rec.Err))
		}
		for _, c := range rec.Claims {
			fmt.Fprintf(&b, "    Note over %s: %s %s\n", me, c.Kind, mermaidClaim(c))
		}
		if rec.Sent != nil {
			if me == "S" {
				fmt.Fprintf(&b, "    S-->>P: %s\n", mermaidMsg(rec.Sent))
				fmt.Fprintf(&b, "    P-->>D: push\n")
			} else {
				fmt.Fprintf(&b, "    %s->>%s: %s\n", me, peer, mermaidMsg(rec.Sent))
			}
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

func mermaidMsg(m *trace.Msg) string {
	var parts []string
	if m.Tc != "" {
		parts = append(parts, "Tc="+shortToken(m.Tc))
	}
	if m.Ts != "" {
		parts = append(parts, "Ts="+shortToken(m.Ts))
	}
	if m.Kind == protocol.Command.String() {
		parts = append(parts, fmt.Sprintf("Seq=%d", m.Seq))
		if m.Payload != "" {
			parts = append(parts, "payload "+mermaidText(m.Payload))
		}
	}
	return m.Kind + "(" + strings.Join(parts, " ") + ")"
}

func mermaidClaim(c trace.Claim) string {
	if c.Kind == "Issued" || c.Kind == "Executed" {
		return fmt.Sprintf("Ts=%s Seq=%d", shortToken(c.Ts), c.Seq)
	}
	return fmt.Sprintf("Tc=%s Ts=%s", shortToken(c.Tc), shortToken(c.Ts))
}

// shortToken keeps a token's first 8 hex digits: enough to tell tokens
// apart in a diagram, short enough to read.
func shortToken(s string) string {
	if strings.HasPrefix(s, "#") {
		return "T" + s[1:] // '#' starts an entity code in Mermaid
	}
	if len(s) > 8 {
		return s[:8] + "…"
	}
	return s
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
