// Package coverage counts which rows of the machines' transition tables a
// run takes, as TLC's -coverage and Spin's unreached states do: a row the
// bounds allow and no run takes is a part of the model nothing checked.
//
// A Tally watches steps on a sim.World (Pre before each, Post after, as
// explore.Hooks call them) and names the rows each step took: the row of
// the event the step's input raised, and before it any expiry the server
// ran on the way (a slot expires its sessions lazily, on the next input).
// It derives the rows from the machine states around the step and the
// input, by the rules the machines follow, and checks each derivation
// against the state the machine reached (and, where a new Hello and a
// duplicate go between the same states, against the client tokens the
// slot has seen): a step whose rows do not fit is counted as unexplained,
// so that the tally can be trusted.
package coverage

import (
	"errors"
	"fmt"
	"slices"

	"github.com/verishake/verishake/protocol"
	"github.com/verishake/verishake/sim"
)

// Row is one row of a machine's transition table.
type Row struct {
	Machine string `json:"machine"` // "client" or "server"
	From    string `json:"from"`
	Event   string `json:"event"`
	To      string `json:"to"`
}

func (r Row) String() string {
	return fmt.Sprintf("%s %s --%s--> %s", r.Machine, r.From, r.Event, r.To)
}

// RowCount is a row and how often it was taken.
type RowCount struct {
	Row
	Count uint64 `json:"count"`
}

// Report is a tally's result.
type Report struct {
	// Rows lists every row of both tables, in table order, with its count.
	Rows []RowCount `json:"rows"`
	// Taken counts the rows taken at least once, of Total.
	Taken int `json:"taken"`
	Total int `json:"total"`
	// NeverTaken lists the rows no step took.
	NeverTaken []Row `json:"never_taken"`
	// Unexplained counts the steps whose machine moved in a way no
	// sequence of rows derives (it should be empty: otherwise this
	// package misreads the machines).
	Unexplained map[string]uint64 `json:"unexplained,omitempty"`
}

// Tally counts rows. It is not safe for concurrent use.
type Tally struct {
	h           *protocol.Handshake
	rows        []Row
	index       map[Row]int
	counts      []uint64
	unexplained map[string]uint64
	pre         capture
}

// capture is what Pre keeps of the machine a step is about to move.
type capture struct {
	kind   sim.StepKind
	client int // the client's index, -1 if no client steps
	before protocol.ClientState
	slotID protocol.RegID
	server bool // a server slot steps
	slot   protocol.Slot
	msg    protocol.Message
}

// New returns a tally of the tables of h.
func New(h *protocol.Handshake) *Tally {
	t := &Tally{h: h, index: map[Row]int{}, unexplained: map[string]uint64{}}
	for _, r := range h.ClientMachine().Spec().Transitions {
		t.add(Row{"client", r.From.String(), r.Event.String(), r.To.String()})
	}
	for _, r := range h.ServerMachine().Spec().Transitions {
		t.add(Row{"server", r.From.String(), r.Event.String(), r.To.String()})
	}
	t.counts = make([]uint64, len(t.rows))
	return t
}

func (t *Tally) add(r Row) {
	t.index[r] = len(t.rows)
	t.rows = append(t.rows, r)
}

// Pre records the machine step s is about to move on w.
func (t *Tally) Pre(w *sim.World, s *sim.Step) {
	c := capture{kind: s.Kind, client: -1}
	slot := func(id protocol.RegID) {
		if id != sim.FloodRegID {
			c.server, c.slotID = true, id
			c.slot, _ = w.Server.Slot(id)
		}
	}
	switch s.Kind {
	case sim.StepStart, sim.StepClientTimer:
		c.client = int(s.Client)
	case sim.StepDeliver:
		e, ok := w.Envelope(s.Slot)
		if !ok {
			break
		}
		c.msg = e.Msg
		switch {
		case e.Msg.Kind.Upstream():
			slot(e.Msg.RegID)
		case w.Honest(e.Msg.RegID):
			c.client = int(e.Msg.RegID - 1)
		}
	case sim.StepInsider:
		c.msg = s.Msg
		if s.Msg.Kind.Upstream() {
			slot(s.Msg.RegID)
		}
	case sim.StepIssue, sim.StepServerTimer:
		slot(s.RegID)
	}
	if c.client >= 0 && c.client < len(w.Clients) {
		c.before = w.Clients[c.client].State
	} else {
		c.client = -1
	}
	t.pre = c
}

// Post counts the rows the step Pre saw took, now that w is after it
// and r is its result.
func (t *Tally) Post(w *sim.World, s *sim.Step, r *sim.Result) {
	c := t.pre
	t.pre = capture{client: -1}
	if c.kind != s.Kind {
		t.unexplained[fmt.Sprintf("%v step with no Pre before it", s.Kind)]++
		return
	}
	switch {
	case c.client >= 0:
		t.client(c, w.Clients[c.client].State, r)
	case c.server:
		after, _ := w.Server.Slot(c.slotID) // State None when none is kept
		t.serverStep(c, after, w.Now, r)
	}
}

func (t *Tally) client(c capture, after protocol.ClientState, r *sim.Result) {
	if r.Err != nil {
		return // a rejected input moves no client
	}
	var ev protocol.ClientEvent
	switch {
	case c.kind == sim.StepStart:
		ev = protocol.Start
	case c.kind == sim.StepClientTimer && after == protocol.ClientFailed:
		ev = protocol.GiveUp
	case c.kind == sim.StepClientTimer:
		ev = protocol.Retry
	case c.msg.Kind == protocol.Validation && c.before == protocol.AwaitConfirm2:
		ev = protocol.OnDupValidation
	case c.msg.Kind == protocol.Validation:
		ev = protocol.OnValidation
	case c.msg.Kind == protocol.Confirm2:
		ev = protocol.OnConfirm2
	case c.msg.Kind == protocol.Command:
		ev = protocol.OnCommand
	default:
		t.unexplained[fmt.Sprintf("client accepts %v in %v", c.msg.Kind, c.before)]++
		return
	}
	to, ok := t.h.ClientMachine().Lookup(c.before, ev)
	if !ok || to != after {
		t.unexplained[fmt.Sprintf("client %v --%v--> %v, the table says %v", c.before, ev, after, to)]++
		return
	}
	t.take(Row{"client", c.before.String(), ev.String(), after.String()})
}

// early lists the refusals a slot makes before it runs its expiry.
var early = []error{protocol.ErrWrongRole, protocol.ErrWrongRegID, protocol.ErrZeroToken}

func (t *Tally) serverStep(c capture, afterSlot protocol.Slot, now protocol.Time, r *sim.Result) {
	after := afterSlot.State
	m, sl, p := t.h.ServerMachine(), c.slot, t.h.Profile()
	st := sl.State
	var rows []Row
	step := func(ev protocol.ServerEvent) bool {
		to, ok := m.Lookup(st, ev)
		if ok {
			rows = append(rows, Row{"server", st.String(), ev.String(), to.String()})
			st = to
		}
		return ok
	}
	if !slices.ContainsFunc(early, func(e error) bool { return errors.Is(r.Err, e) }) {
		// The slot's lazy expiry, as it runs before every input.
		if (st == protocol.AwaitConfirm1 || st == protocol.Rekeying) && now >= sl.Pending.Expires {
			step(protocol.ExpirePending)
		}
		if (st == protocol.SessionVerified || st == protocol.Rekeying) && now >= sl.Current.Expires {
			step(protocol.ExpireVerified)
		}
	}
	if r.Err == nil {
		var ev protocol.ServerEvent
		known := true
		switch {
		case c.kind == sim.StepIssue:
			ev = protocol.Issue
		case c.kind == sim.StepServerTimer:
			known = false // the expiry above was all of it
		case c.msg.Kind == protocol.Hello && p.IdempotentHello && (st == protocol.AwaitConfirm1 || st == protocol.Rekeying) && c.msg.Tc.Equal(sl.Pending.Tc):
			ev = protocol.OnDupHello
		case c.msg.Kind == protocol.Hello:
			ev = protocol.OnHello
		case c.msg.Kind == protocol.Confirm1 && (st == protocol.SessionVerified || st == protocol.Rekeying) && c.msg.Ts.Equal(sl.Current.Ts):
			ev = protocol.OnDupConfirm1
			if p.DuplicateConfirm1 == protocol.Reverify {
				ev = protocol.OnReconfirm1
			}
		case c.msg.Kind == protocol.Confirm1:
			ev = protocol.OnConfirm1
		default:
			known = false
		}
		if known && !step(ev) {
			t.unexplained[fmt.Sprintf("server accepts %v in %v, which has no row for %v", c.kind, st, ev)]++
			return
		}
		// A new Hello and a duplicate can go between the same states: a
		// new one's Tc is the first the slot has seen, a duplicate leaves
		// what it has seen as it was.
		if known && c.msg.Kind == protocol.Hello && c.kind != sim.StepInsider && !seenFits(ev, sl, afterSlot, c.msg.Tc) {
			t.unexplained[fmt.Sprintf("server %v in %v: the client tokens it has seen do not fit", ev, sl.State)]++
			return
		}
	}
	// The insider's verified session is forgotten as it is verified
	// (sim.World): its slot is empty after the step whatever rows it took.
	if st != after && c.kind != sim.StepInsider {
		t.unexplained[fmt.Sprintf("server %v step from %v ends in %v, the rows lead to %v", c.kind, sl.State, after, st)]++
		return
	}
	for _, row := range rows {
		t.take(row)
	}
}

// seenFits reports whether a Hello with client token tc that took event
// ev left what the slot has seen (Slot.Seen) as that event does.
func seenFits(ev protocol.ServerEvent, before, after protocol.Slot, tc protocol.Token) bool {
	if ev == protocol.OnDupHello {
		return after.Seen == before.Seen
	}
	return after.Seen[0] == tc && [3]protocol.Token(after.Seen[1:]) == [3]protocol.Token(before.Seen[:3])
}

func (t *Tally) take(r Row) {
	i, ok := t.index[r]
	if !ok {
		t.unexplained["a row not in the table: "+r.String()]++
		return
	}
	t.counts[i]++
}

// Merge adds the counts of u, a tally of the same tables, to t.
func (t *Tally) Merge(u *Tally) {
	for i, n := range u.counts {
		if i < len(t.counts) {
			t.counts[i] += n
		}
	}
	for k, n := range u.unexplained {
		t.unexplained[k] += n
	}
}

// Report returns the counts so far.
func (t *Tally) Report() Report {
	rep := Report{Total: len(t.rows), NeverTaken: []Row{}, Rows: []RowCount{}}
	for i, r := range t.rows {
		rep.Rows = append(rep.Rows, RowCount{r, t.counts[i]})
		if t.counts[i] > 0 {
			rep.Taken++
		} else {
			rep.NeverTaken = append(rep.NeverTaken, r)
		}
	}
	if len(t.unexplained) > 0 {
		rep.Unexplained = map[string]uint64{}
		for k, n := range t.unexplained {
			rep.Unexplained[k] = n
		}
	}
	return rep
}
