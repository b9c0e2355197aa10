package protocol

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"
)

// Hooks replace the verdicts of the machines' checks, so that a variant can
// change behaviour no knob reaches ("accept a Confirm2 carrying any token")
// in a few lines of its own package. Each field is one decision point, named
// after the check it makes; its doc says what the built-in check is and why
// it is there. A hook is shown the machine as it is, the message and the
// built-in verdict, and returns the verdict the machine acts on. A nil hook
// is the built-in check.
//
// A hook must be a function of what it is shown: no clock, no randomness,
// no state outside the Ext it is handed (the explorer assumes a step is a
// function of the world). It uses tokens only through Equal and IsZero, and
// keeps tokens only in Ext.Tokens, so that the explorer's renaming of
// symbolic tokens stays sound; and it treats every RegID alike, so that
// its merging of worlds that differ only in which client is which
// (explore.Config.Symmetry) does too. Every machine of a Handshake runs
// the same hooks, from as many goroutines as drive them.
//
// Hooks are code, not knobs: a trace records which are set but cannot carry
// them, so a trace of a hooked profile does not replay, and package
// transport's HTTP server refuses a profile with server hooks (its session
// stores do not keep Slot.Ext).
type Hooks struct {
	// Client decision points (see ClientHook).

	// ValidationTc decides whether a Validation answers our Hello. Built in:
	// it echoes the pending Tc (any Tc under SkipClientTokenCheck), since
	// anyone can push to our RegID but only the server saw our Tc.
	ValidationTc ClientHook
	// Confirm2Ts decides whether a Confirm2 ends our handshake verified.
	// Built in: it carries the Ts we confirmed, the server's answer to our
	// Confirm1 and to no other.
	Confirm2Ts ClientHook
	// CommandTs decides whether a Command comes from our server. Built in:
	// it carries the verified session's Ts, the only mark of the server's.
	CommandTs ClientHook
	// CommandSeq decides whether a Command is new. Built in: its Seq is
	// above the last executed (Client.LastSeq), so a duplicate or a replay
	// runs once; true for every command when the profile does not number
	// them. When it does, Client.LastSeq becomes the highest Seq executed.
	CommandSeq ClientHook

	// Server decision points (see SlotHook).

	// Confirm1Ts decides whether a Confirm1 verifies the RegID's pending
	// session. Built in: it carries that session's Ts (any Ts under
	// SkipServerTokenCheck; any pending session's under UnboundRegID),
	// since the Ts went only to the device holding the RegID. It is asked
	// only when the slot has a pending session.
	Confirm1Ts SlotHook
	// HelloTs chooses the Ts of the session a Hello with a new Tc opens, ts
	// being the fresh one drawn (or the static one). Built in: ts, so that
	// no earlier Validation answers for the new session. Returning the zero
	// token refuses the Hello (ErrZeroToken).
	HelloTs SlotTokenHook
}

// ClientHook is a client's check: c the client before the step (a copy), ext
// its hook state (Client.Ext), m the message, ok the built-in verdict; it
// returns the verdict the client acts on. What it writes to ext is kept
// when the client then accepts the message, and dropped when it rejects it.
type ClientHook func(c Client, ext *Ext, m Message, ok bool) bool

// SlotHook is a server slot's check: sl the slot before the step (a copy),
// st its hook state and the server's (HookState), m the message, ok the
// built-in verdict; it returns the verdict the slot acts on. What it writes
// to st is kept when the slot then accepts the message, and dropped when it
// rejects it.
type SlotHook func(sl Slot, st *HookState, m Message, ok bool) bool

// SlotTokenHook is a server slot's choice of a token: as SlotHook, with ts
// the built-in choice, and the token the slot uses returned.
type SlotTokenHook func(sl Slot, st *HookState, m Message, ts Token) Token

// ExtTokens and ExtWords size Ext.
const (
	ExtTokens = 2
	ExtWords  = 2
)

// Ext is state a variant's hooks keep in a machine: Client.Ext, Slot.Ext
// and, server-wide, Server.Ext. It is zero unless a hook writes it, and only
// hooks read it; the simulator's fingerprints and snapshots carry it, so
// worlds that differ in it are different states.
//
// A token goes in Tokens, where the explorer renames it with the world's
// other tokens. Words hold counts, flags and bitmaps, hashed as they are:
// never a token or a RegID (renaming clients under symmetry reduction
// would not reach a RegID kept in a word, and would merge worlds that
// differ).
type Ext struct {
	Tokens [ExtTokens]Token
	Words  [ExtWords]uint64
}

// IsZero reports whether e is all zero, as it is until a hook writes it.
// It is asked on every fingerprint and snapshot of a world, so it
// compares word by word rather than through the runtime's memequal.
func (e *Ext) IsZero() bool {
	or := e.Words[0] | e.Words[1]
	for i := range e.Tokens {
		t := &e.Tokens[i]
		or |= binary.LittleEndian.Uint64(t[:8]) | binary.LittleEndian.Uint64(t[8:])
	}
	return or == 0
}

// HookState is what a server hook may change — the slot's Ext and the
// server's — and its window on the rest of the server.
type HookState struct {
	// Slot is the slot's hook state (Slot.Ext).
	Slot Ext
	// Server is the server-wide hook state (Server.Ext). A slot driven
	// outside a Server (Slot.Handle with a SlotEnv of the caller's own) has
	// none: Server starts zero on every step and its changes are dropped.
	Server Ext
	// own is the slot's pending Ts (zero: none), for PendingTs outside a
	// Server. A copy, not the slot: a pointer here would move every slot
	// a step touches to the heap, hooked or not.
	own    Token
	server *Server // nil outside a Server
}

// PendingTs reports whether some RegID's pending session, the slot's own
// included, has Ts ts. A slot driven outside a Server sees only its own.
func (st *HookState) PendingTs(ts Token) bool {
	if st.server != nil {
		return st.server.PendingTs(ts)
	}
	return !st.own.IsZero() && st.own.Equal(ts)
}

// hookNames are the decision points in Hooks' order, for traces and errors.
var hookNames = [...]string{"ValidationTc", "Confirm2Ts", "CommandTs", "CommandSeq", "Confirm1Ts", "HelloTs"}

// set lists which hooks are set, in hookNames' order.
func (h *Hooks) set() []bool {
	return []bool{h.ValidationTc != nil, h.Confirm2Ts != nil, h.CommandTs != nil, h.CommandSeq != nil, h.Confirm1Ts != nil, h.HelloTs != nil}
}

// Names lists the decision points h sets.
func (h Hooks) Names() []string {
	var names []string
	for i, set := range h.set() {
		if set {
			names = append(names, hookNames[i])
		}
	}
	return names
}

// IsZero reports whether h sets no hook: the profile runs the built-in checks.
func (h Hooks) IsZero() bool { return len(h.Names()) == 0 }

// Server reports whether h sets a server decision point.
func (h Hooks) Server() bool { return h.Confirm1Ts != nil || h.HelloTs != nil }

// Then returns h followed by next: at each decision point both set, next
// is shown h's verdict as the built-in one; where one is set, it alone.
// Variant.Of stacks a variant's hooks on the profile's this way.
func (h Hooks) Then(next Hooks) Hooks {
	return Hooks{
		ValidationTc: thenClient(h.ValidationTc, next.ValidationTc),
		Confirm2Ts:   thenClient(h.Confirm2Ts, next.Confirm2Ts),
		CommandTs:    thenClient(h.CommandTs, next.CommandTs),
		CommandSeq:   thenClient(h.CommandSeq, next.CommandSeq),
		Confirm1Ts:   thenSlot(h.Confirm1Ts, next.Confirm1Ts),
		HelloTs:      thenHello(h.HelloTs, next.HelloTs),
	}
}

func thenClient(first, next ClientHook) ClientHook {
	switch {
	case first == nil:
		return next
	case next == nil:
		return first
	}
	return func(c Client, ext *Ext, m Message, ok bool) bool {
		return next(c, ext, m, first(c, ext, m, ok))
	}
}

func thenSlot(first, next SlotHook) SlotHook {
	switch {
	case first == nil:
		return next
	case next == nil:
		return first
	}
	return func(sl Slot, st *HookState, m Message, ok bool) bool {
		return next(sl, st, m, first(sl, st, m, ok))
	}
}

func thenHello(first, next SlotTokenHook) SlotTokenHook {
	switch {
	case first == nil:
		return next
	case next == nil:
		return first
	}
	return func(sl Slot, st *HookState, m Message, ts Token) Token {
		return next(sl, st, m, first(sl, st, m, ts))
	}
}

// MarshalJSON records which decision points are set, as a list of their
// names: a trace's header says that its profile ran hooks.
func (h Hooks) MarshalJSON() ([]byte, error) { return json.Marshal(h.Names()) }

// UnmarshalJSON accepts an empty list only: hooks are code, which no JSON
// brings back, and a profile read without them would not be the one that
// ran.
func (h *Hooks) UnmarshalJSON(b []byte) error {
	var names []string
	if err := json.Unmarshal(b, &names); err != nil {
		return fmt.Errorf("protocol: profile hooks: %w", err)
	}
	if len(names) > 0 {
		return fmt.Errorf("protocol: profile hooks %s are code, which a trace cannot carry: run the variant from Go", strings.Join(names, ", "))
	}
	*h = Hooks{}
	return nil
}

// clientCheck runs hook, when set, on the built-in verdict ok, with ext the
// hook state it may change (a copy of c.Ext the caller keeps on accepting).
func clientCheck(hook ClientHook, c *Client, ext *Ext, m *Message, ok bool) bool {
	if hook == nil {
		return ok
	}
	return runClientHook(hook, c, ext, m, ok)
}

// runClientHook calls hook on a copy of *ext: what a hook is handed
// escapes, and the copy keeps the caller's ext, and the unhooked path, off
// the heap.
func runClientHook(hook ClientHook, c *Client, ext *Ext, m *Message, ok bool) bool {
	e := *ext
	ok = hook(*c, &e, *m, ok)
	*ext = e
	return ok
}

// runSlotHook is runClientHook for a slot's check.
func runSlotHook(hook SlotHook, sl *Slot, st *HookState, m *Message, ok bool) bool {
	s := *st
	ok = hook(*sl, &s, *m, ok)
	*st = s
	return ok
}

// runSlotTokenHook is runSlotHook for a slot's choice of a token.
func runSlotTokenHook(hook SlotTokenHook, sl *Slot, st *HookState, m *Message, ts Token) Token {
	s := *st
	ts = hook(*sl, &s, *m, ts)
	*st = s
	return ts
}
