package protocol

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verishake/verishake/fsm"
)

// withoutRow returns sp with the row from `from` on ev removed, failing the
// test if there is none: each test below breaks the table the code relies on.
func withoutRow[S, E comparable](t *testing.T, sp fsm.Spec[S, E], from S, ev E) fsm.Spec[S, E] {
	t.Helper()
	n := len(sp.Transitions)
	sp.Transitions = slices.DeleteFunc(slices.Clone(sp.Transitions), func(r fsm.Transition[S, E]) bool {
		return r.From == from && r.Event == ev
	})
	require.Equal(t, n-1, len(sp.Transitions), "one row %v on %v", from, ev)
	return sp
}

// requireNoTransition checks that err is the refusal of ev in state, by the
// table named machine, and still an ErrUnexpected for older callers.
func requireNoTransition(t *testing.T, err error, machine string, state, ev fmt.Stringer) {
	t.Helper()
	require.ErrorIs(t, err, ErrUnexpected)
	var nt NoTransitionError
	require.True(t, errors.As(err, &nt), "%v is a NoTransitionError", err)
	require.Equal(t, NoTransitionError{Machine: machine, State: state, Event: ev}, nt)
	require.Contains(t, err.Error(), machine)
	require.Contains(t, err.Error(), state.String())
	require.Contains(t, err.Error(), ev.String())
}

// The client decides a repeated Validation is OnDupValidation and asks the
// table; without that row the refusal names it.
func TestClientTableMismatchIsLoud(t *testing.T) {
	p := Hardened()
	h, err := compileTables(p, withoutRow(t, ClientSpec(p), AwaitConfirm2, OnDupValidation), ServerSpec(p))
	require.NoError(t, err)
	tokens := &SymbolicTokens{}
	c := NewClient(7)
	require.NoError(t, c.Start(h, 0, tokens).Err)
	v := Message{Kind: Validation, RegID: 7, Tc: c.Tc, Ts: Symbolic(50)}
	require.NoError(t, c.Handle(h, 1, v).Err)

	before := c
	out := c.Handle(h, 2, v)
	requireNoTransition(t, out.Err, "client", AwaitConfirm2, OnDupValidation)
	require.Equal(t, before, c, "a refusal leaves the client as it was")
	require.Zero(t, out.Send.Kind, "a refusal sends nothing")
}

// The slot decides a command for a verified session is Issue; without the
// row the refusal names Verified and Issue.
func TestServerTableMismatchIsLoud(t *testing.T) {
	p := Hardened()
	h, err := compileTables(p, ClientSpec(p), withoutRow(t, ServerSpec(p), SessionVerified, Issue))
	require.NoError(t, err)
	sl, ts := verifiedSlot(t, h)
	require.Equal(t, SessionVerified, sl.State)
	out := sl.Issue(h, 2, "cmd")
	requireNoTransition(t, out.Err, "server", SessionVerified, Issue)
	require.Zero(t, out.Send.Kind)
	require.Equal(t, ts, sl.Current.Ts, "the session stays")
}

// An expiry used to skip a missing row silently, leaving the session alive
// past its lifetime; now the timer's step reports it.
func TestServerExpiryMismatchIsLoud(t *testing.T) {
	p := Hardened()
	h, err := compileTables(p, ClientSpec(p), withoutRow(t, ServerSpec(p), AwaitConfirm1, ExpirePending))
	require.NoError(t, err)
	tokens := &SymbolicTokens{}
	sl := Slot{RegID: 7}
	require.NoError(t, sl.Handle(h, 0, Message{Kind: Hello, RegID: 7, Tc: Symbolic(40)}, tokens, SlotEnv{Admit: true}).Err)
	require.Equal(t, AwaitConfirm1, sl.State)

	late := Time(0).Add(p.Lifetime)
	requireNoTransition(t, sl.Expire(h, late).Err, "server", AwaitConfirm1, ExpirePending)
	requireNoTransition(t, sl.Handle(h, late, Message{Kind: Confirm1, RegID: 7, Ts: sl.Pending.Ts}, tokens, SlotEnv{}).Err,
		"server", AwaitConfirm1, ExpirePending)
	require.Equal(t, AwaitConfirm1, sl.State)
}

func verifiedSlot(t *testing.T, h *Handshake) (Slot, Token) {
	t.Helper()
	tokens := &SymbolicTokens{}
	sl := Slot{RegID: 7}
	v := sl.Handle(h, 0, Message{Kind: Hello, RegID: 7, Tc: Symbolic(40)}, tokens, SlotEnv{Admit: true})
	require.NoError(t, v.Err)
	require.NoError(t, sl.Handle(h, 1, Message{Kind: Confirm1, RegID: 7, Ts: v.Send.Ts}, tokens, SlotEnv{}).Err)
	return sl, v.Send.Ts
}

// With the shipped tables, a refusal the table decides (Start mid-handshake)
// names its row too, and refusing costs no allocation.
func TestTableRefusalNamesRowAndDoesNotAllocate(t *testing.T) {
	h := Hardened().MustCompile()
	c := NewClient(7)
	tokens := &SymbolicTokens{}
	require.NoError(t, c.Start(h, 0, tokens).Err)
	requireNoTransition(t, c.Start(h, 1, tokens).Err, "client", AwaitValidation, Start)
	allocs := testing.AllocsPerRun(100, func() { _ = c.Start(h, 1, tokens) })
	require.Zero(t, allocs)
}
