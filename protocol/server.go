package protocol

import (
	"fmt"

	"github.com/verishake/verishake/fsm"
)

// SessionState is the control state of a server's slot for one RegID.
type SessionState uint8

// Server slot states.
const (
	SessionNone     SessionState = iota // nothing kept for the RegID
	AwaitConfirm1                       // Validation sent, session pending
	SessionVerified                     // Confirm1 verified: commands go out under Ts
	// Rekeying holds a verified session and a pending one for the same
	// RegID (KeepVerifiedOnHello): a Hello alone must not cut off a client.
	Rekeying
)

var sessionStateNames = [...]string{"None", "AwaitConfirm1", "Verified", "Rekeying"}

func (s SessionState) String() string {
	if int(s) < len(sessionStateNames) {
		return sessionStateNames[s]
	}
	return fmt.Sprintf("SessionState(%d)", uint8(s))
}

// ServerEvent is what moves a server slot.
type ServerEvent uint8

// Server events.
const (
	OnHello        ServerEvent = iota // Hello with a new Tc: open a pending session
	OnDupHello                        // Hello with the pending Tc: the same Validation again
	OnConfirm1                        // Confirm1 with the pending Ts: verified
	OnDupConfirm1                     // Confirm1 with the verified Ts: the same Confirm2 again
	OnReconfirm1                      // Confirm1 with the verified Ts: verify again (patent)
	Issue                             // the service sends a command
	ExpirePending                     // the pending session's lifetime ends
	ExpireVerified                    // the verified session's lifetime ends
)

var serverEventNames = [...]string{"Hello", "DupHello", "Confirm1", "DupConfirm1", "Reconfirm1", "Issue", "ExpirePending", "ExpireVerified"}

func (e ServerEvent) String() string {
	if int(e) < len(serverEventNames) {
		return serverEventNames[e]
	}
	return fmt.Sprintf("ServerEvent(%d)", uint8(e))
}

type serverMachine = fsm.Machine[SessionState, ServerEvent]

// ServerSpec is the transition table of one RegID's slot under p.
func ServerSpec(p Profile) fsm.Spec[SessionState, ServerEvent] {
	type row = fsm.Transition[SessionState, ServerEvent]
	sp := fsm.Spec[SessionState, ServerEvent]{
		Name:    "server",
		Initial: SessionNone,
		States:  []SessionState{SessionNone, AwaitConfirm1, SessionVerified},
		Events:  []ServerEvent{OnHello},
		Transitions: []row{
			{From: SessionNone, Event: OnHello, To: AwaitConfirm1},
			{From: AwaitConfirm1, Event: OnHello, To: AwaitConfirm1},
		},
	}
	keep := p.KeepVerifiedOnHello
	// add appends one row per (from, to) pair, with the event declared once.
	add := func(ev ServerEvent, pairs ...SessionState) {
		sp.Events = append(sp.Events, ev)
		for i := 0; i+1 < len(pairs); i += 2 {
			sp.Transitions = append(sp.Transitions, row{From: pairs[i], Event: ev, To: pairs[i+1]})
		}
	}
	if keep {
		sp.States = append(sp.States, Rekeying)
		sp.Transitions = append(sp.Transitions,
			row{From: SessionVerified, Event: OnHello, To: Rekeying},
			row{From: Rekeying, Event: OnHello, To: Rekeying})
	} else {
		sp.Transitions = append(sp.Transitions, row{From: SessionVerified, Event: OnHello, To: AwaitConfirm1})
	}
	// withRekeying adds the Rekeying twin of a row when the profile has it.
	withRekeying := func(pairs ...SessionState) []SessionState {
		if keep {
			return append(pairs, Rekeying, Rekeying)
		}
		return pairs
	}
	if p.IdempotentHello {
		add(OnDupHello, withRekeying(AwaitConfirm1, AwaitConfirm1)...)
	}
	confirm := []SessionState{AwaitConfirm1, SessionVerified}
	if keep {
		confirm = append(confirm, Rekeying, SessionVerified)
	}
	add(OnConfirm1, confirm...)
	switch p.DuplicateConfirm1 {
	case Reanswer:
		add(OnDupConfirm1, withRekeying(SessionVerified, SessionVerified)...)
	case Reverify:
		add(OnReconfirm1, withRekeying(SessionVerified, SessionVerified)...)
	}
	add(Issue, withRekeying(SessionVerified, SessionVerified)...)
	if p.Lifetime > 0 {
		pending := []SessionState{AwaitConfirm1, SessionNone}
		verified := []SessionState{SessionVerified, SessionNone}
		if keep {
			pending = append(pending, Rekeying, SessionVerified)
			verified = append(verified, Rekeying, AwaitConfirm1)
		}
		add(ExpirePending, pending...)
		add(ExpireVerified, verified...)
	}
	return sp
}

// Session is one handshake as the server keeps it.
type Session struct {
	Tc, Ts  Token
	Expires Time // Never without a lifetime
}

// Slot is everything the server keeps for one RegID: a pending session, a
// verified one, or both while re-keying. It is a small value with no
// pointers; a service may keep slots in its own store and drive each with
// Handle, Issue and Expire under a per-RegID lock. Server keeps them for you.
type Slot struct {
	RegID   RegID
	State   SessionState
	Pending Session // valid in AwaitConfirm1 and Rekeying
	Current Session // valid in Verified and Rekeying
	// LastSeq is the number of the last command issued under Current.Ts.
	LastSeq uint32
	// Seen holds the client tokens of the sessions last opened for the
	// RegID, newest first. An idempotent server takes a Hello carrying one
	// of them for the late copy it is: the network reorders, and a Hello
	// from two handshakes back must not replace the pending session.
	Seen [SeenTokens]Token
	// Ext is the state of the profile's hooks (see Hooks); the machine
	// itself never reads or changes it.
	Ext Ext
}

// SeenTokens is how many past client tokens a slot remembers.
const SeenTokens = 4

// SlotEnv is what a slot needs to know of the rest of the server.
type SlotEnv struct {
	// Admit allows a new pending session: false once the half-open cap is
	// reached. Count after calling Expire on the slot, so that a session
	// past its lifetime does not hold a place.
	Admit bool
	// TsPendingElsewhere: some other RegID's pending session has the Ts of
	// the Confirm1 being handled. Only an UnboundRegID server looks.
	TsPendingElsewhere bool
	// server is the Server stepping the slot, for its hooks: what they read
	// of the other slots and the server-wide Ext they keep. Nil when the
	// caller drives the slot itself.
	server *Server
}

// HalfOpen reports whether the slot holds a session awaiting Confirm1.
func (sl *Slot) HalfOpen() bool { return sl.State == AwaitConfirm1 || sl.State == Rekeying }

// Verified reports whether the slot holds a verified session.
func (sl *Slot) Verified() bool { return sl.State == SessionVerified || sl.State == Rekeying }

// Deadline is when Expire is next due for the slot; Never if no session expires.
func (sl *Slot) Deadline() Time {
	d := Never
	if sl.HalfOpen() {
		d = sl.Pending.Expires
	}
	if sl.Verified() {
		d = min(d, sl.Current.Expires)
	}
	return d
}

// Handle processes an upstream message that names this slot's RegID.
func (sl *Slot) Handle(h *Handshake, now Time, m Message, tokens TokenSource, env SlotEnv) Output {
	if !m.Kind.Upstream() {
		return sl.reject(ErrWrongRole)
	}
	if m.RegID != sl.RegID {
		return sl.reject(ErrWrongRegID)
	}
	if m.Tc.IsZero() && m.Kind == Hello || m.Ts.IsZero() && m.Kind == Confirm1 {
		// Zero means "no token": matching it would match an empty session.
		return sl.reject(ErrZeroToken)
	}
	expired, err := sl.expireDue(h, now)
	if err != nil {
		return sl.reject(err)
	}
	if m.Kind == Hello {
		return sl.onHello(h, now, m, tokens, env)
	}
	return sl.onConfirm1(h, now, m, env, expired)
}

func (sl *Slot) onHello(h *Handshake, now Time, m Message, tokens TokenSource, env SlotEnv) Output {
	p := &h.profile
	if p.IdempotentHello {
		if sl.HalfOpen() && m.Tc.Equal(sl.Pending.Tc) {
			// A retransmitted or duplicated Hello: a new Ts would strand
			// the client on the Validation it may already hold.
			if _, err := sl.next(h, OnDupHello); err != nil {
				return sl.reject(err)
			}
			return sl.send(Message{Kind: Validation, RegID: sl.RegID, Tc: sl.Pending.Tc, Ts: sl.Pending.Ts})
		}
		for _, seen := range sl.Seen {
			if m.Tc.Equal(seen) {
				// A late copy of a Hello that opened an earlier session.
				return sl.reject(ErrDuplicate)
			}
		}
	}
	if !sl.HalfOpen() && !env.Admit {
		return sl.reject(ErrSessionCap)
	}
	to, err := sl.next(h, OnHello)
	if err != nil {
		return sl.reject(err)
	}
	ts := staticToken
	if !p.StaticServerToken {
		ts = h.newToken(tokens)
		// A Ts equal to the slot's other one would make this session's
		// Confirm1 pass for a duplicate of the old session's. Only short
		// tokens collide; a few draws settle it (a 1-bit token cannot).
		for try := 0; try < 16 && (ts.Equal(sl.Current.Ts) || ts.Equal(sl.Pending.Ts)); try++ {
			ts = h.newToken(tokens)
		}
	}
	if hook := p.Hooks.HelloTs; hook != nil {
		st := sl.hookState(env)
		if ts = runSlotTokenHook(hook, sl, &st, &m, ts); ts.IsZero() {
			return sl.reject(ErrZeroToken)
		}
		sl.keep(&st)
	}
	sl.Pending = Session{Tc: m.Tc, Ts: ts, Expires: now.Add(p.Lifetime)}
	copy(sl.Seen[1:], sl.Seen[:])
	sl.Seen[0] = m.Tc
	if !to.isVerified() {
		// The new session replaces the verified one (patent): its commands stop.
		sl.Current, sl.LastSeq = Session{}, 0
	}
	sl.State = to
	return sl.send(Message{Kind: Validation, RegID: sl.RegID, Tc: m.Tc, Ts: ts})
}

func (sl *Slot) onConfirm1(h *Handshake, now Time, m Message, env SlotEnv, expired [2]Token) Output {
	p := &h.profile
	if sl.Verified() && m.Ts.Equal(sl.Current.Ts) {
		switch p.DuplicateConfirm1 {
		case Reanswer:
			// The client's Confirm2 may have been lost: answer again, but
			// claim nothing new, so a replay verifies nothing twice.
			if _, err := sl.next(h, OnDupConfirm1); err != nil {
				return sl.reject(err)
			}
			return sl.send(Message{Kind: Confirm2, RegID: sl.RegID, Ts: sl.Current.Ts})
		case Reverify:
			if _, err := sl.next(h, OnReconfirm1); err != nil {
				return sl.reject(err)
			}
			sl.Current.Expires = now.Add(p.Lifetime)
			return sl.verified(sl.Current)
		default:
			return sl.reject(ErrDuplicate)
		}
	}
	if !sl.HalfOpen() {
		if m.Ts.Equal(expired[0]) || m.Ts.Equal(expired[1]) {
			return sl.reject(ErrExpired)
		}
		if sl.State == SessionNone {
			return sl.reject(ErrUnknownRegID)
		}
		return sl.reject(ErrWrongTs)
	}
	// The Ts, sent only to the RegID's device, is the proof that the
	// Confirm1 comes from the holder of that RegID.
	tsOK := p.SkipServerTokenCheck || m.Ts.Equal(sl.Pending.Ts) || p.UnboundRegID && env.TsPendingElsewhere
	to, refused := sl.next(h, OnConfirm1)
	if hook := p.Hooks.Confirm1Ts; hook != nil {
		st := sl.hookState(env)
		if tsOK = runSlotHook(hook, sl, &st, &m, tsOK); tsOK && refused == nil {
			sl.keep(&st)
		}
	}
	if !tsOK {
		if m.Ts.Equal(expired[0]) || m.Ts.Equal(expired[1]) {
			return sl.reject(ErrExpired)
		}
		return sl.reject(ErrWrongTs)
	}
	if refused != nil {
		return sl.reject(refused)
	}
	sl.State, sl.LastSeq = to, 0
	sl.Current = Session{Tc: sl.Pending.Tc, Ts: sl.Pending.Ts, Expires: now.Add(p.Lifetime)}
	sl.Pending = Session{}
	return sl.verified(sl.Current)
}

// hookState is the hook state of the slot's step under env: the slot's Ext
// and, when a Server steps the slot, the server's.
func (sl *Slot) hookState(env SlotEnv) HookState {
	st := HookState{Slot: sl.Ext, server: env.server}
	if sl.HalfOpen() {
		st.own = sl.Pending.Ts
	}
	if env.server != nil {
		st.Server = env.server.Ext
	}
	return st
}

// keep stores what the hooks changed, once the step accepts its input.
func (sl *Slot) keep(st *HookState) {
	sl.Ext = st.Slot
	if st.server != nil {
		st.server.Ext = st.Server
	}
}

// verified answers a verified Confirm1 with Confirm2 and the server's claims.
func (sl *Slot) verified(s Session) Output {
	out := sl.send(Message{Kind: Confirm2, RegID: sl.RegID, Ts: s.Ts})
	out.claim(Claim{Kind: Running, Role: RoleServer, RegID: sl.RegID, Tc: s.Tc, Ts: s.Ts})
	out.claim(Claim{Kind: Commit, Role: RoleServer, RegID: sl.RegID, Tc: s.Tc, Ts: s.Ts})
	return out
}

// Issue sends a command under the verified session's Ts.
func (sl *Slot) Issue(h *Handshake, now Time, payload string) Output {
	if _, err := sl.expireDue(h, now); err != nil {
		return sl.reject(err)
	}
	if !sl.Verified() {
		return sl.reject(ErrNotVerified)
	}
	if _, err := sl.next(h, Issue); err != nil {
		return sl.reject(err)
	}
	sl.LastSeq++
	var seq uint32
	if h.profile.CommandSeq {
		seq = sl.LastSeq
	}
	out := sl.send(Message{Kind: Command, RegID: sl.RegID, Ts: sl.Current.Ts, Seq: seq, Payload: payload})
	out.claim(Claim{Kind: Issued, Role: RoleServer, RegID: sl.RegID, Ts: sl.Current.Ts, Seq: seq})
	return out
}

// Expire ends the sessions whose lifetime is over. Before any is due it does
// nothing and answers ErrNotDue, so a driver may keep stale timer entries.
func (sl *Slot) Expire(h *Handshake, now Time) Output {
	switch e, err := sl.expireDue(h, now); {
	case err != nil:
		return sl.reject(err)
	case e == [2]Token{}:
		return sl.reject(ErrNotDue)
	}
	return sl.send(Message{})
}

// expireDue drops the sessions whose lifetime is over and returns their Ts
// (pending, verified; zero where none expired). A session due to expire in
// a state whose table has no expiry row is an error, and the session stays.
func (sl *Slot) expireDue(h *Handshake, now Time) ([2]Token, error) {
	var expired [2]Token
	if sl.HalfOpen() && now >= sl.Pending.Expires {
		to, err := sl.next(h, ExpirePending)
		if err != nil {
			return expired, err
		}
		expired[0] = sl.Pending.Ts
		sl.State, sl.Pending = to, Session{}
	}
	if sl.Verified() && now >= sl.Current.Expires {
		to, err := sl.next(h, ExpireVerified)
		if err != nil {
			return expired, err
		}
		expired[1] = sl.Current.Ts
		sl.State, sl.Current, sl.LastSeq = to, Session{}, 0
	}
	return expired, nil
}

func (s SessionState) isVerified() bool { return s == SessionVerified || s == Rekeying }

// next looks ev up in the table from the slot's state, as Client.next does
// for the client.
func (sl *Slot) next(h *Handshake, ev ServerEvent) (SessionState, error) {
	if to, ok := h.server.Lookup(sl.State, ev); ok {
		return to, nil
	}
	return sl.State, h.serverRefusals.of(sl.State, ev)
}

func (sl *Slot) send(m Message) Output { return Output{Send: m, Deadline: sl.Deadline()} }

func (sl *Slot) reject(err error) Output { return Output{Deadline: sl.Deadline(), Err: err} }
