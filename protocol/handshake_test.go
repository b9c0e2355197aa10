package protocol_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	. "github.com/verishake/verishake/protocol"
)

// step is one line of a transcript: what a side received (or did) and what it
// must send and claim in answer.
type transcript struct {
	t      *testing.T
	h      *Handshake
	tokens *SymbolicTokens
	client Client
	server *Server
}

func newTranscript(t *testing.T, p Profile) *transcript {
	return &transcript{t: t, h: p.MustCompile(), tokens: &SymbolicTokens{}, client: NewClient(7), server: NewServer()}
}

func (tr *transcript) expect(out Output, send Message, claims ...Claim) {
	tr.t.Helper()
	require.NoError(tr.t, out.Err)
	require.Equal(tr.t, send, out.Send)
	require.Equal(tr.t, claims, nonNil(out.ClaimList()))
}

func (tr *transcript) reject(out Output, err error) {
	tr.t.Helper()
	require.ErrorIs(tr.t, out.Err, err)
	require.Zero(tr.t, out.Send)
	require.Empty(tr.t, out.ClaimList())
}

func nonNil(c []Claim) []Claim {
	if len(c) == 0 {
		return nil
	}
	return c
}

var (
	tc = Symbolic(1)
	ts = Symbolic(2)
)

func TestHandshakeTranscriptHardened(t *testing.T) {
	tr := newTranscript(t, Hardened())
	c, s, h := &tr.client, tr.server, tr.h

	hello := Message{Kind: Hello, RegID: 7, Tc: tc}
	tr.expect(c.Start(h, 0, tr.tokens), hello)
	require.Equal(t, AwaitValidation, c.State)
	require.Equal(t, Time(time.Second), c.Deadline, "first retransmission after Backoff")

	validation := Message{Kind: Validation, RegID: 7, Tc: tc, Ts: ts}
	tr.expect(s.Handle(h, 10, hello, tr.tokens), validation)
	require.Equal(t, 1, s.HalfOpen())

	confirm1 := Message{Kind: Confirm1, RegID: 7, Ts: ts}
	tr.expect(c.Handle(h, 20, validation), confirm1,
		Claim{Kind: Running, Role: RoleClient, RegID: 7, Tc: tc, Ts: ts})
	require.Equal(t, AwaitConfirm2, c.State)

	confirm2 := Message{Kind: Confirm2, RegID: 7, Ts: ts}
	tr.expect(s.Handle(h, 30, confirm1, tr.tokens), confirm2,
		Claim{Kind: Running, Role: RoleServer, RegID: 7, Tc: tc, Ts: ts},
		Claim{Kind: Commit, Role: RoleServer, RegID: 7, Tc: tc, Ts: ts})
	require.Equal(t, 0, s.HalfOpen())

	tr.expect(c.Handle(h, 40, confirm2), Message{},
		Claim{Kind: Commit, Role: RoleClient, RegID: 7, Tc: tc, Ts: ts})
	require.Equal(t, ClientVerified, c.State)
	require.Equal(t, Never, c.Deadline)

	cmd := Message{Kind: Command, RegID: 7, Ts: ts, Seq: 1, Payload: "ring"}
	tr.expect(s.Issue(h, 50, 7, "ring"), cmd, Claim{Kind: Issued, Role: RoleServer, RegID: 7, Ts: ts, Seq: 1})
	tr.expect(c.Handle(h, 60, cmd), Message{}, Claim{Kind: Executed, Role: RoleClient, RegID: 7, Ts: ts, Seq: 1})
	tr.reject(c.Handle(h, 70, cmd), ErrRepeatedSeq)
}

func TestHandshakeTranscriptPatent(t *testing.T) {
	tr := newTranscript(t, Patent())
	c, s, h := &tr.client, tr.server, tr.h

	hello := Message{Kind: Hello, RegID: 7, Tc: tc}
	tr.expect(c.Start(h, 0, tr.tokens), hello)
	require.Equal(t, Never, c.Deadline, "the patent's client has no timer")

	validation := Message{Kind: Validation, RegID: 7, Tc: tc, Ts: ts}
	tr.expect(s.Handle(h, 10, hello, tr.tokens), validation)
	confirm1 := Message{Kind: Confirm1, RegID: 7, Ts: ts}
	tr.expect(c.Handle(h, 20, validation), confirm1,
		Claim{Kind: Running, Role: RoleClient, RegID: 7, Tc: tc, Ts: ts})
	confirm2 := Message{Kind: Confirm2, RegID: 7, Ts: ts}
	tr.expect(s.Handle(h, 30, confirm1, tr.tokens), confirm2,
		Claim{Kind: Running, Role: RoleServer, RegID: 7, Tc: tc, Ts: ts},
		Claim{Kind: Commit, Role: RoleServer, RegID: 7, Tc: tc, Ts: ts})
	tr.expect(c.Handle(h, 40, confirm2), Message{},
		Claim{Kind: Commit, Role: RoleClient, RegID: 7, Tc: tc, Ts: ts})

	cmd := Message{Kind: Command, RegID: 7, Ts: ts, Payload: "ring"}
	tr.expect(s.Issue(h, 50, 7, "ring"), cmd, Claim{Kind: Issued, Role: RoleServer, RegID: 7, Ts: ts})
	tr.expect(c.Handle(h, 60, cmd), Message{}, Claim{Kind: Executed, Role: RoleClient, RegID: 7, Ts: ts})
	// No sequence numbers: the same command runs again.
	tr.expect(c.Handle(h, 70, cmd), Message{}, Claim{Kind: Executed, Role: RoleClient, RegID: 7, Ts: ts})
}
