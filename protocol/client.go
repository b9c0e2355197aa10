package protocol

import (
	"fmt"

	"github.com/verishake/verishake/fsm"
)

// ClientState is the client's control state, named after the message it awaits.
type ClientState uint8

// Client control states.
const (
	ClientIdle      ClientState = iota // no handshake yet
	AwaitValidation                    // Hello sent
	AwaitConfirm2                      // Confirm1 sent
	ClientVerified                     // Confirm2 accepted: commands under Ts are the server's
	ClientFailed                       // retries or lifetime used up
)

var clientStateNames = [...]string{"Idle", "AwaitValidation", "AwaitConfirm2", "Verified", "Failed"}

func (s ClientState) String() string {
	if int(s) < len(clientStateNames) {
		return clientStateNames[s]
	}
	return fmt.Sprintf("ClientState(%d)", uint8(s))
}

// ClientEvent is what moves the client: an input that passed its checks.
type ClientEvent uint8

// Client events.
const (
	Start           ClientEvent = iota // the app starts a handshake: send Hello
	OnValidation                       // Validation with our pending Tc: send Confirm1
	OnDupValidation                    // the same Validation again: re-send Confirm1
	OnConfirm2                         // Confirm2 with our Ts: verified
	OnCommand                          // Command under our Ts, in sequence: execute
	Retry                              // timer, retries left: re-send
	GiveUp                             // timer, retries or lifetime used up
)

var clientEventNames = [...]string{"Start", "Validation", "DupValidation", "Confirm2", "Command", "Retry", "GiveUp"}

func (e ClientEvent) String() string {
	if int(e) < len(clientEventNames) {
		return clientEventNames[e]
	}
	return fmt.Sprintf("ClientEvent(%d)", uint8(e))
}

type clientMachine = fsm.Machine[ClientState, ClientEvent]

// ClientSpec is the client's transition table under p. Rows exist only for
// what the profile can do: a client without timers has no Retry, GiveUp or
// Failed.
func ClientSpec(p Profile) fsm.Spec[ClientState, ClientEvent] {
	type row = fsm.Transition[ClientState, ClientEvent]
	sp := fsm.Spec[ClientState, ClientEvent]{
		Name:    "client",
		Initial: ClientIdle,
		States:  []ClientState{ClientIdle, AwaitValidation, AwaitConfirm2, ClientVerified},
		Events:  []ClientEvent{Start, OnValidation, OnDupValidation, OnConfirm2, OnCommand},
		Transitions: []row{
			{From: ClientIdle, Event: Start, To: AwaitValidation},
			{From: AwaitValidation, Event: OnValidation, To: AwaitConfirm2},
			{From: AwaitConfirm2, Event: OnDupValidation, To: AwaitConfirm2},
			{From: AwaitConfirm2, Event: OnConfirm2, To: ClientVerified},
			{From: ClientVerified, Event: OnCommand, To: ClientVerified},
			{From: ClientVerified, Event: Start, To: AwaitValidation},
		},
	}
	if p.CommandConfirms {
		sp.Transitions = append(sp.Transitions, row{From: AwaitConfirm2, Event: OnCommand, To: ClientVerified})
	}
	if p.Retries > 0 {
		sp.Events = append(sp.Events, Retry)
		sp.Transitions = append(sp.Transitions,
			row{From: AwaitValidation, Event: Retry, To: AwaitValidation},
			row{From: AwaitConfirm2, Event: Retry, To: AwaitConfirm2})
	}
	if p.Retries > 0 || p.Lifetime > 0 {
		sp.States = append(sp.States, ClientFailed)
		sp.Events = append(sp.Events, GiveUp)
		sp.Transitions = append(sp.Transitions,
			row{From: AwaitValidation, Event: GiveUp, To: ClientFailed},
			row{From: AwaitConfirm2, Event: GiveUp, To: ClientFailed},
			row{From: ClientFailed, Event: Start, To: AwaitValidation})
	}
	return sp
}

// Client is one device's side of the handshake: a small value with no
// pointers, so a world of clients copies and hashes cheaply. Create it with
// NewClient; drive it with Start, Handle and Timeout.
type Client struct {
	RegID RegID
	State ClientState
	Tc    Token // the pending or current handshake's client token
	Ts    Token // the server token accepted from Validation
	// Tries counts the sends of the message whose answer is awaited.
	Tries uint8
	// Deadline is when Timeout is next due; Never when none is.
	Deadline Time
	// Expires ends the handshake's lifetime; Never without one.
	Expires Time
	// LastSeq is the highest command sequence number executed in this session.
	LastSeq uint32
	// Below marks the numbers under LastSeq executed in this session
	// (CommandWindow): bit k is LastSeq-1-k.
	Below uint64
	// Ext is the state of the profile's hooks (see Hooks); the machine
	// itself never reads or changes it.
	Ext Ext
}

// NewClient returns an idle client for the device registered as id.
func NewClient(id RegID) Client {
	return Client{RegID: id, Deadline: Never, Expires: Never}
}

// Start begins a new handshake: a fresh Tc (unless the profile reuses it)
// in a Hello. Allowed when idle, verified (re-keying) or failed.
func (c *Client) Start(h *Handshake, now Time, tokens TokenSource) Output {
	to, err := c.next(h, Start)
	if err != nil {
		return c.reject(err)
	}
	if !h.profile.ReuseClientToken || c.Tc.IsZero() {
		c.Tc = h.newToken(tokens)
	}
	c.State, c.Ts, c.LastSeq, c.Below, c.Tries = to, Token{}, 0, 0, 1
	c.Expires = now.Add(h.profile.Lifetime)
	c.arm(h, now)
	return c.send(Message{Kind: Hello, RegID: c.RegID, Tc: c.Tc})
}

// Handle processes a push message delivered to this device.
func (c *Client) Handle(h *Handshake, now Time, m Message) Output {
	if m.Kind.Upstream() || !m.Kind.Valid() {
		return c.reject(ErrWrongRole)
	}
	if m.RegID != c.RegID {
		// The platform routes by RegID; anything else is a driver's mistake.
		return c.reject(ErrWrongRegID)
	}
	if c.awaiting() && now >= c.Expires {
		// Too late: the lifetime is over and the timer will give up.
		return c.reject(ErrExpired)
	}
	switch m.Kind {
	case Validation:
		return c.onValidation(h, now, m)
	case Confirm2:
		return c.onConfirm2(h, m)
	default:
		return c.onCommand(h, m)
	}
}

func (c *Client) onValidation(h *Handshake, now Time, m Message) Output {
	if c.State != AwaitValidation && c.State != AwaitConfirm2 && c.State != ClientVerified {
		return c.reject(ErrUnexpected)
	}
	// The Tc echo is what makes the Validation an answer to our Hello rather
	// than a push anyone could have sent to our RegID.
	ext := c.Ext
	tcOK := clientCheck(h.profile.Hooks.ValidationTc, c, &ext, &m, h.profile.SkipClientTokenCheck || m.Tc.Equal(c.Tc))
	switch c.State {
	case AwaitValidation:
		if !tcOK {
			return c.reject(ErrWrongTc)
		}
		if m.Ts.IsZero() {
			// A zero Ts would let any message "match" an unset field.
			return c.reject(ErrZeroToken)
		}
		to, err := c.next(h, OnValidation)
		if err != nil {
			return c.reject(err)
		}
		c.State, c.Ts, c.Tries, c.Ext = to, m.Ts, 1, ext
		c.arm(h, now)
		out := c.send(Message{Kind: Confirm1, RegID: c.RegID, Ts: c.Ts})
		out.claim(Claim{Kind: Running, Role: RoleClient, RegID: c.RegID, Tc: c.Tc, Ts: c.Ts})
		return out
	case AwaitConfirm2, ClientVerified:
		if !tcOK {
			return c.reject(ErrWrongTc)
		}
		if !m.Ts.Equal(c.Ts) {
			// Same Tc, other Ts: the server opened another session for our
			// Hello (a replayed Hello under the patent). We hold to the
			// first one; switching would let replays steer us.
			return c.reject(ErrWrongTs)
		}
		if c.State == ClientVerified {
			return c.reject(ErrDuplicate)
		}
		// Our Confirm1 may have been lost; answering again is what lets
		// the server finish.
		if _, err := c.next(h, OnDupValidation); err != nil {
			return c.reject(err)
		}
		c.Ext = ext
		return c.send(Message{Kind: Confirm1, RegID: c.RegID, Ts: c.Ts})
	}
	return c.reject(ErrUnexpected)
}

func (c *Client) onConfirm2(h *Handshake, m Message) Output {
	if c.State != AwaitConfirm2 && c.State != ClientVerified {
		return c.reject(ErrUnexpected)
	}
	// Only the Ts we confirmed makes the Confirm2 the server's answer to us.
	ext := c.Ext
	if !clientCheck(h.profile.Hooks.Confirm2Ts, c, &ext, &m, m.Ts.Equal(c.Ts)) {
		return c.reject(ErrWrongTs)
	}
	if c.State == ClientVerified {
		return c.reject(ErrDuplicate)
	}
	to, err := c.next(h, OnConfirm2)
	if err != nil {
		return c.reject(err)
	}
	c.State, c.Deadline, c.Ext = to, Never, ext
	out := c.send(Message{})
	out.claim(Claim{Kind: Commit, Role: RoleClient, RegID: c.RegID, Tc: c.Tc, Ts: c.Ts})
	return out
}

func (c *Client) onCommand(h *Handshake, m Message) Output {
	// Only the server sends a Command under Ts, and only once it has
	// verified the session: with CommandConfirms, one that overtook the
	// Confirm2 stands for it.
	confirms := c.State == AwaitConfirm2 && h.profile.CommandConfirms && m.Ts.Equal(c.Ts)
	if c.State != ClientVerified && !confirms {
		return c.reject(ErrNotVerified)
	}
	// Ts is the only thing that marks a push as the server's.
	hooks, ext := &h.profile.Hooks, c.Ext
	if !clientCheck(hooks.CommandTs, c, &ext, &m, m.Ts.Equal(c.Ts)) {
		return c.reject(ErrWrongTs)
	}
	// A number already run in this session is a duplicate or a replay.
	if !clientCheck(hooks.CommandSeq, c, &ext, &m, !h.profile.CommandSeq || c.freshSeq(h, m.Seq)) {
		return c.reject(ErrRepeatedSeq)
	}
	to, err := c.next(h, OnCommand)
	if err != nil {
		return c.reject(err)
	}
	if h.profile.CommandSeq {
		c.markSeq(h, m.Seq)
	}
	if confirms {
		c.State, c.Deadline = to, Never
	}
	c.Ext = ext
	out := c.send(Message{})
	if confirms {
		out.claim(Claim{Kind: Commit, Role: RoleClient, RegID: c.RegID, Tc: c.Tc, Ts: c.Ts})
	}
	out.claim(Claim{Kind: Executed, Role: RoleClient, RegID: c.RegID, Ts: c.Ts, Seq: m.Seq})
	return out
}

// freshSeq reports whether command number seq has not run in this session:
// it is above the last one run or, with CommandWindow, one of the
// SeqWindow numbers below it not yet run. Anything else is a duplicate or
// a replay.
func (c *Client) freshSeq(h *Handshake, seq uint32) bool {
	switch {
	case seq > c.LastSeq:
		return true
	case !h.profile.CommandWindow || seq == 0 || seq == c.LastSeq || c.LastSeq-seq > SeqWindow:
		return false
	}
	return c.Below&(1<<(c.LastSeq-1-seq)) == 0
}

// markSeq records that command number seq, fresh, has run.
func (c *Client) markSeq(h *Handshake, seq uint32) {
	if !h.profile.CommandWindow {
		c.LastSeq = max(c.LastSeq, seq) // a hook may accept an older one
		return
	}
	if seq < c.LastSeq {
		c.Below |= 1 << (c.LastSeq - 1 - seq)
		return
	}
	shift := seq - c.LastSeq
	below := uint64(0)
	if shift < SeqWindow {
		below = c.Below << shift
	}
	if c.LastSeq > 0 && shift <= SeqWindow {
		below |= 1 << (shift - 1) // the old last one
	}
	c.LastSeq, c.Below = seq, below
}

// SeqWindow is how many numbers below the last one run a CommandWindow
// client still accepts, once each.
const SeqWindow = 64

// Timeout fires the client's timer: re-send what is unanswered, or give up
// once the retries or the lifetime are used. Before Deadline it does nothing
// and answers ErrNotDue, so a driver may keep stale timer entries.
func (c *Client) Timeout(h *Handshake, now Time, tokens TokenSource) Output {
	if !c.awaiting() {
		return c.reject(ErrUnexpected)
	}
	if now < c.Deadline {
		return c.reject(ErrNotDue)
	}
	if c.GivesUp(h, now) {
		to, err := c.next(h, GiveUp)
		if err != nil {
			return c.reject(err)
		}
		c.State, c.Deadline = to, Never
		return c.send(Message{})
	}
	if _, err := c.next(h, Retry); err != nil {
		return c.reject(err)
	}
	c.Tries++
	c.arm(h, now)
	if c.State == AwaitConfirm2 {
		return c.send(Message{Kind: Confirm1, RegID: c.RegID, Ts: c.Ts})
	}
	if h.profile.NewTokenOnRetry && !h.profile.ReuseClientToken {
		c.Tc = h.newToken(tokens)
	}
	return c.send(Message{Kind: Hello, RegID: c.RegID, Tc: c.Tc})
}

// GivesUp reports whether the timer, fired at now, ends the handshake
// rather than re-sending: the lifetime is over or the retries are used.
// An explorer that bounds retransmissions asks it before firing a timer.
func (c *Client) GivesUp(h *Handshake, now Time) bool {
	return now >= c.Expires || int(c.Tries) > h.profile.Retries
}

// Awaiting reports whether a handshake is in progress.
func (c *Client) awaiting() bool { return c.State == AwaitValidation || c.State == AwaitConfirm2 }

// arm sets the deadline for the message just sent: its retransmission
// timeout, capped by the lifetime.
func (c *Client) arm(h *Handshake, now Time) {
	c.Deadline = c.Expires
	if h.profile.Retries > 0 {
		c.Deadline = min(c.Deadline, now.Add(h.profile.RetryWait(int(c.Tries))))
	}
}

// next looks ev up in the table from the current state. The checks before
// it decide the event; the table decides whether the event is allowed here,
// and a refusal is a NoTransitionError naming the state and the event.
func (c *Client) next(h *Handshake, ev ClientEvent) (ClientState, error) {
	if to, ok := h.client.Lookup(c.State, ev); ok {
		return to, nil
	}
	return c.State, h.clientRefusals.of(c.State, ev)
}

func (c *Client) send(m Message) Output { return Output{Send: m, Deadline: c.Deadline} }

func (c *Client) reject(err error) Output { return Output{Deadline: c.Deadline, Err: err} }
