package protocol

import (
	"errors"
	"fmt"
	"time"

	"github.com/verishake/verishake/fsm"
)

// DuplicateConfirm1 is what a server does with a Confirm1 for a session it
// has already verified (a retransmission, a network duplicate or a replay).
type DuplicateConfirm1 uint8

// Answers to a duplicate Confirm1.
const (
	// Reverify treats it as new: verify again, claim again, answer again.
	// The patent read literally: the server keeps no "already verified" mark.
	Reverify DuplicateConfirm1 = iota
	// Reanswer re-sends the same Confirm2 and claims nothing new, so a client
	// whose Confirm2 was lost can still finish.
	Reanswer
	// Ignore drops it without an answer.
	Ignore
)

func (d DuplicateConfirm1) String() string {
	switch d {
	case Reverify:
		return "reverify"
	case Reanswer:
		return "reanswer"
	case Ignore:
		return "ignore"
	}
	return fmt.Sprintf("DuplicateConfirm1(%d)", uint8(d))
}

// Profile is every choice the patent leaves open, as knobs. Patent and
// Hardened return the two shipped profiles; a variant is a function that
// changes a copy of one (see the variant catalog).
type Profile struct {
	// Name identifies the profile in reports, e.g. "hardened".
	Name string

	// TokenBits is the entropy of a fresh token, 1..128. Shorter tokens keep
	// their low-order bits; guessing one then succeeds with odds 2^-TokenBits.
	TokenBits int
	// Lifetime bounds a client's handshake and each server session, pending
	// or verified, from the moment it opens. Zero: nothing ever expires.
	Lifetime time.Duration
	// Retries is how many times the client re-sends a message left
	// unanswered. Zero: a lost message leaves the client waiting.
	Retries int
	// Backoff is the first retransmission timeout; each retry doubles it,
	// up to MaxBackoff when that is set.
	Backoff    time.Duration
	MaxBackoff time.Duration
	// NewTokenOnRetry makes a retransmitted Hello carry a fresh Tc instead
	// of the same one.
	NewTokenOnRetry bool
	// IdempotentHello makes the server answer a Hello whose Tc is its pending
	// session's with the same Validation, instead of opening a new session.
	IdempotentHello bool
	// DuplicateConfirm1 is the server's answer to a Confirm1 for the session
	// it has already verified.
	DuplicateConfirm1 DuplicateConfirm1
	// KeepVerifiedOnHello keeps a RegID's verified session (and its commands)
	// while a new handshake for that RegID is pending, instead of replacing
	// it the moment a Hello arrives.
	KeepVerifiedOnHello bool
	// CommandSeq numbers commands; the client executes a command only if its
	// number is above the last one it executed.
	CommandSeq bool
	// CommandWindow lets a CommandSeq client also execute a command whose
	// number is below the last one it executed, if it is one of the
	// SeqWindow numbers below and has not run yet: the push platform does
	// not keep order, and a command overtaken by a later one would
	// otherwise be refused as a repeat and lost (DELIVER). Each number
	// still runs at most once.
	CommandWindow bool
	// CommandConfirms lets a client awaiting Confirm2 take a Command that
	// carries its pending Ts for the Confirm2 it implies: it commits, as on
	// Confirm2, then executes. The server sends a Command under Ts only once
	// it has verified the session, and the push platform does not keep
	// order, so a Command pushed right after verifying may overtake the
	// Confirm2. Off: that Command is refused and lost (DELIVER).
	CommandConfirms bool
	// HalfOpenCap bounds the sessions a server keeps awaiting Confirm1.
	// Zero: no bound.
	HalfOpenCap int

	// The weakenings below are off in both shipped profiles. They exist so
	// that a variant can show what each check buys.

	// SkipClientTokenCheck: the client accepts a Validation whatever its Tc.
	SkipClientTokenCheck bool
	// SkipServerTokenCheck: the server verifies a Confirm1 whatever its Ts.
	SkipServerTokenCheck bool
	// StaticServerToken: the server hands out the same Ts for every session.
	StaticServerToken bool
	// ReuseClientToken: the client keeps its Tc for every handshake.
	ReuseClientToken bool
	// UnboundRegID: the server accepts a Confirm1 whose Ts belongs to any
	// pending session, not just the one of the RegID it names.
	UnboundRegID bool

	// Hooks replace the verdicts of the machines' checks, for changes no
	// knob makes (see Hooks). The shipped profiles set none.
	Hooks Hooks `json:"hooks,omitzero"`
}

// Patent is the four steps as written and nothing added: no timer, no
// retransmission, every Hello opens a new session that replaces the RegID's
// old one (a verified one included), every Confirm1 carrying the session's Ts
// is verified and answered again, commands carry Ts only, and nothing is
// capped or expires. The patent leaves token length open; 128 bits from the
// source is assumed, so that guessing is not what it loses.
func Patent() Profile {
	return Profile{
		Name:              "patent",
		TokenBits:         128,
		DuplicateConfirm1: Reverify,
	}
}

// Hardened is the default profile: 128-bit tokens, a 60 s session lifetime,
// eight retransmissions from 1 s with back-off doubling up to 8 s (nine
// tries a step, all inside the lifetime: 99.98% of handshakes verify at 20%
// loss each way), idempotent answers to duplicates, numbered commands run
// in any order (each once), a command that overtakes Confirm2 taken for
// it, the verified session kept during a re-handshake, and at most 1024
// half-open sessions.
func Hardened() Profile {
	return Profile{
		Name:                "hardened",
		TokenBits:           128,
		Lifetime:            time.Minute,
		Retries:             8,
		Backoff:             time.Second,
		MaxBackoff:          8 * time.Second,
		IdempotentHello:     true,
		DuplicateConfirm1:   Reanswer,
		KeepVerifiedOnHello: true,
		CommandSeq:          true,
		CommandWindow:       true,
		CommandConfirms:     true,
		HalfOpenCap:         1024,
	}
}

// ProfileByName returns a shipped profile: "patent" or "hardened".
func ProfileByName(name string) (Profile, error) {
	switch name {
	case "patent":
		return Patent(), nil
	case "hardened":
		return Hardened(), nil
	}
	return Profile{}, fmt.Errorf("protocol: unknown profile %q (want patent or hardened)", name)
}

// ErrProfile marks a profile whose knobs contradict each other.
var ErrProfile = errors.New("protocol: invalid profile")

// Validate reports knobs out of range, naming each.
func (p Profile) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w %q: "+format, append([]any{ErrProfile, p.Name}, args...)...))
	}
	if p.TokenBits < 1 || p.TokenBits > 8*TokenBytes {
		bad("TokenBits %d not in 1..128", p.TokenBits)
	}
	if p.Lifetime < 0 {
		bad("Lifetime %v is negative", p.Lifetime)
	}
	if p.Retries < 0 || p.Retries > 30 {
		bad("Retries %d not in 0..30", p.Retries)
	}
	if p.Retries > 0 && p.Backoff <= 0 {
		bad("Retries %d needs a positive Backoff", p.Retries)
	}
	if p.MaxBackoff < 0 || p.MaxBackoff > 0 && p.MaxBackoff < p.Backoff {
		bad("MaxBackoff %v below Backoff %v", p.MaxBackoff, p.Backoff)
	}
	if p.HalfOpenCap < 0 {
		bad("HalfOpenCap %d is negative", p.HalfOpenCap)
	}
	if p.DuplicateConfirm1 > Ignore {
		bad("DuplicateConfirm1 %v unknown", p.DuplicateConfirm1)
	}
	return errors.Join(errs...)
}

// RetryWait is how long the client waits for an answer after the try-th
// send of a message (from 1): Backoff doubled per earlier try, capped by
// MaxBackoff (and, for safety against overflow, by an hour).
func (p Profile) RetryWait(try int) time.Duration {
	limit := time.Hour
	if p.MaxBackoff > 0 {
		limit = min(limit, p.MaxBackoff)
	}
	wait := p.Backoff
	for i := 1; i < try && wait < limit; i++ {
		wait *= 2
	}
	return min(wait, limit)
}

// Budget is the longest a handshake can take before it ends, Verified or
// Failed: the lifetime, or without one every wait of both steps; ok is
// false when a handshake may wait for ever (no lifetime, no retries).
func (p Profile) Budget() (d time.Duration, ok bool) {
	if p.Lifetime > 0 {
		return p.Lifetime, true
	}
	if p.Retries == 0 {
		return 0, false
	}
	for try := 1; try <= p.Retries+1; try++ {
		d += p.RetryWait(try)
	}
	return 2 * d, true
}

// Handshake is a profile compiled for running: its knobs and its two
// transition tables. It is immutable and shared by every machine of a run;
// machine state holds no pointer to it, it is passed to every step instead.
type Handshake struct {
	profile Profile
	client  *clientMachine
	server  *serverMachine
	// The errors for the (state, event) pairs each table refuses.
	clientRefusals refusals[ClientState, ClientEvent]
	serverRefusals refusals[SessionState, ServerEvent]
}

// Compile validates p and builds its client and server tables.
func (p Profile) Compile() (*Handshake, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return compileTables(p, ClientSpec(p), ServerSpec(p))
}

// compileTables builds a Handshake for p from the given tables; Compile
// passes p's own, tests pass edited ones.
func compileTables(p Profile, client fsm.Spec[ClientState, ClientEvent], server fsm.Spec[SessionState, ServerEvent]) (*Handshake, error) {
	cm, err := fsm.Compile(client)
	if err != nil {
		return nil, fmt.Errorf("protocol: profile %q: client table: %w", p.Name, err)
	}
	sm, err := fsm.Compile(server)
	if err != nil {
		return nil, fmt.Errorf("protocol: profile %q: server table: %w", p.Name, err)
	}
	return &Handshake{
		profile:        p,
		client:         cm,
		server:         sm,
		clientRefusals: newRefusals(cm, len(clientStateNames), len(clientEventNames)),
		serverRefusals: newRefusals(sm, len(sessionStateNames), len(serverEventNames)),
	}, nil
}

// MustCompile is Compile for profiles known to be valid, such as the
// shipped ones; it panics on error.
func (p Profile) MustCompile() *Handshake {
	h, err := p.Compile()
	if err != nil {
		panic(err)
	}
	return h
}

// Profile returns the knobs h was compiled from.
func (h *Handshake) Profile() Profile { return h.profile }

// newToken draws a token of the profile's length, never the zero token.
// Symbolic tokens are names, not bit strings, and are kept whole.
func (h *Handshake) newToken(src TokenSource) Token {
	for {
		t := src.NewToken()
		if _, symbolic := t.Symbol(); !symbolic {
			t = t.Mask(h.profile.TokenBits)
		}
		if !t.IsZero() {
			return t
		}
	}
}

// staticToken is the one Ts of a StaticServerToken server.
var staticToken = Token{15: 0x5a}

// Output is what one step of a machine produced.
type Output struct {
	// Send is the message to send; Send.Kind is zero when there is none.
	Send Message
	// Claims made by the step, in order; see ClaimList.
	Claims  [2]Claim
	NClaims uint8
	// Deadline is when the machine next wants its timer called (Client.Timeout,
	// Server.Expire for this RegID); Never when it waits for no timer. Calling
	// early is harmless: the machine answers ErrNotDue.
	Deadline Time
	// Err says why the input was rejected; the machine is then unchanged
	// (bar lazily expired sessions). Nil when the input was accepted.
	Err error
}

// ClaimList returns the claims made, in order.
func (o *Output) ClaimList() []Claim { return o.Claims[:o.NClaims] }

func (o *Output) claim(c Claim) {
	o.Claims[o.NClaims] = c
	o.NClaims++
}

// Why a machine rejects an input. Each leaves the machine as it was.
var (
	ErrWrongTc      = errors.New("protocol: client token is not the pending handshake's")
	ErrWrongTs      = errors.New("protocol: server token is not the session's")
	ErrUnknownRegID = errors.New("protocol: no session for this RegID")
	ErrExpired      = errors.New("protocol: session expired")
	ErrDuplicate    = errors.New("protocol: duplicate of a message already acted on")
	ErrRepeatedSeq  = errors.New("protocol: command sequence number not above the last executed")
	ErrUnexpected   = errors.New("protocol: message not expected in this state")
	ErrSessionCap   = errors.New("protocol: half-open session cap reached")
	ErrNotVerified  = errors.New("protocol: no verified session")
	ErrNotDue       = errors.New("protocol: timer not due")
	ErrWrongRole    = errors.New("protocol: message kind travels the other way")
	ErrWrongRegID   = errors.New("protocol: message addressed to another RegID")
	ErrZeroToken    = errors.New("protocol: token missing (zero)")
)

// ClientMachine is the client's compiled transition table.
func (h *Handshake) ClientMachine() *fsm.Machine[ClientState, ClientEvent] { return h.client }

// ServerMachine is a server slot's compiled transition table.
func (h *Handshake) ServerMachine() *fsm.Machine[SessionState, ServerEvent] { return h.server }
