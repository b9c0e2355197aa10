package main

import (
	"fmt"
	"html"
	"slices"
	"strings"

	"github.com/verishake/verishake/sim"
	"github.com/verishake/verishake/trace"
)

// sequenceSVG draws trace records as a sequence diagram, in SVG, for the
// web explorer: a lifeline per client that takes part, the server and, if
// it moves, the adversary; each record is one row, a message an arrow when
// it is delivered (a cross when lost), everything else a note on the
// lifeline that acted, and the claims and rejections under it. The rows
// from current[0] to current[1] (record numbers) are highlighted; marks
// names the properties violated at a record.
func sequenceSVG(recs []trace.Record, clients int, current [2]int, marks ...map[int][]string) string {
	const (
		laneGap = 190
		left    = 70
		top     = 46
		rowH    = 30
		lineH   = 14
		maxLane = 12 // client lifelines drawn; others share the last
	)
	var ids []uint64
	adv := false
	for i := range recs {
		r := &recs[i]
		for _, m := range []*trace.Msg{r.Recv, r.Sent} {
			if m == nil {
				continue
			}
			if m.From == sim.FromAdversary.String() {
				adv = true
			}
			if m.RegID >= 1 && m.RegID <= uint64(clients) {
				ids = append(ids, m.RegID)
			} else if !isUpstream(m.Kind) {
				adv = true // a push to a device no honest client holds: the insider's
			}
		}
		if r.Machine == "client" {
			ids = append(ids, r.RegID)
		}
		switch r.Step {
		case sim.StepInject.String(), sim.StepFlood.String(), sim.StepInsider.String():
			adv = true
		}
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	if len(ids) == 0 && clients > 0 {
		ids = []uint64{1}
	}
	lanes := map[string]int{}
	var names []string
	for i, id := range ids {
		k := min(i, maxLane-1)
		if k == len(names) {
			name := fmt.Sprintf("Client %d", id)
			if i == maxLane-1 && len(ids) > maxLane {
				name = "other clients"
			}
			names = append(names, name)
		}
		lanes[fmt.Sprintf("c%d", id)] = k
	}
	lanes["server"] = len(names)
	names = append(names, "Server")
	if adv {
		lanes["adversary"] = len(names)
		names = append(names, "Adversary")
	}
	x := func(lane int) int { return left + laneGap/2 + lane*laneGap }
	client := func(id uint64) (int, bool) {
		k, ok := lanes[fmt.Sprintf("c%d", id)]
		return k, ok
	}
	var viol map[int][]string
	if len(marks) > 0 {
		viol = marks[0]
	}

	var body strings.Builder
	y := top + 20
	for i := range recs {
		r := &recs[i]
		var notes []string
		for _, c := range r.Claims {
			notes = append(notes, fmt.Sprintf("%s(%s) %s", c.Kind, c.Role, shortTokens(c.Tc, c.Ts, c.Seq, c.Kind == "Issued" || c.Kind == "Executed")))
		}
		if r.Err != "" {
			notes = append(notes, "rejects: "+r.Err)
		}
		for _, p := range viol[int(r.N)] {
			notes = append(notes, p+" VIOLATED")
		}
		h := rowH + lineH*len(notes)
		class := "seq-row"
		if int(r.N) >= current[0] && int(r.N) <= current[1] && current[1] > 0 {
			class += " current"
		}
		fmt.Fprintf(&body, `<g class="%s" data-n="%d"><title>%s</title>`, class, r.N, esc(recordText(r)))
		fmt.Fprintf(&body, `<rect class="row-bg" x="0" y="%d" width="%d" height="%d"/>`, y-18, left+len(names)*laneGap, h)
		fmt.Fprintf(&body, `<text class="n" x="8" y="%d">%d</text><text class="t" x="8" y="%d">%s</text>`, y-4, r.N, y+8, esc(fmtTime(r.T)))
		// actor: the lifeline the notes go under.
		actor := lanes["server"]
		if r.Machine == "client" {
			actor, _ = client(r.RegID)
		}
		arrow := func(m *trace.Msg, lost bool, suffix string) {
			from, to := lanes["server"], lanes["server"]
			switch {
			case m.From == sim.FromAdversary.String():
				from = lanes["adversary"]
			case isUpstream(m.Kind):
				from, _ = client(m.RegID)
			}
			if !isUpstream(m.Kind) {
				k, ok := client(m.RegID)
				if !ok {
					k = lanes["adversary"]
				}
				to = k
			}
			x1, x2 := x(from), x(to)
			if lost {
				x2 = (x1 + x2) / 2
			}
			cls := "arrow"
			if lost {
				cls += " lost"
			}
			if m.From == sim.FromAdversary.String() {
				cls += " adv"
			}
			fmt.Fprintf(&body, `<line class="%s" x1="%d" y1="%d" x2="%d" y2="%d"/>`, cls, x1, y, x2, y)
			if lost {
				fmt.Fprintf(&body, `<text class="cross" x="%d" y="%d">✕</text>`, x2-5, y+5)
			} else {
				d := 8
				if x2 < x1 {
					d = -8
				}
				fmt.Fprintf(&body, `<polygon class="%s" points="%d,%d %d,%d %d,%d"/>`, cls, x2, y, x2-d, y-4, x2-d, y+4)
			}
			fmt.Fprintf(&body, `<text class="label" x="%d" y="%d">%s</text>`, (x1+x2)/2, y-5, esc(msgLabel(m)+suffix))
			actor = to
			if isUpstream(m.Kind) {
				actor = lanes["server"]
			}
		}
		note := func(lane int, text string) {
			fmt.Fprintf(&body, `<text class="note" x="%d" y="%d">%s</text>`, x(lane), y+4, esc(text))
		}
		switch r.Step {
		case sim.StepDeliver.String():
			if r.Lost {
				arrow(r.Recv, true, " (no device)")
			} else {
				arrow(r.Recv, false, "")
			}
		case sim.StepInsider.String():
			arrow(r.Recv, false, " (insider)")
		case sim.StepDrop.String():
			arrow(r.Recv, true, " (lost)")
		case sim.StepCorrupt.String():
			if r.Lost {
				arrow(r.Recv, true, " (corrupted)")
			} else {
				note(lanes["server"], fmt.Sprintf("%s #%d corrupted, still decodes", r.Recv.Kind, r.Recv.ID))
			}
		case sim.StepDup.String():
			note(lanes["server"], fmt.Sprintf("network duplicates %s #%d", r.Recv.Kind, r.Recv.ID))
		case sim.StepStart.String():
			text := fmt.Sprintf("start handshake %d", r.HS)
			if r.Sent != nil {
				text += fmt.Sprintf(", sends %s #%d", r.Sent.Kind, r.Sent.ID)
			}
			note(actor, text)
		case sim.StepClientTimer.String():
			if r.Sent != nil {
				note(actor, fmt.Sprintf("timer: re-send %s #%d", r.Sent.Kind, r.Sent.ID))
			} else {
				note(actor, "timer: now "+r.State)
			}
		case sim.StepServerTimer.String():
			note(lanes["server"], "session timer: now "+r.State)
		case sim.StepIssue.String():
			if r.Sent != nil {
				note(lanes["server"], fmt.Sprintf("issue command seq %d, #%d", r.Sent.Seq, r.Sent.ID))
			} else {
				note(lanes["server"], "issue: nothing sent")
			}
		case sim.StepInject.String():
			what := "inject " + msgLabel(r.Sent)
			if r.Sent.Guess {
				what += " (guessed token)"
			}
			note(lanes["adversary"], what)
		case sim.StepFlood.String():
			note(lanes["adversary"], fmt.Sprintf("flood: %d Hellos from forged RegIDs", r.Count))
		default:
			note(actor, r.Step)
		}
		for k, n := range notes {
			cls := "claim"
			switch {
			case strings.HasSuffix(n, " VIOLATED"):
				cls = "violation"
			case strings.HasPrefix(n, "rejects: "):
				cls = "reject"
			}
			fmt.Fprintf(&body, `<text class="%s" x="%d" y="%d">%s</text>`, cls, x(actor), y+4+lineH*(k+1), esc(n))
		}
		body.WriteString("</g>")
		y += h
	}
	width := left + len(names)*laneGap
	height := y + 10
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="seq" width="%d" height="%d" viewBox="0 0 %d %d">`, width, height, width, height)
	for i, n := range names {
		fmt.Fprintf(&b, `<line class="life" x1="%d" y1="%d" x2="%d" y2="%d"/>`, x(i), top, x(i), height-4)
		fmt.Fprintf(&b, `<rect class="head" x="%d" y="6" width="%d" height="26" rx="4"/><text class="head" x="%d" y="24">%s</text>`,
			x(i)-80, 160, x(i), esc(n))
	}
	b.WriteString(body.String())
	if len(recs) == 0 {
		fmt.Fprintf(&b, `<text class="note" x="%d" y="%d">no step taken yet</text>`, width/2, top+20)
	}
	b.WriteString("</svg>")
	return b.String()
}

func isUpstream(kind string) bool { return kind == "Hello" || kind == "Confirm1" }

func msgLabel(m *trace.Msg) string {
	s := fmt.Sprintf("%s #%d", m.Kind, m.ID)
	if t := shortTokens(m.Tc, m.Ts, m.Seq, m.Kind == "Command"); t != "" {
		s += " " + t
	}
	return s
}

// shortTokens abbreviates tokens for a diagram (trace.ShortToken).
func shortTokens(tc, ts string, seq uint32, withSeq bool) string {
	var parts []string
	if tc != "" {
		parts = append(parts, "Tc="+trace.ShortToken(tc))
	}
	if ts != "" {
		parts = append(parts, "Ts="+trace.ShortToken(ts))
	}
	if withSeq {
		parts = append(parts, fmt.Sprintf("seq=%d", seq))
	}
	return strings.Join(parts, " ")
}

func esc(s string) string { return html.EscapeString(s) }
