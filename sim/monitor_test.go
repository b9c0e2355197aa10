package sim

import (
	"cmp"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/verishake/verishake/protocol"
	"github.com/verishake/verishake/trace"
)

var (
	tc1 = protocol.Symbolic(1)
	ts1 = protocol.Symbolic(2)
	tc2 = protocol.Symbolic(3)
)

func running(r protocol.Role, id protocol.RegID, tc, ts protocol.Token) protocol.Claim {
	return protocol.Claim{Kind: protocol.Running, Role: r, RegID: id, Tc: tc, Ts: ts}
}

func commit(r protocol.Role, id protocol.RegID, tc, ts protocol.Token) protocol.Claim {
	return protocol.Claim{Kind: protocol.Commit, Role: r, RegID: id, Tc: tc, Ts: ts}
}

func issued(id protocol.RegID, ts protocol.Token, seq uint32) protocol.Claim {
	return protocol.Claim{Kind: protocol.Issued, Role: protocol.RoleServer, RegID: id, Ts: ts, Seq: seq}
}

func executed(id protocol.RegID, ts protocol.Token, seq uint32) protocol.Claim {
	return protocol.Claim{Kind: protocol.Executed, Role: protocol.RoleClient, RegID: id, Ts: ts, Seq: seq}
}

// authVerdicts runs claims through a fresh AuthMonitor for 3 clients and
// returns the properties it reports, in order.
func authVerdicts(claims ...protocol.Claim) []string {
	m := NewAuthMonitor(3, 0)
	var got []string
	for i := range claims {
		if v := m.Observe(protocol.Time(i), &claims[i]); v != nil {
			got = append(got, v.Property)
		}
	}
	return got
}

const (
	cl = protocol.RoleClient
	sv = protocol.RoleServer
)

func TestMonitorAuthC(t *testing.T) {
	good := []protocol.Claim{
		running(cl, 1, tc1, ts1), running(sv, 1, tc1, ts1), commit(sv, 1, tc1, ts1), commit(cl, 1, tc1, ts1),
	}
	assert.Empty(t, authVerdicts(good...), "an honest handshake")
	// The client accepts a session no server Running vouches for.
	assert.Equal(t, []string{protocol.AuthC}, authVerdicts(running(cl, 1, tc1, ts1), commit(cl, 1, tc1, ts1)))
	// Injective: two client Commits against one server Running.
	assert.Equal(t, []string{protocol.AuthC}, authVerdicts(append(good, commit(cl, 1, tc1, ts1))...))
	// Agreement is on RegID, Tc and Ts: another Tc does not match.
	assert.Equal(t, []string{protocol.AuthC}, authVerdicts(running(sv, 1, tc1, ts1), commit(cl, 1, tc2, ts1)))
	// The insider's RegID (4 of 3 clients) is exempt.
	assert.Empty(t, authVerdicts(commit(cl, 4, tc1, ts1)))
}

func TestMonitorAuthS(t *testing.T) {
	assert.Empty(t, authVerdicts(running(cl, 2, tc1, ts1), running(sv, 2, tc1, ts1), commit(sv, 2, tc1, ts1)))
	// The server verifies a session no client Running vouches for.
	assert.Equal(t, []string{protocol.AuthS}, authVerdicts(running(sv, 2, tc1, ts1), commit(sv, 2, tc1, ts1)))
	// The patent's re-verification of a duplicate Confirm1: a second server
	// Commit with one client Running.
	assert.Equal(t, []string{protocol.AuthS}, authVerdicts(
		running(cl, 2, tc1, ts1), running(sv, 2, tc1, ts1), commit(sv, 2, tc1, ts1),
		running(sv, 2, tc1, ts1), commit(sv, 2, tc1, ts1)))
	// A client Running of RegID 1 does not vouch for RegID 2.
	assert.Equal(t, []string{protocol.AuthS}, authVerdicts(running(cl, 1, tc1, ts1), commit(sv, 2, tc1, ts1)))
}

func TestMonitorCmd(t *testing.T) {
	assert.Empty(t, authVerdicts(issued(3, ts1, 1), issued(3, ts1, 2), executed(3, ts1, 2), executed(3, ts1, 1)))
	assert.Equal(t, []string{protocol.Cmd}, authVerdicts(executed(3, ts1, 1)), "never issued")
	assert.Equal(t, []string{protocol.Cmd}, authVerdicts(issued(3, ts1, 1), executed(3, ts1, 1), executed(3, ts1, 1)), "executed twice")
	assert.Equal(t, []string{protocol.Cmd}, authVerdicts(issued(3, ts1, 1), executed(3, tc2, 1)), "under another Ts")
}

// Keeping a ledger per RegID must not change a verdict: on any claim trace
// AuthMonitor reports exactly what protocol.CheckClaims, one ledger for
// all, does.
func TestAuthMonitorMatchesCheckClaims(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		toks := []protocol.Token{protocol.Symbolic(1), protocol.Symbolic(2), protocol.Symbolic(3)}
		claim := rapid.Custom(func(t *rapid.T) protocol.Claim {
			c := protocol.Claim{
				Kind:  protocol.ClaimKind(rapid.IntRange(1, 4).Draw(t, "kind")),
				Role:  protocol.Role(rapid.IntRange(1, 2).Draw(t, "role")),
				RegID: protocol.RegID(rapid.IntRange(1, 3).Draw(t, "regid")),
				Ts:    rapid.SampledFrom(toks).Draw(t, "ts"),
			}
			if c.Kind == protocol.Issued || c.Kind == protocol.Executed {
				c.Seq = uint32(rapid.IntRange(0, 2).Draw(t, "seq"))
			} else {
				c.Tc = rapid.SampledFrom(toks).Draw(t, "tc")
			}
			return c
		})
		trace := rapid.SliceOfN(claim, 0, 40).Draw(t, "trace")
		want := protocol.CheckClaims(trace, func(id protocol.RegID) bool { return id <= 2 })
		m := NewAuthMonitor(2, 0)
		var got []protocol.Violation
		for i := range trace {
			if v := m.Observe(protocol.Time(i), &trace[i]); v != nil {
				c, err := v.Claim.Claim()
				require.NoError(t, err)
				got = append(got, protocol.Violation{Property: v.Property, Claim: c, Reason: v.Reason})
			}
		}
		require.Equal(t, want, got)
	})
}

// With a retirement window, sessions left unmatched (commands lost on the
// way) are forgotten once their epoch is three windows old, so memory
// follows the window, not the run.
func TestAuthMonitorRetires(t *testing.T) {
	m := NewAuthMonitor(1, time.Second)
	for i := range 1000 {
		c := issued(1, protocol.Symbolic(uint64(i+1)), 1)
		require.Nil(t, m.Observe(protocol.Time(i)*protocol.Time(100*time.Millisecond), &c))
	}
	// Sessions 100 ms apart, forgotten after two to three 1 s epochs.
	assert.LessOrEqual(t, len(m.sess[0]), 31)
	assert.LessOrEqual(t, m.Pending(), 31)
	assert.GreaterOrEqual(t, m.Pending(), 20, "the last two windows' sessions are still held")
	// Within the window, matching still works across an epoch boundary.
	m = NewAuthMonitor(1, time.Second)
	for _, c := range []protocol.Claim{issued(1, ts1, 1), issued(1, tc2, 1)} {
		require.Nil(t, m.Observe(protocol.Time(900*time.Millisecond), &c))
	}
	c := executed(1, ts1, 1)
	assert.Nil(t, m.Observe(protocol.Time(2500*time.Millisecond), &c))
	assert.NotNil(t, m.Observe(protocol.Time(2600*time.Millisecond), &c), "executed twice")
}

func TestMonitorLive(t *testing.T) {
	const budget = 10 * time.Second
	sec := func(s float64) protocol.Time { return protocol.Time(s * float64(time.Second)) }

	l := NewLiveMonitor(2, budget, true)
	l.Started(0, 1, sec(0))
	assert.Nil(t, l.Tick(sec(10)), "at the budget is in time")
	assert.Nil(t, l.Ended(0, sec(10)))
	assert.Nil(t, l.Finish(sec(100), nil))

	l = NewLiveMonitor(2, budget, true)
	l.Started(1, 1, sec(0))
	v := l.Ended(1, sec(10.5))
	require.NotNil(t, v, "ended late")
	assert.Equal(t, protocol.Live, v.Property)
	assert.Equal(t, uint64(2), v.RegID)

	l = NewLiveMonitor(2, budget, true)
	l.Started(0, 1, sec(0))
	l.Started(1, 2, sec(5))
	assert.Nil(t, l.Ended(0, sec(1)))
	assert.Nil(t, l.Tick(sec(14)))
	require.NotNil(t, l.Tick(sec(15.5)), "client 2 still running past its budget")

	// Without a time bound a handshake must still end before the run does.
	l = NewLiveMonitor(1, 0, false)
	l.Started(0, 1, sec(0))
	assert.Nil(t, l.Tick(sec(1e6)))
	states := func(int) protocol.ClientState { return protocol.AwaitValidation }
	v = l.Finish(sec(1e6), states)
	require.NotNil(t, v)
	assert.Contains(t, v.Reason, "never ended")
	l.Ended(0, sec(1e6))
	assert.Nil(t, l.Finish(sec(1e6), states))
}

func TestMonitorBounded(t *testing.T) {
	assert.Nil(t, BoundedMonitor{Cap: 2}.Observe(2))
	v := BoundedMonitor{Cap: 2}.Observe(3)
	require.NotNil(t, v)
	assert.Equal(t, protocol.Bounded, v.Property)
	// No cap: held to hardened's, and the reason says so.
	assert.Equal(t, 1024, DefaultHalfOpenCap)
	assert.Nil(t, BoundedMonitor{}.Observe(1024))
	v = BoundedMonitor{}.Observe(1025)
	require.NotNil(t, v, "a server without a cap is held to hardened's")
	assert.Contains(t, v.Reason, "1025 half-open sessions, over 1024: the profile sets no cap")
}

func TestMonitorForge(t *testing.T) {
	h, err := protocol.Hardened().Compile()
	require.NoError(t, err)
	w, err := NewWorld(h, WorldOptions{Clients: 1})
	require.NoError(t, err)
	m := NewMonitors(protocol.Hardened(), 1, 0)
	guess := protocol.Message{Kind: protocol.Confirm1, RegID: 1, Ts: protocol.Symbolic(99)}
	deliver := func(g bool) *trace.Violation {
		var r Result
		require.NoError(t, w.ApplyInto(&Step{Kind: StepInject, At: w.Now, Msg: guess, Guess: g}, &r))
		slot, id := r.SentSlot, r.Sent.ID
		require.NoError(t, w.ApplyInto(&Step{Kind: StepDeliver, At: w.Now, Slot: slot, ID: id}, &r))
		return m.Observe(w, 2, &r)
	}
	// Refused (no session for RegID 1): counted, not accepted.
	assert.Nil(t, deliver(true))
	assert.Equal(t, uint64(1), w.Counters.ForgeGuesses)
	assert.Zero(t, w.Counters.ForgeAccepted)
	assert.Nil(t, m.Finish(w, 2, w.Now))

	// The same message accepted once a session has that Ts: FORGE, before
	// the AUTH-S violation the server's unvouched Commit also makes.
	sl := protocol.Slot{RegID: 1, State: protocol.AwaitConfirm1,
		Pending: protocol.Session{Tc: protocol.Symbolic(1), Ts: protocol.Symbolic(99), Expires: protocol.Never}}
	w.Server.Put(sl)
	v := deliver(true)
	require.NotNil(t, v)
	assert.Equal(t, protocol.Forge, v.Property)
	assert.Equal(t, uint64(1), v.RegID)
	assert.Contains(t, v.Reason, "Confirm1 to RegID 1 carrying a guessed token was accepted: 1 of 2 guesses accepted")
	assert.Equal(t, uint64(2), w.Counters.ForgeGuesses)
	assert.Equal(t, uint64(1), w.Counters.ForgeAccepted)
	require.NotNil(t, m.Finish(w, 4, w.Now), "and at the end of the run")

	// An accepted injection that is no guess (a replay) is not FORGE's business.
	w2, err := NewWorld(h, WorldOptions{Clients: 1})
	require.NoError(t, err)
	w2.Server.Put(sl)
	w = w2
	m = NewMonitors(protocol.Hardened(), 1, 0)
	v = deliver(false)
	require.NotNil(t, v, "the unvouched Commit still breaks AUTH-S")
	assert.Equal(t, protocol.AuthS, v.Property)
	assert.Zero(t, w.Counters.ForgeGuesses)
}

func TestLiveBudget(t *testing.T) {
	b, ok := LiveBudget(protocol.Hardened())
	assert.True(t, ok)
	assert.Equal(t, time.Minute, b)
	_, ok = LiveBudget(protocol.Patent())
	assert.False(t, ok)
	p := protocol.Hardened()
	p.Lifetime = 0 // retries only: two waits of 1+2+4+8+8+8+8+8+8 s
	b, ok = LiveBudget(p)
	assert.True(t, ok)
	assert.Equal(t, 2*55*time.Second, b)
}

// Retiring is sound when no claim of a session comes more than the window
// after its first: on random sessions spread over many windows, each with
// its claims within a window of its first, AuthMonitor with the window
// reports exactly what protocol.CheckClaims, which never forgets, does.
func TestAuthMonitorRetiresSoundly(t *testing.T) {
	const window = protocol.Time(time.Second)
	rapid.Check(t, func(t *rapid.T) {
		type timed struct {
			at protocol.Time
			c  protocol.Claim
		}
		var all []timed
		sessions := rapid.IntRange(1, 30).Draw(t, "sessions")
		start := protocol.Time(0)
		for s := range sessions {
			start += protocol.Time(rapid.Int64Range(0, int64(window)).Draw(t, "gap"))
			ts := protocol.Symbolic(uint64(100 + s))
			id := protocol.RegID(rapid.IntRange(1, 2).Draw(t, "regid"))
			for range rapid.IntRange(1, 6).Draw(t, "claims") {
				c := protocol.Claim{
					Kind:  protocol.ClaimKind(rapid.IntRange(1, 4).Draw(t, "kind")),
					Role:  protocol.Role(rapid.IntRange(1, 2).Draw(t, "role")),
					RegID: id, Ts: ts,
				}
				if c.Kind == protocol.Issued || c.Kind == protocol.Executed {
					c.Seq = uint32(rapid.IntRange(0, 1).Draw(t, "seq"))
				} else {
					c.Tc = protocol.Symbolic(uint64(rapid.IntRange(1, 2).Draw(t, "tc")))
				}
				at := start + protocol.Time(rapid.Int64Range(0, int64(window)-1).Draw(t, "offset"))
				all = append(all, timed{at, c})
			}
		}
		slices.SortStableFunc(all, func(a, b timed) int { return cmp.Compare(a.at, b.at) })
		trace := make([]protocol.Claim, len(all))
		for i := range all {
			trace[i] = all[i].c
		}
		want := protocol.CheckClaims(trace, nil)
		m := NewAuthMonitor(2, time.Duration(window))
		var got []protocol.Violation
		for i := range all {
			if v := m.Observe(all[i].at, &all[i].c); v != nil {
				c, err := v.Claim.Claim()
				require.NoError(t, err)
				got = append(got, protocol.Violation{Property: v.Property, Claim: c, Reason: v.Reason})
			}
		}
		require.Equal(t, want, got)
	})
}
