package sim

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verishake/verishake/adversary"
	"github.com/verishake/verishake/protocol"
)

// take applies the first enabled step of kind whose in-flight message (if
// any) is of message kind msg (zero: any), and fails the test if there is
// none.
func take(t *testing.T, w *World, kind StepKind, msg protocol.Kind) Result {
	t.Helper()
	for _, s := range w.Enabled(nil) {
		if s.Kind != kind {
			continue
		}
		if m := w.Message(s.Slot); msg != 0 && (m == nil || m.Kind != msg) {
			continue
		}
		return apply(t, w, s)
	}
	t.Fatalf("no %v step for a %v in %v", kind, msg, w.Enabled(nil))
	return Result{}
}

// The server may verify a session before its client has accepted the
// Validation (here a Confirm1 the server takes without checking its Ts):
// that is still the server verifying the client's handshake.
func TestServerVerifiedBeforeTheClientAcceptsTheValidation(t *testing.T) {
	p := protocol.Hardened()
	p.SkipServerTokenCheck = true
	w := newTestWorld(t, p, WorldOptions{Clients: 1, Handshakes: 1})
	apply(t, w, Step{Kind: StepStart, Client: 0})
	take(t, w, StepDeliver, protocol.Hello)
	apply(t, w, Step{Kind: StepInject, Msg: protocol.Message{Kind: protocol.Confirm1, RegID: 1, Ts: protocol.Symbolic(1 << 40)}})
	take(t, w, StepDeliver, protocol.Confirm1)
	require.True(t, w.Clients[0].Ts.IsZero(), "the client has not accepted the Validation yet")
	ts, ok := w.ServerVerified(0)
	require.True(t, ok, "the server verified the client's handshake")
	sl, _ := w.Server.Slot(1)
	require.Equal(t, sl.Current.Ts, ts)
}

// AGREE compares outcomes only once nothing is in flight: here the client
// is Verified on Ts #2 while a retransmitted Hello and a duplicate
// Confirm1 are still in flight; delivered, they open and verify a second
// session (#3) on a server that does not check Ts, and the two sides end
// on different sessions.
func TestAgreementWaitsForTheMessagesInFlight(t *testing.T) {
	p := protocol.Hardened()
	p.SkipServerTokenCheck, p.Retries = true, 1
	w := newTestWorld(t, p, WorldOptions{Clients: 1, Handshakes: 1, Limits: Limits{Dups: 1}})
	apply(t, w, Step{Kind: StepStart, Client: 0})
	take(t, w, StepClientTimer, 0) // at 1 s: the Hello again
	take(t, w, StepDeliver, protocol.Hello)
	take(t, w, StepDeliver, protocol.Validation)
	take(t, w, StepDup, protocol.Confirm1)
	take(t, w, StepDeliver, protocol.Confirm1)
	take(t, w, StepDeliver, protocol.Confirm2)
	require.Equal(t, protocol.ClientVerified, w.Clients[0].State)
	take(t, w, StepServerTimer, 0) // the session expires; the Hello and a Confirm1 are still in flight
	require.Equal(t, 2, w.InFlight())
	require.True(t, w.AgreeApplies(false))

	var buf, cont []Step
	reason, bad := w.Clone().Disagreement(&buf, &cont)
	require.True(t, bad, "the continuation must deliver what is in flight before it compares")
	require.Contains(t, reason, "ends Verified on Ts=")
	require.Len(t, cont, 4, "the Hello, its Validation, the Confirm1, its Confirm2")
}

// A client that starts its next handshake from Verified abandons the old
// session: its Tc and Ts leak to the adversary (and only then: a verified
// session's tokens are secret while it is the client's).
func TestRestartFromVerifiedLeaksTheOldSession(t *testing.T) {
	x := adversary.NewExplorer(adversary.Default(), 1, 2)
	w := newTestWorld(t, protocol.Hardened(), WorldOptions{Clients: 1, Handshakes: 2, Adversary: x})
	apply(t, w, Step{Kind: StepStart, Client: 0})
	deliverAll(t, w)
	c := w.Clients[0]
	require.Equal(t, protocol.ClientVerified, c.State)
	require.False(t, x.Knowledge.Knows(c.Tc), "the verified session's Tc is secret")
	require.False(t, x.Knowledge.Knows(c.Ts), "the verified session's Ts is secret")
	apply(t, w, Step{Kind: StepStart, Client: 0})
	require.True(t, x.Knowledge.Knows(c.Tc), "the abandoned session's Tc leaked")
	require.True(t, x.Knowledge.Knows(c.Ts), "the abandoned session's Ts leaked")
	require.False(t, x.Knowledge.Knows(w.Clients[0].Tc), "the new handshake's Tc is secret")
}

// A client at its last try is excused only once the path has lost a
// message: on a path that lost nothing the continuation delivers every
// message sent. Under the explorer's cap of 0 retries the first send is
// the last try, and after a loss the client is excused (it would re-send
// in the real protocol); a profile that never re-sends is not.
func TestAgreeExcusesTheLastTryOnlyAfterALoss(t *testing.T) {
	p := protocol.Hardened()
	p.Retries = 0 // the explorer's cap: hardened re-sends
	w := newTestWorld(t, p, WorldOptions{Clients: 1, Handshakes: 1, Limits: Limits{Drops: 1}})
	apply(t, w, Step{Kind: StepStart, Client: 0})
	take(t, w, StepDeliver, protocol.Hello)
	take(t, w, StepDeliver, protocol.Validation)
	take(t, w, StepDeliver, protocol.Confirm1)
	_, verified := w.ServerVerified(0)
	require.True(t, verified)
	require.True(t, w.AgreeApplies(true), "nothing lost: the Confirm2 in flight settles it")

	take(t, w, StepDrop, protocol.Confirm2)
	require.Equal(t, protocol.AwaitConfirm2, w.Clients[0].State)
	require.False(t, w.AgreeApplies(true), "the client's last Confirm1 under the cap was answered and the answer lost: two generals")
	require.True(t, w.AgreeApplies(false), "a profile that never re-sends is held to agree after a loss")
	var buf []Step
	_, bad := w.Clone().Disagreement(&buf, nil)
	require.True(t, bad, "the continuation gives up on the client while the server verified it: what AGREE must not be asked")
}
