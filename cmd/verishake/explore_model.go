package main

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/verishake/verishake/adversary"
	"github.com/verishake/verishake/protocol"
	"github.com/verishake/verishake/sim"
	"github.com/verishake/verishake/sim/coverage"
	"github.com/verishake/verishake/sim/explore"
	"github.com/verishake/verishake/trace"
)

// The web explorer's model: a path of steps from the initial world, taken
// again from the start on every request (paths are short, and a request
// then needs no state on the server), and what the page shows of the world
// at its end: both machines, the network, the adversary, the claims and
// the properties as the exhaustive explorer judges them.

// maxPath bounds the steps of a path the explorer takes on one request.
const maxPath = 4096

// webModel builds the initial world `check` explores with the same flags.
type webModel struct {
	job     checkJob
	label   string
	cfg     explore.Config // Adversary nil: newWalk makes a fresh one per walk
	withAdv bool
}

// newWebModel prepares the world of job as checkJob.run makes it: the
// profile's retransmissions capped by the bounds, and an explorer
// adversary when it may inject or is the insider.
func newWebModel(job checkJob) (*webModel, error) {
	p := job.profile
	p.Retries = min(p.Retries, job.b.Retries)
	h, err := p.Compile()
	if err != nil {
		return nil, err
	}
	label := job.profile.Name
	if job.variant != "" {
		label += " + " + job.variant
	}
	m := &webModel{job: job, label: label, withAdv: job.b.Injects > 0 && job.caps != (adversary.Capabilities{}) || job.caps.Insider,
		cfg: explore.Config{Handshake: h, Clients: job.b.Clients, Sessions: job.b.Sessions, Commands: job.b.Commands,
			Losses: job.b.Losses, Dups: job.b.Dups, Injects: job.b.Injects, Retransmits: job.b.Retransmits, Agree: job.agree,
			RetriesCapped: job.profile.Retries > job.b.Retries, Symmetry: job.symmetry, RenameTokens: job.rename, Workers: job.workers}}
	if _, err := m.newWalk(); err != nil {
		return nil, err
	}
	return m, nil
}

// config is the explorer's configuration for the job, with an adversary
// of its own: an explorer adversary is changed by the walk that uses it.
func (m *webModel) config() explore.Config {
	cfg := m.cfg
	if m.withAdv {
		cfg.Adversary = adversary.NewExplorer(m.job.caps, m.job.b.Clients, protocol.RegID(m.job.b.Clients+1))
	}
	return cfg
}

// newWalk returns a walk at the initial world.
func (m *webModel) newWalk() (*walk, error) {
	cfg := m.config()
	w, err := explore.Root(cfg)
	if err != nil {
		return nil, err
	}
	return newWalkFrom(w, cfg.RetriesCapped, cfg.Agree), nil
}

// follow takes the path from the initial world: path[i] indexes the steps
// the world enables after the first i transitions.
func (m *webModel) follow(path []int) (*walk, error) {
	if len(path) > maxPath {
		return nil, fmt.Errorf("path of %d steps: at most %d", len(path), maxPath)
	}
	wk, err := m.newWalk()
	if err != nil {
		return nil, err
	}
	for i, k := range path {
		enabled := wk.w.Enabled(nil)
		if k < 0 || k >= len(enabled) {
			return nil, fmt.Errorf("path[%d] = %d: that state enables %d steps (0..%d)", i, k, len(enabled), len(enabled)-1)
		}
		steps, results, err := explore.Take(wk.w, enabled[k], explore.Hooks{Pre: wk.tally.Pre, Post: wk.tally.Post})
		if err != nil {
			return nil, fmt.Errorf("path[%d]: %w", i, err)
		}
		wk.record(steps, results)
	}
	return wk, nil
}

// walk is a world and what happened on the way to it.
type walk struct {
	w       *sim.World
	capped  bool // the profile's retries are the explorer's cap (AGREE's excuse)
	agree   bool
	bounded sim.BoundedMonitor

	records []trace.Record // one per applied step, as a trace writes it
	moves   []int          // per transition: how many records it added
	ledger  protocol.Ledger
	claims  []claimView
	tally   *coverage.Tally      // the rows the path took
	props   map[string]*propView // the first violation of each property
}

func newWalkFrom(w *sim.World, capped, agree bool) *walk {
	wk := &walk{w: w, capped: capped, agree: agree, bounded: sim.BoundedMonitor{Cap: w.Handshake().Profile().HalfOpenCap},
		props: map[string]*propView{}, tally: coverage.New(w.Handshake())}
	wk.judgeState()
	return wk
}

// record accounts for one transition: its steps and their results, just
// applied to the walk's world.
func (wk *walk) record(steps []sim.Step, results []sim.Result) {
	for i := range steps {
		n := uint64(len(wk.records) + 1)
		wk.records = append(wk.records, sim.RecordOf(n, steps[i], &results[i], wk.w))
		for _, c := range results[i].ClaimList() {
			wk.claims = append(wk.claims, claimView{Step: int(n), Claim: trace.ClaimOf(c), Text: c.String()})
			wk.judgeClaim(c)
		}
	}
	wk.moves = append(wk.moves, len(steps))
	if v := wk.bounded.Observe(wk.w.Server.HalfOpen()); v != nil {
		wk.violate(protocol.Bounded, v.Reason)
	}
	wk.judgeState()
}

// judgeClaim checks AUTH-C, AUTH-S and CMD as the explorer does: the
// ledger of honest RegIDs' claims.
func (wk *walk) judgeClaim(c protocol.Claim) {
	if !wk.w.Honest(c.RegID) {
		return
	}
	if v, bad := wk.ledger.Observe(c); bad {
		wk.violate(v.Property, fmt.Sprintf("%v with no matching claim before it", c))
	}
}

// judgeState checks the properties of the state: deadlock freedom (LIVE)
// and, when asked, AGREE on the fault-free continuation.
func (wk *walk) judgeState() {
	if c, stuck := wk.w.Deadlocked(); stuck {
		wk.violate(protocol.Live, fmt.Sprintf("client %d waits in %v with nothing in flight and no timer set", c+1, wk.w.Clients[c].State))
	}
	if wk.agree && wk.w.AgreeApplies(wk.capped) {
		var buf []sim.Step
		if reason, bad := wk.w.Clone().Disagreement(&buf, nil); bad {
			wk.violate(protocol.Agree, reason)
		}
	}
}

func (wk *walk) violate(property, reason string) {
	if _, ok := wk.props[property]; ok {
		return
	}
	wk.props[property] = &propView{ID: property, Verdict: verdictViolated, Step: len(wk.records), Reason: reason}
}

// The page's view of a world, as JSON. Every item has a Key that names it
// from one view to the next, so that what a step changed can be found.

type stateView struct {
	Label      string        `json:"label"`
	Steps      int           `json:"steps"` // records so far
	Now        string        `json:"now"`
	Clients    []clientView  `json:"clients"`
	Slots      []slotView    `json:"slots"`
	Flood      string        `json:"flood,omitempty"`
	InFlight   []msgView     `json:"in_flight"`
	Adversary  *advView      `json:"adversary"`
	Claims     []claimView   `json:"claims"`
	Properties []propView    `json:"properties"`
	Enabled    []enabledView `json:"enabled"`
	// Coverage is the table rows the path took.
	Coverage []rowView   `json:"coverage"`
	Taken    []takenView `json:"taken"`
	// Changes lists what the last transition changed, by item key.
	Changes []changeView `json:"changes"`
	// Diagram is the path's sequence diagram as an SVG document.
	Diagram string `json:"diagram"`
}

type clientView struct {
	Key      string `json:"key"`
	RegID    uint64 `json:"regid"`
	State    string `json:"state"`
	HS       uint64 `json:"hs,omitempty"`
	Tc       string `json:"tc,omitempty"`
	Ts       string `json:"ts,omitempty"`
	Tries    uint8  `json:"tries"`
	Deadline string `json:"deadline,omitempty"`
	LastSeq  uint32 `json:"last_seq,omitempty"`
}

type slotView struct {
	Key      string `json:"key"`
	RegID    uint64 `json:"regid"`
	State    string `json:"state"`
	Pending  string `json:"pending,omitempty"`
	Current  string `json:"current,omitempty"`
	LastSeq  uint32 `json:"last_seq,omitempty"`
	Deadline string `json:"deadline,omitempty"`
}

type msgView struct {
	Key  string `json:"key"`
	Slot int32  `json:"slot"`
	trace.Msg
	Text string `json:"text"`
}

type advView struct {
	Key      string   `json:"key"`
	Caps     string   `json:"caps"`
	Tokens   []string `json:"tokens"`
	Captured []string `json:"captured"`
	Spent    int      `json:"spent"`
	Budget   int      `json:"budget"`
	Note     string   `json:"note,omitempty"`
}

type claimView struct {
	Step int `json:"step"`
	trace.Claim
	Text string `json:"text"`
}

type propView struct {
	ID string `json:"id"`
	// Verdict is "violated" once the path has violated the property, and
	// "holds" while it has not: a verdict on this path, not on the model.
	Verdict string `json:"verdict"`
	Step    int    `json:"step,omitempty"`
	Reason  string `json:"reason,omitempty"`
}

type rowView struct {
	Key string `json:"key"`
	coverage.RowCount
}

type enabledView struct {
	Index int    `json:"index"`
	Kind  string `json:"kind"`
	Label string `json:"label"`
}

type takenView struct {
	N     int    `json:"n"`
	Kind  string `json:"kind"`
	Label string `json:"label"`
}

type changeView struct {
	Key  string `json:"key"`
	What string `json:"what"` // new, changed, gone
	Text string `json:"text"`
}

// view renders the walk's world. withEnabled lists the steps it enables
// (the interactive explorer; a counterexample's steps are given).
func (wk *walk) view(label string, withEnabled bool) stateView {
	w := wk.w
	v := stateView{Label: label, Steps: len(wk.records), Now: fmtTime(w.Now),
		InFlight: []msgView{}, Claims: slices.Clone(wk.claims), Enabled: []enabledView{}, Taken: []takenView{}, Changes: []changeView{}}
	if v.Claims == nil {
		v.Claims = []claimView{}
	}
	for i := range w.Clients {
		c := &w.Clients[i]
		cv := clientView{Key: fmt.Sprintf("client:%d", c.RegID), RegID: uint64(c.RegID), State: c.State.String(), HS: w.HandshakeOf(i),
			Tc: tokenText(c.Tc), Ts: tokenText(c.Ts), Tries: c.Tries, Deadline: deadlineText(c.Deadline), LastSeq: c.LastSeq}
		v.Clients = append(v.Clients, cv)
	}
	v.Slots = []slotView{}
	for _, sl := range w.Server.Slots() {
		v.Slots = append(v.Slots, slotView{Key: fmt.Sprintf("slot:%d", sl.RegID), RegID: uint64(sl.RegID), State: sl.State.String(),
			Pending: sessionText(sl.Pending, sl.HalfOpen()), Current: sessionText(sl.Current, sl.Verified()), LastSeq: sl.LastSeq,
			Deadline: deadlineText(sl.Deadline())})
	}
	slices.SortFunc(v.Slots, func(a, b slotView) int { return int(a.RegID) - int(b.RegID) })
	if f := w.Server.Flooded(); f.N > 0 {
		v.Flood = fmt.Sprintf("%d half-open sessions from a flood, expiring %s", f.N, deadlineText(f.Expires))
	}
	for i := range int32(w.Slots()) {
		if e, ok := w.Envelope(i); ok {
			v.InFlight = append(v.InFlight, msgView{Key: fmt.Sprintf("msg:%d:%d", i, e.ID), Slot: i, Msg: *sim.MsgOf(e), Text: msgText(e)})
		}
	}
	v.Adversary = advOf(w.Adversary())
	for _, id := range explore.Properties {
		if id == protocol.Agree && !wk.agree {
			continue
		}
		if p, ok := wk.props[id]; ok {
			v.Properties = append(v.Properties, *p)
		} else {
			v.Properties = append(v.Properties, propView{ID: id, Verdict: verdictHolds})
		}
	}
	for _, rc := range wk.tally.Report().Rows {
		v.Coverage = append(v.Coverage, rowView{Key: "row:" + rc.Row.String(), RowCount: rc})
	}
	if withEnabled {
		for i, s := range w.Enabled(nil) {
			v.Enabled = append(v.Enabled, enabledView{Index: i, Kind: s.Kind.String(), Label: stepText(w, s)})
		}
	}
	for _, r := range wk.records {
		v.Taken = append(v.Taken, takenView{N: int(r.N), Kind: r.Step, Label: recordText(&r)})
	}
	return v
}

// diagram draws the walk's steps, the last transition highlighted.
func (wk *walk) diagram() string {
	return sequenceSVG(wk.records, len(wk.w.Clients), lastMove(wk.moves, len(wk.records)))
}

// lastMove returns the record numbers of the last transition, first and
// last (0, 0: none).
func lastMove(moves []int, n int) [2]int {
	if len(moves) == 0 {
		return [2]int{}
	}
	k := moves[len(moves)-1]
	return [2]int{n - k + 1, n}
}

// diff lists what changed from prev to cur, by item key.
func diff(prev, cur stateView) []changeView {
	out := []changeView{}
	type item struct{ key, text string }
	items := func(v stateView) []item {
		var xs []item
		for _, c := range v.Clients {
			xs = append(xs, item{c.Key, fmt.Sprintf("client %d: %s tc=%s ts=%s tries=%d deadline=%s seq=%d", c.RegID, c.State, c.Tc, c.Ts, c.Tries, c.Deadline, c.LastSeq)})
		}
		for _, s := range v.Slots {
			xs = append(xs, item{s.Key, fmt.Sprintf("server slot %d: %s pending=%s current=%s deadline=%s seq=%d", s.RegID, s.State, s.Pending, s.Current, s.Deadline, s.LastSeq)})
		}
		if v.Flood != "" {
			xs = append(xs, item{"flood", v.Flood})
		}
		for _, m := range v.InFlight {
			xs = append(xs, item{m.Key, "in flight: " + m.Text})
		}
		if a := v.Adversary; a != nil {
			for _, t := range a.Tokens {
				xs = append(xs, item{"token:" + t, "adversary knows " + t})
			}
			for _, c := range a.Captured {
				xs = append(xs, item{"captured:" + c, "adversary captured " + c})
			}
		}
		for i, c := range v.Claims {
			xs = append(xs, item{fmt.Sprintf("claim:%d", i), "claim " + c.Text})
		}
		for _, p := range v.Properties {
			xs = append(xs, item{"prop:" + p.ID, p.ID + " " + p.Verdict})
		}
		for _, r := range v.Coverage {
			if r.Count > 0 {
				xs = append(xs, item{r.Key, fmt.Sprintf("row %s taken %d times", r.Row, r.Count)})
			}
		}
		return xs
	}
	before := map[string]string{}
	for _, it := range items(prev) {
		before[it.key] = it.text
	}
	seen := map[string]bool{}
	for _, it := range items(cur) {
		seen[it.key] = true
		switch old, ok := before[it.key]; {
		case !ok:
			out = append(out, changeView{it.key, "new", it.text})
		case old != it.text:
			out = append(out, changeView{it.key, "changed", it.text})
		}
	}
	for _, it := range items(prev) {
		if !seen[it.key] {
			out = append(out, changeView{it.key, "gone", it.text})
		}
	}
	return out
}

func advOf(a sim.Adversary) *advView {
	x, ok := a.(*adversary.Explorer)
	if !ok {
		return nil
	}
	v := &advView{Key: "adversary", Caps: x.Caps.String(), Tokens: []string{}, Captured: []string{}, Spent: x.Spent, Budget: x.Budget}
	for _, t := range x.Knowledge.Tokens {
		v.Tokens = append(v.Tokens, tokenText(t))
	}
	for _, m := range x.Knowledge.Captured {
		v.Captured = append(v.Captured, ownText(m))
	}
	if x.Exhausted() {
		v.Note = "budget spent: it injects nothing more, and its knowledge no longer matters"
	}
	return v
}

func tokenText(t protocol.Token) string {
	switch {
	case t.IsZero():
		return ""
	case t.Equal(adversary.Own):
		return "own"
	}
	return t.String()
}

func sessionText(s protocol.Session, valid bool) string {
	if !valid {
		return ""
	}
	return fmt.Sprintf("Tc=%s Ts=%s", tokenText(s.Tc), tokenText(s.Ts))
}

func deadlineText(t protocol.Time) string {
	if t == protocol.Never {
		return ""
	}
	return fmtTime(t)
}

func fmtTime(t protocol.Time) string { return time.Duration(t).String() }

// ownText names the adversary's own token "own" in a message's text.
func ownText(m protocol.Message) string {
	return strings.ReplaceAll(m.String(), adversary.Own.String(), "own")
}

func msgText(e sim.Envelope) string {
	s := fmt.Sprintf("#%d %s from %v", e.ID, ownText(e.Msg), e.From)
	if e.Guess {
		s += " (guessed token)"
	}
	return s
}

// stepText describes a step the world enables, naming the message it acts on.
func stepText(w *sim.World, s sim.Step) string {
	switch s.Kind {
	case sim.StepDeliver, sim.StepDrop, sim.StepDup, sim.StepCorrupt:
		if e, ok := w.Envelope(s.Slot); ok {
			return fmt.Sprintf("%v %s", s.Kind, msgText(e))
		}
	case sim.StepClientTimer:
		return fmt.Sprintf("client %d's timer fires at %s", s.Client+1, fmtTime(s.At))
	case sim.StepServerTimer:
		if s.RegID == sim.FloodRegID {
			return fmt.Sprintf("the flood's sessions expire at %s", fmtTime(s.At))
		}
		return fmt.Sprintf("server timer of RegID %d fires at %s", s.RegID, fmtTime(s.At))
	case sim.StepStart:
		return fmt.Sprintf("client %d starts a handshake", s.Client+1)
	case sim.StepIssue:
		return fmt.Sprintf("server issues a command to RegID %d", s.RegID)
	case sim.StepInject:
		if s.Guess {
			return fmt.Sprintf("adversary injects %s (guessed token), delivered at once", ownText(s.Msg))
		}
		return fmt.Sprintf("adversary injects %s, delivered at once", ownText(s.Msg))
	case sim.StepInsider:
		return fmt.Sprintf("insider sends %s (its own handshake)", ownText(s.Msg))
	}
	return s.String()
}

// recordText describes a step taken, from its trace record.
func recordText(r *trace.Record) string {
	s := fmt.Sprintf("%d. t=%s %s", r.N, fmtTime(r.T), r.Step)
	if r.Recv != nil {
		s += fmt.Sprintf(" %s #%d", r.Recv.Kind, r.Recv.ID)
	}
	if r.Machine != "" {
		s += fmt.Sprintf(" → %s %d", r.Machine, r.RegID)
	}
	if r.Sent != nil {
		s += fmt.Sprintf(", sends %s #%d", r.Sent.Kind, r.Sent.ID)
	}
	if r.State != "" {
		s += ", now " + r.State
	}
	if r.Err != "" {
		s += ", rejected: " + r.Err
	}
	if r.Lost {
		s += ", lost"
	}
	return s
}
