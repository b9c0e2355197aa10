package protocol_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	. "github.com/verishake/verishake/protocol"
)

// overtaken runs a handshake for RegID 7 up to the server's first command,
// holding back the Confirm2: the client still awaits it when the command
// arrives, as when the push platform delivers the later push first.
func overtaken(t *testing.T, p Profile) (tr *transcript, confirm2, cmd Message, claims []Claim) {
	t.Helper()
	tr = newTranscript(t, p)
	c, s, h := &tr.client, tr.server, tr.h
	v := s.Handle(h, 0, c.Start(h, 0, tr.tokens).Send, tr.tokens)
	c1 := c.Handle(h, 1, v.Send)
	c2 := s.Handle(h, 2, c1.Send, tr.tokens)
	issue := s.Issue(h, 3, 7, "x")
	require.NoError(t, issue.Err)
	claims = append(append(append(claims, c1.ClaimList()...), c2.ClaimList()...), issue.ClaimList()...)
	require.Equal(t, AwaitConfirm2, c.State)
	return tr, c2.Send, issue.Send, claims
}

// CommandConfirms: a Command that overtakes the Confirm2 is executed, the
// client committing first; the late Confirm2 is then a duplicate. AUTH-C
// and CMD hold over every claim made.
func TestCommandOvertakingConfirm2(t *testing.T) {
	tr, confirm2, cmd, claims := overtaken(t, Hardened())
	c, h := &tr.client, tr.h
	out := c.Handle(h, 4, cmd)
	require.NoError(t, out.Err)
	require.Equal(t, []Claim{
		{Kind: Commit, Role: RoleClient, RegID: 7, Tc: tc, Ts: ts},
		{Kind: Executed, Role: RoleClient, RegID: 7, Ts: ts, Seq: 1},
	}, out.ClaimList(), "the Commit Confirm2 would have made, then the command")
	require.Equal(t, ClientVerified, c.State)
	require.Equal(t, Never, c.Deadline, "no Confirm1 is re-sent once verified")
	claims = append(claims, out.ClaimList()...)
	require.Empty(t, CheckClaims(claims, nil), "the Commit consumes the server's Running")

	tr.reject(c.Handle(h, 5, confirm2), ErrDuplicate)
	tr.reject(c.Handle(h, 6, cmd), ErrRepeatedSeq)
}

func TestCommandOvertakingConfirm2Refused(t *testing.T) {
	off := Hardened()
	off.CommandConfirms = false
	for _, p := range []Profile{off, Patent()} {
		tr, confirm2, cmd, _ := overtaken(t, p)
		c, h := &tr.client, tr.h
		before := *c
		tr.reject(c.Handle(h, 4, cmd), ErrNotVerified)
		require.Equal(t, before, *c, "%s: the client still awaits Confirm2", p.Name)
		require.NoError(t, c.Handle(h, 5, confirm2).Err)
		require.Equal(t, ClientVerified, c.State)
	}
}

// Only a Command under the pending Ts confirms: any other Ts is no proof
// the server verified this session.
func TestCommandUnderAnotherTsConfirmsNothing(t *testing.T) {
	tr, _, cmd, _ := overtaken(t, Hardened())
	c, h := &tr.client, tr.h
	before := *c
	cmd.Ts = Symbolic(99)
	tr.reject(c.Handle(h, 4, cmd), ErrNotVerified)
	require.Equal(t, before, *c)
}

// CommandWindow: numbered commands run in any order, each once, as long as
// none is more than SeqWindow below the highest run; a Start clears the
// window with the session.
func TestCommandWindowRunsEachNumberOnce(t *testing.T) {
	tr := verifiedPair(t, Hardened())
	c, h := &tr.client, tr.h
	run := func(seq uint32) error {
		return c.Handle(h, 1, Message{Kind: Command, RegID: 7, Ts: ts, Seq: seq}).Err
	}
	order := []uint32{3, 1, 5, 2, 4, 70, 6, 69}
	for _, seq := range order {
		require.NoError(t, run(seq), "seq %d runs the first time", seq)
	}
	for _, seq := range order {
		require.ErrorIs(t, run(seq), ErrRepeatedSeq, "seq %d again", seq)
	}
	require.NoError(t, run(7), "7 is 63 below 70: still in the window")
	require.ErrorIs(t, run(7), ErrRepeatedSeq)
	require.ErrorIs(t, run(5), ErrRepeatedSeq)
	require.ErrorIs(t, run(0), ErrRepeatedSeq, "no command has number 0")
	require.NoError(t, run(200))
	require.ErrorIs(t, run(135), ErrRepeatedSeq, "65 below the last: out of the window")
	require.NoError(t, run(136), "64 below the last: the window's oldest")
	require.ErrorIs(t, run(136), ErrRepeatedSeq)
	require.ErrorIs(t, run(70), ErrRepeatedSeq, "far below")

	require.NoError(t, c.Start(h, 2, tr.tokens).Err)
	require.Zero(t, c.LastSeq)
	require.Zero(t, c.Below, "a new session starts with an empty window")
}
