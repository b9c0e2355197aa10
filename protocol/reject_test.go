package protocol_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	. "github.com/verishake/verishake/protocol"
)

// verifiedPair runs one clean handshake for RegID 7 and returns both sides.
func verifiedPair(t *testing.T, p Profile) *transcript {
	t.Helper()
	tr := newTranscript(t, p)
	c, s, h := &tr.client, tr.server, tr.h
	v := s.Handle(h, 0, c.Start(h, 0, tr.tokens).Send, tr.tokens).Send
	c1 := c.Handle(h, 0, v).Send
	c2 := s.Handle(h, 0, c1, tr.tokens).Send
	require.NoError(t, c.Handle(h, 0, c2).Err)
	require.Equal(t, ClientVerified, c.State)
	return tr
}

func TestClientRejects(t *testing.T) {
	h := Hardened().MustCompile()
	started := func() (Client, *SymbolicTokens) {
		tok := &SymbolicTokens{}
		c := NewClient(7)
		c.Start(h, 0, tok) // Tc = #1
		return c, tok
	}
	t.Run("Validation with another Tc", func(t *testing.T) {
		c, _ := started()
		before := c
		out := c.Handle(h, 1, Message{Kind: Validation, RegID: 7, Tc: Symbolic(99), Ts: Symbolic(2)})
		require.ErrorIs(t, out.Err, ErrWrongTc)
		require.Equal(t, before, c, "a rejection leaves the machine unchanged")
	})
	t.Run("Validation for our Tc but another session's Ts", func(t *testing.T) {
		c, _ := started()
		require.NoError(t, c.Handle(h, 1, Message{Kind: Validation, RegID: 7, Tc: tc, Ts: ts}).Err)
		out := c.Handle(h, 2, Message{Kind: Validation, RegID: 7, Tc: tc, Ts: Symbolic(3)})
		require.ErrorIs(t, out.Err, ErrWrongTs)
	})
	t.Run("duplicate Validation before verification re-sends Confirm1, claims nothing", func(t *testing.T) {
		c, _ := started()
		v := Message{Kind: Validation, RegID: 7, Tc: tc, Ts: ts}
		first := c.Handle(h, 1, v)
		require.Len(t, first.ClaimList(), 1)
		out := c.Handle(h, 2, v)
		require.NoError(t, out.Err)
		require.Equal(t, Message{Kind: Confirm1, RegID: 7, Ts: ts}, out.Send)
		require.Empty(t, out.ClaimList())
	})
	t.Run("Confirm2 with another Ts", func(t *testing.T) {
		c, _ := started()
		c.Handle(h, 1, Message{Kind: Validation, RegID: 7, Tc: tc, Ts: ts})
		require.ErrorIs(t, c.Handle(h, 2, Message{Kind: Confirm2, RegID: 7, Ts: Symbolic(5)}).Err, ErrWrongTs)
		require.Equal(t, AwaitConfirm2, c.State)
	})
	t.Run("Confirm2 before any Validation", func(t *testing.T) {
		c, _ := started()
		require.ErrorIs(t, c.Handle(h, 1, Message{Kind: Confirm2, RegID: 7, Ts: ts}).Err, ErrUnexpected)
	})
	t.Run("duplicates after verification", func(t *testing.T) {
		tr := verifiedPair(t, Hardened())
		c := &tr.client
		require.ErrorIs(t, c.Handle(tr.h, 1, Message{Kind: Validation, RegID: 7, Tc: tc, Ts: ts}).Err, ErrDuplicate)
		require.ErrorIs(t, c.Handle(tr.h, 1, Message{Kind: Confirm2, RegID: 7, Ts: ts}).Err, ErrDuplicate)
	})
	t.Run("Command with a wrong Ts", func(t *testing.T) {
		tr := verifiedPair(t, Hardened())
		out := tr.client.Handle(tr.h, 1, Message{Kind: Command, RegID: 7, Ts: Symbolic(9), Seq: 1})
		require.ErrorIs(t, out.Err, ErrWrongTs)
	})
	t.Run("Command with a repeated Seq under hardened", func(t *testing.T) {
		tr := verifiedPair(t, Hardened())
		cmd := Message{Kind: Command, RegID: 7, Ts: ts, Seq: 2}
		require.NoError(t, tr.client.Handle(tr.h, 1, cmd).Err)
		require.ErrorIs(t, tr.client.Handle(tr.h, 2, cmd).Err, ErrRepeatedSeq)
		cmd.Seq = 1 // an older command delivered late runs, once (CommandWindow)
		require.NoError(t, tr.client.Handle(tr.h, 3, cmd).Err)
		require.ErrorIs(t, tr.client.Handle(tr.h, 4, cmd).Err, ErrRepeatedSeq)
	})
	t.Run("Command with an older Seq without CommandWindow", func(t *testing.T) {
		p := Hardened()
		p.CommandWindow = false
		tr := verifiedPair(t, p)
		require.NoError(t, tr.client.Handle(tr.h, 1, Message{Kind: Command, RegID: 7, Ts: ts, Seq: 2}).Err)
		require.ErrorIs(t, tr.client.Handle(tr.h, 2, Message{Kind: Command, RegID: 7, Ts: ts, Seq: 1}).Err, ErrRepeatedSeq,
			"only a number above the last one runs")
	})
	t.Run("Command before verification", func(t *testing.T) {
		c, _ := started()
		require.ErrorIs(t, c.Handle(h, 1, Message{Kind: Command, RegID: 7, Ts: ts, Seq: 1}).Err, ErrNotVerified)
	})
	t.Run("stale Validation from an earlier handshake", func(t *testing.T) {
		tr := verifiedPair(t, Hardened())
		c := &tr.client
		require.NoError(t, c.Start(tr.h, 10, tr.tokens).Err) // new Tc #3
		out := c.Handle(tr.h, 11, Message{Kind: Validation, RegID: 7, Tc: tc, Ts: ts})
		require.ErrorIs(t, out.Err, ErrWrongTc)
	})
	t.Run("message after the handshake's lifetime", func(t *testing.T) {
		c, _ := started()
		late := Time(0).Add(Hardened().Lifetime)
		require.ErrorIs(t, c.Handle(h, late, Message{Kind: Validation, RegID: 7, Tc: tc, Ts: ts}).Err, ErrExpired)
	})
	t.Run("wrong direction and wrong RegID", func(t *testing.T) {
		c, _ := started()
		require.ErrorIs(t, c.Handle(h, 1, Message{Kind: Hello, RegID: 7, Tc: tc}).Err, ErrWrongRole)
		require.ErrorIs(t, c.Handle(h, 1, Message{Kind: Validation, RegID: 8, Tc: tc, Ts: ts}).Err, ErrWrongRegID)
		require.ErrorIs(t, c.Handle(h, 1, Message{Kind: 0}).Err, ErrWrongRole)
	})
	t.Run("Start in the middle of a handshake", func(t *testing.T) {
		c, tok := started()
		require.ErrorIs(t, c.Start(h, 1, tok).Err, ErrUnexpected)
	})
}

func TestClientRetransmitsThenGivesUp(t *testing.T) {
	p := Hardened()
	h := p.MustCompile()
	tok := &SymbolicTokens{}
	c := NewClient(7)
	hello := c.Start(h, 0, tok).Send
	require.ErrorIs(t, c.Timeout(h, c.Deadline-1, tok).Err, ErrNotDue)
	var sent Time
	for try := 1; try <= p.Retries; try++ {
		require.Equal(t, min(sent.Add(p.RetryWait(try)), c.Expires), c.Deadline, "try %d", try)
		sent = c.Deadline
		out := c.Timeout(h, sent, tok)
		require.NoError(t, out.Err)
		require.Equal(t, hello, out.Send, "the same Tc is re-sent")
	}
	out := c.Timeout(h, c.Deadline, tok)
	require.NoError(t, out.Err)
	require.Zero(t, out.Send)
	require.Equal(t, ClientFailed, c.State)
	require.Equal(t, Never, c.Deadline)
}

func TestRetryWait(t *testing.T) {
	p := Hardened()
	var waits []time.Duration
	for try := 1; try <= p.Retries+1; try++ {
		waits = append(waits, p.RetryWait(try))
	}
	s := time.Second
	require.Equal(t, []time.Duration{s, 2 * s, 4 * s, 8 * s, 8 * s, 8 * s, 8 * s, 8 * s, 8 * s}, waits)
	b, ok := p.Budget()
	require.True(t, ok)
	require.Equal(t, p.Lifetime, b)
	p.Lifetime = 0
	b, _ = p.Budget()
	require.Equal(t, 2*55*s, b, "every wait of both steps")
	_, ok = Patent().Budget()
	require.False(t, ok)
}

func TestServerRejects(t *testing.T) {
	hello := Message{Kind: Hello, RegID: 7, Tc: tc}
	t.Run("Confirm1 with a wrong Ts", func(t *testing.T) {
		tr := newTranscript(t, Hardened())
		tr.server.Handle(tr.h, 0, hello, tr.tokens) // Ts = #1
		tr.reject(tr.server.Handle(tr.h, 1, Message{Kind: Confirm1, RegID: 7, Ts: Symbolic(9)}, tr.tokens), ErrWrongTs)
		sl, _ := tr.server.Slot(7)
		require.Equal(t, AwaitConfirm1, sl.State)
	})
	t.Run("Confirm1 for an unknown RegID", func(t *testing.T) {
		tr := newTranscript(t, Hardened())
		tr.reject(tr.server.Handle(tr.h, 1, Message{Kind: Confirm1, RegID: 8, Ts: ts}, tr.tokens), ErrUnknownRegID)
		require.Zero(t, tr.server.Len(), "nothing is kept for a rejected message")
	})
	t.Run("Confirm1 with a stale Ts from an earlier session", func(t *testing.T) {
		tr := verifiedPair(t, Hardened()) // session #1/#2
		c, s, h := &tr.client, tr.server, tr.h
		v := s.Handle(h, 5, c.Start(h, 5, tr.tokens).Send, tr.tokens).Send
		s.Handle(h, 6, c.Handle(h, 6, v).Send, tr.tokens) // now verified on #4
		tr.reject(s.Handle(h, 7, Message{Kind: Confirm1, RegID: 7, Ts: ts}, tr.tokens), ErrWrongTs)
	})
	t.Run("Confirm1 after the session expired", func(t *testing.T) {
		tr := newTranscript(t, Hardened())
		v := tr.server.Handle(tr.h, 0, hello, tr.tokens).Send
		late := Time(0).Add(Hardened().Lifetime)
		tr.reject(tr.server.Handle(tr.h, late, Message{Kind: Confirm1, RegID: 7, Ts: v.Ts}, tr.tokens), ErrExpired)
		require.Zero(t, tr.server.HalfOpen())
	})
	t.Run("duplicate Hello before verification re-sends the same Validation", func(t *testing.T) {
		tr := newTranscript(t, Hardened())
		first := tr.server.Handle(tr.h, 0, hello, tr.tokens)
		again := tr.server.Handle(tr.h, 1, hello, tr.tokens)
		require.NoError(t, again.Err)
		require.Equal(t, first.Send, again.Send)
		require.Equal(t, 1, tr.server.HalfOpen())
	})
	t.Run("duplicate Hello after verification is dropped", func(t *testing.T) {
		tr := verifiedPair(t, Hardened())
		tr.reject(tr.server.Handle(tr.h, 1, hello, tr.tokens), ErrDuplicate)
	})
	t.Run("duplicate Confirm1 after verification re-answers without claims", func(t *testing.T) {
		tr := verifiedPair(t, Hardened())
		out := tr.server.Handle(tr.h, 1, Message{Kind: Confirm1, RegID: 7, Ts: ts}, tr.tokens)
		tr.expect(out, Message{Kind: Confirm2, RegID: 7, Ts: ts})
	})
	t.Run("patent: duplicate Confirm1 verifies again", func(t *testing.T) {
		tr := verifiedPair(t, Patent())
		out := tr.server.Handle(tr.h, 1, Message{Kind: Confirm1, RegID: 7, Ts: ts}, tr.tokens)
		require.Len(t, out.ClaimList(), 2, "no 'already verified' mark: the replay is claimed again")
	})
	t.Run("patent: duplicate Hello replaces the verified session", func(t *testing.T) {
		tr := verifiedPair(t, Patent())
		out := tr.server.Handle(tr.h, 1, hello, tr.tokens)
		require.NoError(t, out.Err)
		require.NotEqual(t, ts, out.Send.Ts)
		sl, _ := tr.server.Slot(7)
		require.Equal(t, AwaitConfirm1, sl.State)
		require.ErrorIs(t, tr.server.Issue(tr.h, 2, 7, "").Err, ErrNotVerified)
	})
	t.Run("hardened keeps the verified session while re-keying", func(t *testing.T) {
		tr := verifiedPair(t, Hardened())
		require.NoError(t, tr.server.Handle(tr.h, 1, Message{Kind: Hello, RegID: 7, Tc: Symbolic(50)}, tr.tokens).Err)
		sl, _ := tr.server.Slot(7)
		require.Equal(t, Rekeying, sl.State)
		require.Equal(t, ts, tr.server.Issue(tr.h, 2, 7, "").Send.Ts)
	})
	t.Run("half-open cap", func(t *testing.T) {
		p := Hardened()
		p.HalfOpenCap = 2
		tr := newTranscript(t, p)
		for id := RegID(1); id <= 2; id++ {
			require.NoError(t, tr.server.Handle(tr.h, 0, Message{Kind: Hello, RegID: id, Tc: tc}, tr.tokens).Err)
		}
		tr.reject(tr.server.Handle(tr.h, 0, Message{Kind: Hello, RegID: 3, Tc: tc}, tr.tokens), ErrSessionCap)
		require.Equal(t, 2, tr.server.HalfOpen())
		// A RegID that already has a pending session may replace it.
		require.NoError(t, tr.server.Handle(tr.h, 0, Message{Kind: Hello, RegID: 2, Tc: ts}, tr.tokens).Err)
	})
	t.Run("Issue without a verified session", func(t *testing.T) {
		tr := newTranscript(t, Hardened())
		tr.reject(tr.server.Issue(tr.h, 0, 7, "x"), ErrNotVerified)
	})
	t.Run("push kinds never reach the server", func(t *testing.T) {
		tr := newTranscript(t, Hardened())
		tr.reject(tr.server.Handle(tr.h, 0, Message{Kind: Validation, RegID: 7, Tc: tc, Ts: ts}, tr.tokens), ErrWrongRole)
	})
}

func TestServerExpiry(t *testing.T) {
	p := Hardened()
	tr := verifiedPair(t, p)
	s, h := tr.server, tr.h
	sl, _ := s.Slot(7)
	require.Equal(t, Time(0).Add(p.Lifetime), sl.Deadline())
	require.ErrorIs(t, s.Expire(h, sl.Deadline()-1, 7).Err, ErrNotDue)
	out := s.Expire(h, sl.Deadline(), 7)
	require.NoError(t, out.Err)
	require.Equal(t, Never, out.Deadline)
	require.Zero(t, s.Len(), "an expired slot is removed")
}

func TestCapCountsAfterExpiry(t *testing.T) {
	p := Hardened()
	p.HalfOpenCap = 1
	tr := newTranscript(t, p)
	require.NoError(t, tr.server.Handle(tr.h, 0, Message{Kind: Hello, RegID: 1, Tc: tc}, tr.tokens).Err)
	late := Time(0).Add(p.Lifetime)
	// RegID 1's own pending session has expired: its new Hello takes the place.
	require.NoError(t, tr.server.Handle(tr.h, late, Message{Kind: Hello, RegID: 1, Tc: ts}, tr.tokens).Err)
	require.Equal(t, 1, tr.server.HalfOpen())
	tr.reject(tr.server.Handle(tr.h, late, Message{Kind: Hello, RegID: 2, Tc: tc}, tr.tokens), ErrSessionCap)
}

// Found by the simulator: with delays longer than a handshake, a Hello
// from two handshakes back arrived while the third was pending, replaced
// it, and the client failed on the Ts it already held.
func TestLateHelloFromEarlierHandshakeIsStale(t *testing.T) {
	tr := verifiedPair(t, Hardened()) // handshake 1 verified: Tc #1
	c, s, h := &tr.client, tr.server, tr.h
	run := func(now Time) {
		v := s.Handle(h, now, c.Start(h, now, tr.tokens).Send, tr.tokens).Send
		c2 := s.Handle(h, now, c.Handle(h, now, v).Send, tr.tokens).Send
		require.NoError(t, c.Handle(h, now, c2).Err)
	}
	run(1) // handshake 2 verified
	pending := s.Handle(h, 2, c.Start(h, 2, tr.tokens).Send, tr.tokens)
	require.NoError(t, pending.Err) // handshake 3 pending
	tr.reject(s.Handle(h, 3, Message{Kind: Hello, RegID: 7, Tc: tc}, tr.tokens), ErrDuplicate)
	sl, _ := s.Slot(7)
	require.Equal(t, pending.Send.Ts, sl.Pending.Ts, "the pending session survives the late Hello")
}

// constTokens hands out the same token until told otherwise, to force the
// collisions short tokens make by chance.
type constTokens struct{ seq []Token }

func (c *constTokens) NewToken() Token {
	t := c.seq[0]
	if len(c.seq) > 1 {
		c.seq = c.seq[1:]
	}
	return t
}

// Found by the simulator under 8-bit tokens: a re-keying client drew a new
// Ts equal to its verified one, and its Confirm1 was answered as a
// duplicate of the old session.
func TestNewTsDiffersFromTheVerifiedOne(t *testing.T) {
	tr := verifiedPair(t, Hardened()) // verified on Ts #2
	src := &constTokens{seq: []Token{ts, ts, Symbolic(9)}}
	out := tr.server.Handle(tr.h, 1, Message{Kind: Hello, RegID: 7, Tc: Symbolic(5)}, src)
	require.NoError(t, out.Err)
	require.Equal(t, Symbolic(9), out.Send.Ts, "the colliding draws are refused")
}

// The Retries bound holds: left unanswered, a client sends each message at
// most Retries+1 times (the first send and Retries retransmissions), then
// gives up; and no more once the lifetime is over.
func TestRetriesBoundHolds(t *testing.T) {
	short := Hardened()
	short.Lifetime = 5 * time.Second // cuts the tries at 1+2 s: three sends
	noLife := Hardened()
	noLife.Lifetime = 0
	fresh := Hardened()
	fresh.Retries, fresh.NewTokenOnRetry = 3, true
	for _, c := range []struct {
		name  string
		p     Profile
		sends int
	}{{"hardened", Hardened(), Hardened().Retries + 1}, {"no lifetime", noLife, noLife.Retries + 1},
		{"new Tc on retry", fresh, fresh.Retries + 1}, {"lifetime first", short, 3}} {
		t.Run(c.name, func(t *testing.T) {
			h := c.p.MustCompile()
			for _, step := range []Kind{Hello, Confirm1} {
				tok := &SymbolicTokens{}
				cl := NewClient(7)
				first := cl.Start(h, 0, tok).Send
				if step == Confirm1 {
					first = cl.Handle(h, 1, Message{Kind: Validation, RegID: 7, Tc: cl.Tc, Ts: Symbolic(100)}).Send
				}
				require.Equal(t, step, first.Kind)
				sends := 1
				for fired := 0; cl.State != ClientFailed; fired++ {
					require.Less(t, fired, 64, "the client never gives up")
					require.NotEqual(t, Never, cl.Deadline, "a waiting client has a timer")
					out := cl.Timeout(h, cl.Deadline, tok)
					require.NoError(t, out.Err)
					if out.Send.Kind != 0 {
						require.Equal(t, step, out.Send.Kind)
						sends++
					}
				}
				require.Equal(t, c.sends, sends, "%v sent %d times", step, sends)
				require.LessOrEqual(t, sends, c.p.Retries+1)
			}
		})
	}
}

// A zero token means "none": the client never takes it for a server
// token, in any state, and never matches it against a Ts it does not have.
func TestClientRejectsZeroTs(t *testing.T) {
	h := Hardened().MustCompile()
	var zero Token
	idle := NewClient(7)
	started := NewClient(7)
	started.Start(h, 0, &SymbolicTokens{}) // Tc #1, no Ts yet
	confirming := started
	confirming.Handle(h, 1, Message{Kind: Validation, RegID: 7, Tc: tc, Ts: ts})
	verified := verifiedPair(t, Hardened()).client
	for _, c := range []struct {
		name string
		c    Client
		m    Message
		err  error
	}{
		{"Validation awaiting Validation", started, Message{Kind: Validation, RegID: 7, Tc: tc, Ts: zero}, ErrZeroToken},
		{"Confirm2 awaiting Validation", started, Message{Kind: Confirm2, RegID: 7, Ts: zero}, ErrUnexpected},
		{"Command awaiting Validation", started, Message{Kind: Command, RegID: 7, Ts: zero, Seq: 1}, ErrNotVerified},
		{"Command when idle", idle, Message{Kind: Command, RegID: 7, Ts: zero, Seq: 1}, ErrNotVerified},
		{"Validation awaiting Confirm2", confirming, Message{Kind: Validation, RegID: 7, Tc: tc, Ts: zero}, ErrWrongTs},
		{"Confirm2 awaiting Confirm2", confirming, Message{Kind: Confirm2, RegID: 7, Ts: zero}, ErrWrongTs},
		{"Command awaiting Confirm2", confirming, Message{Kind: Command, RegID: 7, Ts: zero, Seq: 1}, ErrNotVerified},
		{"Command when verified", verified, Message{Kind: Command, RegID: 7, Ts: zero, Seq: 1}, ErrWrongTs},
	} {
		before := c.c
		cl := c.c
		out := cl.Handle(h, 2, c.m)
		require.ErrorIs(t, out.Err, c.err, c.name)
		require.Empty(t, out.ClaimList(), c.name)
		require.Equal(t, before, cl, "%s: a rejection leaves the machine unchanged", c.name)
	}
}
