package sim

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/verishake/verishake/adversary"
	"github.com/verishake/verishake/protocol"
	"github.com/verishake/verishake/trace"
)

// AuthMonitor checks AUTH-C, AUTH-S and CMD online with protocol.Ledger,
// the checker the explorer and trace validation use too: injective
// agreement of every client and server Commit with the peer's Running, and
// of every Executed command with an Issued one. Claims about RegIDs outside
// the honest range (the adversary's insider, forged RegIDs) are exempt.
// Claims match only within one RegID, so each honest RegID has a ledger of
// its own.
//
// Two things stand between the claims and the ledgers, neither of which
// changes a verdict:
//
// Speed. At a million claims a second even a small sorted ledger's
// searches and shifts would be much of the cost of a simulated handshake.
// So each honest RegID has a one-entry cache in front of its ledger for
// each kind of pending claim (client Running, server Running, Issued). An
// added claim goes to the cache and the entry it evicts to the ledger; a
// consuming claim is checked against the cache first and only otherwise
// handed to the ledger. The ledger plus the cache is at every point the
// multiset the ledger alone would hold, so the verdicts are the ledger's,
// while an honest handshake — Running, then the matching Commit — never
// reaches it.
//
// Memory. A ledger cannot forget by itself: a claim nothing consumes (a
// command lost on the way, a client that gave up) stays for good, and a
// long run would grow without bound. Every claim names a session by
// (RegID, Ts), and only claims of the same session ever match, so
// AuthMonitor notes, for each session with claims in its RegID's ledger,
// the epoch (a window of virtual time) in which it was noted, and with a
// retirement window W > 0 forgets the session's claims once the clock is
// three epochs past that one (checked when the RegID next reaches its
// ledger). A session whose claims in the ledger are all matched is no
// longer noted, and is noted afresh by its next claim to reach the ledger:
// so it is forgotten no sooner than three epochs after its first claim.
// Sound when no claim of a session comes more than W after its first,
// which the simulator guarantees by choosing W from the profile's lifetime
// and the channels' delays (see RetireWindow), and only when there is no
// adversary to replay old messages. With W = 0 nothing is ever forgotten.
type AuthMonitor struct {
	n      protocol.RegID
	window protocol.Time     // epoch length; 0: never retire
	held   []held            // by RegID-1: its cache
	led    []protocol.Ledger // by RegID-1: its other unmatched claims
	sess   [][]sessionEpoch  // by RegID-1: the sessions in its ledger, in the order noted (window > 0)
}

// held is one RegID's cache: the latest unconsumed client Running, server
// Running and Issued claim (Kind zero: none).
type held struct{ cRun, sRun, issued protocol.Claim }

// sessionEpoch is a session with claims in its RegID's ledger and the
// epoch it was noted in.
type sessionEpoch struct {
	ts    protocol.Token
	epoch int64
}

// NewAuthMonitor returns a monitor for honest RegIDs 1..clients that
// retires sessions older than window (0: never).
func NewAuthMonitor(clients int, window time.Duration) *AuthMonitor {
	return &AuthMonitor{
		n:      protocol.RegID(clients),
		window: protocol.Time(window),
		held:   make([]held, clients),
		led:    make([]protocol.Ledger, clients),
		sess:   make([][]sessionEpoch, clients),
	}
}

// Observe checks one claim, made at virtual time now, and returns the
// violation it completes (nil: none).
func (a *AuthMonitor) Observe(now protocol.Time, c *protocol.Claim) *trace.Violation {
	if c.RegID < 1 || c.RegID > a.n {
		return nil // exempt
	}
	i := int(c.RegID - 1)
	h := &a.held[i]
	switch {
	case c.Kind == protocol.Running && c.Role == protocol.RoleClient:
		a.hold(now, i, &h.cRun, c)
		return nil
	case c.Kind == protocol.Running && c.Role == protocol.RoleServer:
		a.hold(now, i, &h.sRun, c)
		return nil
	case c.Kind == protocol.Issued:
		a.hold(now, i, &h.issued, c)
		return nil
	case c.Kind == protocol.Commit && c.Role == protocol.RoleServer:
		if h.cRun.Kind != 0 && h.cRun.Tc == c.Tc && h.cRun.Ts == c.Ts {
			h.cRun = protocol.Claim{}
			return nil
		}
	case c.Kind == protocol.Commit && c.Role == protocol.RoleClient:
		if h.sRun.Kind != 0 && h.sRun.Tc == c.Tc && h.sRun.Ts == c.Ts {
			h.sRun = protocol.Claim{}
			return nil
		}
	case c.Kind == protocol.Executed:
		if h.issued.Kind != 0 && h.issued.Ts == c.Ts && h.issued.Seq == c.Seq {
			h.issued = protocol.Claim{}
			return nil
		}
	}
	pv, bad := a.observe(now, i, c)
	if !bad {
		return nil
	}
	tc := trace.ClaimOf(pv.Claim)
	return &trace.Violation{Property: pv.Property, RegID: uint64(c.RegID), Claim: &tc, Reason: pv.Reason}
}

// hold caches c in slot, passing the claim it evicts to the ledger. An
// added claim never completes a violation.
func (a *AuthMonitor) hold(now protocol.Time, i int, slot *protocol.Claim, c *protocol.Claim) {
	if slot.Kind != 0 {
		a.observe(now, i, slot)
	}
	*slot = *c
}

// observe hands c to RegID i+1's ledger, retiring its old sessions first
// and keeping the notes in step after.
func (a *AuthMonitor) observe(now protocol.Time, i int, c *protocol.Claim) (protocol.Violation, bool) {
	if a.window > 0 {
		a.retire(now, i)
	}
	pv, bad := a.led[i].Observe(*c)
	if !bad && a.window > 0 {
		a.note(now, i, c)
	}
	return pv, bad
}

// retire forgets the claims of RegID i+1's sessions noted three epochs
// before the one of time now. Sessions are noted in time order, so the
// ones to forget are at the front.
func (a *AuthMonitor) retire(now protocol.Time, i int) {
	cur := int64(now / a.window)
	list := a.sess[i]
	n := 0
	for n < len(list) && list[n].epoch+3 <= cur {
		a.led[i].Forget(protocol.RegID(i+1), list[n].ts)
		n++
	}
	if n > 0 {
		a.sess[i] = slices.Delete(list, 0, n)
	}
}

// note keeps sess in step with RegID i+1's ledger after claim c, observed
// at time now, changed it: the session of a claim added is noted (if it is
// not already), and one left with no claim in the ledger is not.
func (a *AuthMonitor) note(now protocol.Time, i int, c *protocol.Claim) {
	list := a.sess[i]
	at := slices.IndexFunc(list, func(s sessionEpoch) bool { return s.ts == c.Ts })
	switch c.Kind {
	case protocol.Running, protocol.Issued:
		if at < 0 {
			a.sess[i] = append(list, sessionEpoch{ts: c.Ts, epoch: int64(now / a.window)})
		}
	case protocol.Commit, protocol.Executed:
		if at >= 0 && !slices.ContainsFunc(a.led[i], func(p protocol.Claim) bool { return p.Ts == c.Ts }) {
			a.sess[i] = slices.Delete(list, at, at+1)
		}
	}
}

// Pending is the number of unmatched claims the monitor holds, in its
// caches and its ledgers.
func (a *AuthMonitor) Pending() int {
	n := 0
	for i, l := range a.led {
		n += len(l)
		for _, c := range [...]protocol.Claim{a.held[i].cRun, a.held[i].sRun, a.held[i].issued} {
			if c.Kind != 0 {
				n++
			}
		}
	}
	return n
}

// RetireWindow is the window after which AuthMonitor may forget a
// session in a run of cfg: 0 (never) with an adversary, which may replay
// any message at any time, or without a lifetime, which lets a session live
// for ever. Otherwise every claim of a session falls within three
// lifetimes (client handshake, server pending session, server verified
// session) plus two of the longest delays (the last Confirm1 in, the last
// Command out) plus the commands' schedule of its first claim; twice that
// is the window.
func RetireWindow(cfg Config) time.Duration {
	if (cfg.Adversary != "" && cfg.Adversary != NoneAdversary) || cfg.Profile.Lifetime <= 0 {
		return 0
	}
	d := max(cfg.Upstream.DelayMax, cfg.Push.DelayMax)
	return 3*cfg.Profile.Lifetime + 2*d + time.Duration(cfg.Commands+1)*cfg.CommandGap
}

// LiveBudget is the longest a handshake may take under p before LIVE is
// violated, and whether there is such a bound (protocol.Profile.Budget).
// With neither lifetime nor retries — the patent — a handshake may wait
// forever; it must still end, and one still running when the run stops
// violates LIVE.
func LiveBudget(p protocol.Profile) (time.Duration, bool) {
	return p.Budget()
}

// LiveMonitor checks LIVE: every handshake ends, Verified or Failed, within
// the budget. A late end is caught when it happens; a handshake that is
// overdue while the run goes on is caught by Tick, in constant amortised
// time, because handshakes fall due in the order they started; and one
// still running when the run stops is caught by Finish.
type LiveMonitor struct {
	budget  time.Duration
	bounded bool
	hs      []uint64        // per client: handshake in progress, 0 none
	began   []protocol.Time // per client: when it started
	due     ring            // handshakes in start order, for Tick
}

type dueEntry struct {
	client int32
	hs     uint64
	due    protocol.Time
}

// ring is a FIFO queue that reuses its storage.
type ring struct {
	buf        []dueEntry
	head, size int
}

func (q *ring) push(e dueEntry) {
	if q.size == len(q.buf) {
		n := make([]dueEntry, max(16, 2*len(q.buf)))
		for i := range q.size {
			n[i] = q.buf[(q.head+i)%len(q.buf)]
		}
		q.buf, q.head = n, 0
	}
	q.buf[(q.head+q.size)%len(q.buf)] = e
	q.size++
}

func (q *ring) front() (dueEntry, bool) {
	if q.size == 0 {
		return dueEntry{}, false
	}
	return q.buf[q.head], true
}

func (q *ring) pop() {
	q.head = (q.head + 1) % len(q.buf)
	q.size--
}

// NewLiveMonitor returns a LIVE monitor for clients under budget
// (bounded false: no time bound, only "must end").
func NewLiveMonitor(clients int, budget time.Duration, bounded bool) *LiveMonitor {
	return &LiveMonitor{budget: budget, bounded: bounded, hs: make([]uint64, clients), began: make([]protocol.Time, clients)}
}

// Started records that client c began handshake hs at time at.
func (l *LiveMonitor) Started(c int, hs uint64, at protocol.Time) {
	l.hs[c], l.began[c] = hs, at
	if l.bounded {
		l.due.push(dueEntry{client: int32(c), hs: hs, due: at.Add(l.budget)})
	}
}

// Ended records that client c's handshake ended at time at, and reports
// it if that was later than the budget allows.
func (l *LiveMonitor) Ended(c int, at protocol.Time) *trace.Violation {
	hs, began := l.hs[c], l.began[c]
	l.hs[c] = 0
	if hs == 0 || !l.bounded || at-began <= protocol.Time(l.budget) {
		return nil
	}
	return &trace.Violation{Property: protocol.Live, T: at, RegID: uint64(c + 1),
		Reason: fmt.Sprintf("client %d's handshake #%d took %v, over its budget of %v", c+1, hs, time.Duration(at-began), l.budget)}
}

// Tick reports a handshake still running past its budget at time now.
func (l *LiveMonitor) Tick(now protocol.Time) *trace.Violation {
	for {
		e, ok := l.due.front()
		if !ok {
			return nil
		}
		if l.hs[e.client] != e.hs {
			l.due.pop() // ended (or superseded): nothing to check
			continue
		}
		if now <= e.due {
			return nil
		}
		return &trace.Violation{Property: protocol.Live, T: now, RegID: uint64(e.client + 1),
			Reason: fmt.Sprintf("client %d's handshake #%d, started at %v, is still running at %v, past its budget of %v",
				e.client+1, e.hs, time.Duration(l.began[e.client]), time.Duration(now), l.budget)}
	}
}

// Finish is called when the run stops at time now with states the clients'
// control states. It reports the first handshake that can no longer end in
// time: any still running without a time bound, or past its bound.
func (l *LiveMonitor) Finish(now protocol.Time, states func(c int) protocol.ClientState) *trace.Violation {
	first, n := -1, 0
	for c, hs := range l.hs {
		if hs == 0 || l.bounded && now-l.began[c] <= protocol.Time(l.budget) {
			continue
		}
		if first < 0 {
			first = c
		}
		n++
	}
	if first < 0 {
		return nil
	}
	why := "never ended: nothing left could end it"
	if l.bounded {
		why = fmt.Sprintf("is past its budget of %v", l.budget)
	}
	return &trace.Violation{Property: protocol.Live, T: now, RegID: uint64(first + 1),
		Reason: fmt.Sprintf("client %d's handshake #%d, started at %v and still in %v when the run stopped at %v, %s (%d handshake(s) in all)",
			first+1, l.hs[first], time.Duration(l.began[first]), states(first), time.Duration(now), why, n)}
}

// Running returns how many handshakes are in progress.
func (l *LiveMonitor) Running() int {
	n := 0
	for _, hs := range l.hs {
		if hs != 0 {
			n++
		}
	}
	return n
}

// DefaultHalfOpenCap is the bound BOUNDED holds a server without a cap
// to: the hardened profile's cap (1024).
var DefaultHalfOpenCap = protocol.Hardened().HalfOpenCap

// BoundedMonitor checks BOUNDED: the server's half-open sessions never
// exceed the cap, under any flood (docs/properties.md). Cap is the profile's
// cap; a profile without one (zero: the patent, the no-session-cap
// variant) is held to DefaultHalfOpenCap, since "no cap" is no bound at
// all and a flood then grows the server's memory without limit.
type BoundedMonitor struct{ Cap int }

// Observe checks the server's half-open count after a step.
func (b BoundedMonitor) Observe(halfOpen int) *trace.Violation {
	limit := b.Cap
	if limit == 0 {
		limit = DefaultHalfOpenCap
	}
	if halfOpen <= limit {
		return nil
	}
	why := fmt.Sprintf("over its cap of %d", b.Cap)
	if b.Cap == 0 {
		why = fmt.Sprintf("over %d: the profile sets no cap, and a server without one is held to hardened's default cap", limit)
	}
	return &trace.Violation{Property: protocol.Bounded,
		Reason: fmt.Sprintf("the server holds %d half-open sessions, %s", halfOpen, why)}
}

// ForgeMonitor checks FORGE (docs/properties.md): guessed tokens accepted per
// forgery attempt stay under the bound the token length sets
// (adversary.ForgeBound, 2^-64: what 128-bit tokens give). It reads the
// world's counters (Counters.ForgeGuesses, ForgeAccepted), which count
// deliveries of injections marked as guesses (Step.Guess), so a replayed
// trace finds what the run found. Any accepted guess puts the rate above
// the bound in a run of feasible length, and is reported at its step.
type ForgeMonitor struct {
	// TokenBits is the profile's token length, for the report.
	TokenBits int
}

// Observe checks step result r of world w: a delivered guess that was
// accepted may break FORGE.
func (f ForgeMonitor) Observe(w *World, r *Result) *trace.Violation {
	if r.Kind != StepDeliver || r.Recv.From != FromAdversary || !r.Recv.Guess || r.Err != nil || r.Lost {
		return nil
	}
	c := &w.Counters
	if adversary.ForgeWithin(c.ForgeGuesses, c.ForgeAccepted) {
		return nil
	}
	v := f.violation(c, fmt.Sprintf("an injected %v to RegID %d carrying a guessed token was accepted", r.Recv.Msg.Kind, r.Recv.Msg.RegID))
	if w.Honest(r.Recv.Msg.RegID) {
		v.RegID = uint64(r.Recv.Msg.RegID)
	}
	return v
}

// Finish checks the statistic when the run stops.
func (f ForgeMonitor) Finish(w *World) *trace.Violation {
	c := &w.Counters
	if adversary.ForgeWithin(c.ForgeGuesses, c.ForgeAccepted) {
		return nil
	}
	return f.violation(c, "when the run stopped")
}

func (f ForgeMonitor) violation(c *Counters, what string) *trace.Violation {
	return &trace.Violation{Property: protocol.Forge,
		Reason: fmt.Sprintf("%s: %d of %d guesses accepted (rate %.3g, over the bound 2^%d; %d-bit tokens give 2^-%d a guess)",
			what, c.ForgeAccepted, c.ForgeGuesses, float64(c.ForgeAccepted)/float64(c.ForgeGuesses),
			int(math.Log2(adversary.ForgeBound)), f.TokenBits, f.TokenBits)}
}

// DeliverMonitor checks DELIVER: in a run without loss and without an
// adversary, every command issued on a verified session is executed by its
// client (at most once is CMD's to check) — unless the client has left
// that session, by starting another handshake, before the command reaches
// it: the client then holds another Ts, or none, and re-keying is the
// client's choice, not a fault. The push platform does not keep order, so
// a command may reach its client before the Confirm2 of its session.
//
// The monitor follows each command from its Issued claim to its Executed
// one. A command its client refuses while still holding the command's Ts
// is lost unless a copy of it is executed later; it is lost for good once
// the client starts another handshake, or when the run ends. The first
// lost command, in the order of the refusals, is reported when the run
// ends. The first drop, corruption, undeliverable push or injection turns
// the monitor off: DELIVER is not asked of a run with loss or an
// adversary. Commands still in flight when the run stops are not judged.
type DeliverMonitor struct {
	off     bool
	pending [][]command // by RegID-1: issued, neither executed nor left behind
	issued  uint64      // commands issued while the monitor was on
	lost    uint64
	first   command // the lost command refused first
	firstID protocol.RegID
	left    uint64 // commands that reached a client that had left their session
}

// command is an issued command of a RegID on its way to the client.
type command struct {
	ts      protocol.Token
	seq     uint32
	issued  uint64 // the step that issued it
	refused uint64 // the step at which its client refused it (0: not refused)
	state   protocol.ClientState
	why     error
}

// NewDeliverMonitor returns a DELIVER monitor for clients honest clients.
func NewDeliverMonitor(clients int) *DeliverMonitor {
	return &DeliverMonitor{pending: make([][]command, clients)}
}

// Checked reports whether DELIVER is still asked of the run: no message
// has been lost and the adversary has not moved.
func (d *DeliverMonitor) Checked() bool { return !d.off }

// Left is the number of commands that reached a client after it had left
// their session (which DELIVER does not count as lost).
func (d *DeliverMonitor) Left() uint64 { return d.left }

// Observe follows step n, which w took with result r.
func (d *DeliverMonitor) Observe(w *World, n uint64, r *Result) {
	if d.off {
		return
	}
	switch {
	case r.Kind == StepDrop || r.Kind == StepCorrupt || r.Kind == StepInject || r.Lost:
		d.off, d.pending = true, nil
		return
	case r.Role != protocol.RoleClient && r.Role != protocol.RoleServer:
		return
	case !w.Honest(r.RegID):
		return
	}
	i := int(r.RegID - 1)
	for _, c := range r.ClaimList() {
		switch c.Kind {
		case protocol.Issued:
			d.issued++
			d.pending[i] = append(d.pending[i], command{ts: c.Ts, seq: c.Seq, issued: n})
		case protocol.Executed:
			if k := d.find(i, c.Ts, c.Seq, true); k >= 0 {
				d.pending[i] = slices.Delete(d.pending[i], k, k+1)
			}
		}
	}
	switch {
	case r.Role != protocol.RoleClient:
	case r.Kind == StepStart && r.Err == nil:
		// The client leaves its session: what it refused is lost for good.
		d.pending[i] = slices.DeleteFunc(d.pending[i], func(c command) bool {
			if c.refused != 0 {
				d.lose(r.RegID, c)
			}
			return c.refused != 0
		})
	case r.Kind == StepDeliver && r.Err != nil && r.Recv.Msg.Kind == protocol.Command:
		m := &r.Recv.Msg
		k := d.find(i, m.Ts, m.Seq, false)
		switch {
		case k < 0:
			// A copy of a command executed or refused already.
		case !w.Clients[i].Ts.Equal(m.Ts):
			d.left++
			d.pending[i] = slices.Delete(d.pending[i], k, k+1)
		default:
			c := &d.pending[i][k]
			c.refused, c.state, c.why = n, r.Before, r.Err
		}
	}
}

// find returns the index of RegID i+1's pending command (ts, seq), one
// already refused only if refused is true, or -1.
func (d *DeliverMonitor) find(i int, ts protocol.Token, seq uint32, refused bool) int {
	for k, c := range d.pending[i] {
		if c.ts == ts && c.seq == seq && (refused || c.refused == 0) {
			return k
		}
	}
	return -1
}

func (d *DeliverMonitor) lose(id protocol.RegID, c command) {
	d.lost++
	if d.firstID == 0 || c.refused < d.first.refused {
		d.first, d.firstID = c, id
	}
}

// Finish is called when the run stops: every command refused and not
// executed since is lost.
func (d *DeliverMonitor) Finish() *trace.Violation {
	if d.off {
		return nil
	}
	for i, list := range d.pending {
		for _, c := range list {
			if c.refused != 0 {
				d.lose(protocol.RegID(i+1), c)
			}
		}
		d.pending[i] = slices.DeleteFunc(list, func(c command) bool { return c.refused != 0 })
	}
	if d.lost == 0 {
		return nil
	}
	c := d.first
	claim := trace.ClaimOf(protocol.Claim{Kind: protocol.Issued, Role: protocol.RoleServer, RegID: d.firstID, Ts: c.ts, Seq: c.seq})
	return &trace.Violation{Property: protocol.Deliver, RegID: uint64(d.firstID), Claim: &claim,
		Reason: fmt.Sprintf("command %d to RegID %d, issued at step %d, reached its client at step %d while it was in %v, was refused (%v) and never executed: %d of %d commands issued were lost so, with no message lost and no adversary",
			c.seq, d.firstID, c.issued, c.refused, c.state, c.why, d.lost, d.issued)}
}

// Monitors bundles the online checks of a run over one world. The random
// scheduler and replay feed it every step the same way, so a replay finds
// the same violation at the same step.
type Monitors struct {
	Auth    *AuthMonitor
	Live    *LiveMonitor
	Bounded BoundedMonitor
	Forge   ForgeMonitor
	Deliver *DeliverMonitor
}

// NewMonitors returns the monitors for a world of clients under p; window
// is the AuthMonitor's retirement window (0: never retire).
func NewMonitors(p protocol.Profile, clients int, window time.Duration) *Monitors {
	budget, bounded := LiveBudget(p)
	return &Monitors{Auth: NewAuthMonitor(clients, window), Live: NewLiveMonitor(clients, budget, bounded),
		Bounded: BoundedMonitor{Cap: p.HalfOpenCap}, Forge: ForgeMonitor{TokenBits: p.TokenBits},
		Deliver: NewDeliverMonitor(clients)}
}

// Tick is called before step n+1 is taken at time at.
func (m *Monitors) Tick(n uint64, at protocol.Time) *trace.Violation {
	v := m.Live.Tick(at)
	if v != nil {
		v.Step = n
	}
	return v
}

// Observe checks step n, which w took with result r.
func (m *Monitors) Observe(w *World, n uint64, r *Result) *trace.Violation {
	m.Deliver.Observe(w, n, r)
	v := m.observe(w, r)
	if v != nil {
		v.Step, v.T = n, w.Now
	}
	return v
}

func (m *Monitors) observe(w *World, r *Result) *trace.Violation {
	// FORGE first: an accepted guess usually completes an AUTH or CMD
	// violation in the same step (a guessed Confirm1 verifies a session
	// its client never confirmed), and the guess is the cause.
	if v := m.Forge.Observe(w, r); v != nil {
		return v
	}
	if r.Role == protocol.RoleClient {
		c := int(r.RegID - 1)
		if r.Kind == StepStart && r.Err == nil {
			m.Live.Started(c, r.HS, w.Now)
		}
		if r.Ended != Pending {
			if v := m.Live.Ended(c, w.Now); v != nil {
				return v
			}
		}
	}
	for i := range r.NClaims {
		if v := m.Auth.Observe(w.Now, &r.Claims[i]); v != nil {
			return v
		}
	}
	return m.Bounded.Observe(w.Server.HalfOpen())
}

// Finish is called when a run stops without a violation, after step n at
// time now.
func (m *Monitors) Finish(w *World, n uint64, now protocol.Time) *trace.Violation {
	v := m.Live.Finish(now, func(c int) protocol.ClientState { return w.Clients[c].State })
	if v == nil {
		v = m.Forge.Finish(w)
		if v == nil {
			v = m.Deliver.Finish()
		}
		if v != nil {
			v.T = now
		}
	}
	if v != nil {
		v.Step = n
	}
	return v
}
