package sim

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/verishake/verishake/protocol"
	"github.com/verishake/verishake/trace"
)

func newTestWorld(t *testing.T, p protocol.Profile, o WorldOptions) *World {
	t.Helper()
	w, err := NewWorld(p.MustCompile(), o)
	require.NoError(t, err)
	return w
}

// apply takes s and fails the test if the world refuses it.
func apply(t *testing.T, w *World, s Step) Result {
	t.Helper()
	r, err := w.Apply(s)
	require.NoError(t, err, "step %v", s)
	return r
}

// deliverAll delivers every message in flight, lowest slot first, until
// none is left, and returns the results.
func deliverAll(t *testing.T, w *World) []Result {
	t.Helper()
	var out []Result
	for w.InFlight() > 0 {
		for _, s := range w.Enabled(nil) {
			if s.Kind == StepDeliver {
				out = append(out, apply(t, w, s))
				break
			}
		}
	}
	return out
}

func TestWorldHandshake(t *testing.T) {
	w := newTestWorld(t, protocol.Hardened(), WorldOptions{Clients: 2, Handshakes: 2, Commands: 1})
	assert.Equal(t, protocol.RegID(1), w.Clients[0].RegID, "client i has RegID i+1")

	r := apply(t, w, Step{Kind: StepStart, Client: 1})
	assert.Equal(t, protocol.RoleClient, r.Role)
	assert.Equal(t, protocol.RegID(2), r.RegID)
	assert.Equal(t, uint64(1), r.HS)
	assert.Equal(t, protocol.Hello, r.Sent.Msg.Kind)
	assert.Equal(t, FromClient, r.Sent.From)

	results := deliverAll(t, w)
	require.Len(t, results, 4, "Hello, Validation, Confirm1, Confirm2")
	last := results[3]
	assert.Equal(t, Verified, last.Ended)
	assert.Equal(t, protocol.ClientVerified, w.Clients[1].State)
	assert.Equal(t, uint64(1), w.Counters.Verified)
	// Ids: each answer is a new message; the receive carries the send's id.
	assert.Equal(t, r.Sent.ID, results[0].Recv.ID)
	assert.Equal(t, results[0].Sent.ID, results[1].Recv.ID)

	// The server now owes client 2 one command.
	var issue []Step
	for _, s := range w.Enabled(nil) {
		if s.Kind == StepIssue {
			issue = append(issue, s)
		}
	}
	require.Equal(t, []Step{{Kind: StepIssue, RegID: 2}}, issue)
	apply(t, w, issue[0])
	rs := deliverAll(t, w)
	require.Len(t, rs, 1)
	assert.Equal(t, protocol.Executed, rs[0].Claims[0].Kind)
	assert.Equal(t, uint64(1), w.Counters.Executed)
	assert.Zero(t, w.CommandsLeft(1))
}

func TestWorldRefusesInvalidSteps(t *testing.T) {
	w := newTestWorld(t, protocol.Hardened(), WorldOptions{Clients: 1, Handshakes: 1})
	apply(t, w, Step{Kind: StepStart, At: 100})
	env, ok := w.Envelope(0)
	require.True(t, ok)
	before := w.Fingerprint()
	for _, s := range []Step{
		{Kind: StepDeliver, At: 100, Slot: 1, ID: env.ID},                                  // empty slot
		{Kind: StepDeliver, At: 100, Slot: 0, ID: env.ID + 1},                              // another message
		{Kind: StepDeliver, At: 99, Slot: 0, ID: env.ID},                                   // in the past
		{Kind: StepStart, At: 100, Client: 1},                                              // no such client
		{Kind: StepInject, At: 100, Msg: protocol.Message{Kind: 9}},                        // no such kind
		{Kind: StepInject, At: 100, Msg: protocol.Message{Kind: protocol.Hello, RegID: 1}}, // zero Tc: no frame
		{Kind: 0},
	} {
		_, err := w.Apply(s)
		assert.ErrorIs(t, err, ErrStep, "%v", s)
	}
	assert.Equal(t, before, w.Fingerprint(), "a refused step changes nothing")
	assert.Equal(t, protocol.Time(100), w.Now)
}

func TestWorldNetworkSteps(t *testing.T) {
	w := newTestWorld(t, protocol.Hardened(), WorldOptions{Clients: 1, Handshakes: 1})
	hello := apply(t, w, Step{Kind: StepStart})
	dup := apply(t, w, Step{Kind: StepDup, Slot: hello.SentSlot, ID: hello.Sent.ID})
	assert.Equal(t, hello.Sent.ID, dup.Sent.ID, "a duplicate keeps the id")
	assert.NotEqual(t, hello.SentSlot, dup.SentSlot)
	assert.Equal(t, 2, w.InFlight())

	// A flipped byte fails the frame's checksum: the copy is lost.
	r := apply(t, w, Step{Kind: StepCorrupt, Slot: dup.SentSlot, ID: dup.Sent.ID, Pos: 5, Mask: 0x10})
	assert.True(t, r.Lost)
	assert.ErrorIs(t, r.Err, protocol.ErrChecksum)
	assert.Equal(t, uint64(1), w.Counters.Lost)

	apply(t, w, Step{Kind: StepDrop, Slot: hello.SentSlot, ID: hello.Sent.ID})
	assert.Zero(t, w.InFlight())

	// A push to a RegID no client holds reaches nobody.
	in := apply(t, w, Step{Kind: StepInject, Msg: protocol.Message{Kind: protocol.Confirm2, RegID: 7, Ts: ts1}})
	assert.Equal(t, FromAdversary, in.Sent.From)
	r = apply(t, w, Step{Kind: StepDeliver, Slot: in.SentSlot, ID: in.Sent.ID})
	assert.True(t, r.Lost)
	assert.Zero(t, r.Role)
}

func TestWorldTimersAndFailure(t *testing.T) {
	adv := &recorder{}
	w := newTestWorld(t, protocol.Hardened(), WorldOptions{Clients: 1, Handshakes: 2, Adversary: adv})
	apply(t, w, Step{Kind: StepStart})
	require.Len(t, adv.observed, 1, "the adversary sees the Hello")
	// Lose everything: the client re-sends Retries times, then gives up.
	for w.Clients[0].State == protocol.AwaitValidation {
		for _, s := range w.Enabled(nil) {
			if s.Kind == StepDrop {
				apply(t, w, s)
			}
		}
		var timer []Step
		for _, s := range w.Enabled(nil) {
			if s.Kind == StepClientTimer {
				timer = append(timer, s)
			}
		}
		require.Len(t, timer, 1)
		apply(t, w, timer[0])
	}
	assert.Equal(t, protocol.ClientFailed, w.Clients[0].State)
	assert.Equal(t, uint64(protocol.Hardened().Retries), w.Counters.Retransmits)
	assert.Equal(t, uint64(1), w.Counters.Failed)
	require.Len(t, adv.abandoned, 1, "a failed session leaks")
	assert.Equal(t, w.Clients[0].Tc, adv.abandoned[0].tc)

	// Starting again does not leak the failed session a second time.
	apply(t, w, Step{Kind: StepStart, At: w.Now})
	assert.Len(t, adv.abandoned, 1)
}

// recorder is an adversary that remembers what it is told.
type recorder struct {
	NoAdversary
	observed  []protocol.Message
	abandoned []struct {
		id     protocol.RegID
		tc, ts protocol.Token
	}
}

func (r *recorder) Observe(m protocol.Message) { r.observed = append(r.observed, m) }
func (r *recorder) Abandoned(id protocol.RegID, tc, ts protocol.Token) {
	r.abandoned = append(r.abandoned, struct {
		id     protocol.RegID
		tc, ts protocol.Token
	}{id, tc, ts})
}
func (r *recorder) Clone() any { c := *r; return &c }

func TestWorldCloneAndFingerprint(t *testing.T) {
	w := newTestWorld(t, protocol.Hardened(), WorldOptions{Clients: 2, Handshakes: 4})
	apply(t, w, Step{Kind: StepStart, Client: 0})
	apply(t, w, Step{Kind: StepStart, Client: 1})
	fp := w.Fingerprint()

	c := w.Clone()
	assert.Equal(t, fp, c.Fingerprint())
	deliverAll(t, c)
	assert.Equal(t, fp, w.Fingerprint(), "the clone shares nothing")
	assert.NotEqual(t, fp, c.Fingerprint())

	// The same steps on two clones give the same world, tokens included.
	a, b := w.Clone(), w.Clone()
	deliverAll(t, a)
	deliverAll(t, b)
	assert.Equal(t, a.Fingerprint(), b.Fingerprint())
	assert.Equal(t, a.Clients, b.Clients)

	// In-flight messages count as a multiset: moving one to another slot
	// (duplicate it, drop the original) leaves the same state.
	mv := w.Clone()
	e := mustEnv(t, mv, 0)
	apply(t, mv, Step{Kind: StepDup, Slot: 0, ID: e.ID})
	apply(t, mv, Step{Kind: StepDrop, Slot: 0, ID: e.ID})
	_, still := mv.Envelope(0)
	require.False(t, still)
	assert.Equal(t, fp, mv.Fingerprint(), "a message moved to another slot")

	// Time: the same state one second later fingerprints the same.
	later := w.Clone()
	shift := protocol.Time(1e9)
	later.Now += shift
	for i := range later.Clients {
		later.Clients[i].Deadline += shift
		later.Clients[i].Expires += shift
	}
	assert.Equal(t, fp, later.Fingerprint())

	// A slot's memory of past client tokens counts: with it, the slot
	// drops a late Hello it would otherwise answer.
	forgot := a.Clone()
	n := 0
	forgot.Server.EachSlot(func(sl *protocol.Slot) {
		require.False(t, sl.Seen[0].IsZero(), "the slot remembers its Hello")
		sl.Seen = [protocol.SeenTokens]protocol.Token{}
		n++
	})
	require.Equal(t, 2, n)
	assert.NotEqual(t, a.Fingerprint(), forgot.Fingerprint())
}

func mustEnv(t *testing.T, w *World, slot int32) Envelope {
	t.Helper()
	e, ok := w.Envelope(slot)
	require.True(t, ok)
	return e
}

func TestWorldEnabledLimits(t *testing.T) {
	count := func(ss []Step, k StepKind) int {
		n := 0
		for _, s := range ss {
			if s.Kind == k {
				n++
			}
		}
		return n
	}
	w := newTestWorld(t, protocol.Hardened(), WorldOptions{Clients: 2, Handshakes: 1, Limits: Limits{Drops: 1}})
	en := w.Enabled(nil)
	assert.Equal(t, 2, count(en, StepStart))
	apply(t, w, en[0])
	en = w.Enabled(nil)
	assert.Zero(t, count(en, StepStart), "the handshake budget is spent")
	assert.Equal(t, 1, count(en, StepDeliver))
	assert.Equal(t, 1, count(en, StepDrop))
	assert.Zero(t, count(en, StepDup))
	assert.Equal(t, 1, count(en, StepClientTimer))
	for _, s := range en {
		if s.Kind == StepDrop {
			apply(t, w, s)
		}
	}
	apply(t, w, Step{Kind: StepInject, At: w.Now, Msg: protocol.Message{Kind: protocol.Hello, RegID: 1, Tc: tc1}})
	assert.Zero(t, count(w.Enabled(nil), StepDrop), "the drop budget is spent")
}

// A random walk over Enabled never hits a step Apply refuses, and a trace
// of the walk replays to the same world.
func TestWorldRandomWalk(t *testing.T) {
	for seed := range uint64(20) {
		rng := rand.New(rand.NewPCG(seed, 1))
		o := WorldOptions{Clients: 3, Handshakes: 6, Commands: 2, Limits: Limits{Drops: 3, Dups: 3, Corrupts: 1}}
		w := newTestWorld(t, protocol.Hardened(), o)
		var steps []Step
		for range 200 {
			en := w.Enabled(nil)
			if len(en) == 0 {
				break
			}
			s := en[rng.IntN(len(en))]
			apply(t, w, s)
			steps = append(steps, s)
		}
		again := newTestWorld(t, protocol.Hardened(), o)
		for _, s := range steps {
			apply(t, again, s)
		}
		require.Equal(t, w.Fingerprint(), again.Fingerprint())
		require.Equal(t, w.Counters, again.Counters)
	}
}

func TestMermaid(t *testing.T) {
	w := newTestWorld(t, protocol.Hardened(), WorldOptions{Clients: 1, Handshakes: 1})
	var recs []trace.Record
	step := func(s Step) Result {
		r := apply(t, w, s)
		recs = append(recs, RecordOf(uint64(len(recs)+1), s, &r, w))
		return r
	}
	hello := step(Step{Kind: StepStart})
	step(Step{Kind: StepDrop, Slot: hello.SentSlot, ID: hello.Sent.ID})
	forged := step(Step{Kind: StepInject, Msg: protocol.Message{Kind: protocol.Validation, RegID: 1, Tc: tc2, Ts: ts1}})
	step(Step{Kind: StepDeliver, Slot: forged.SentSlot, ID: forged.Sent.ID})

	d := Mermaid(1, 1, recs, trace.Violation{Property: protocol.AuthC, Step: 4})
	assert.True(t, strings.HasPrefix(d, "sequenceDiagram\n"))
	for _, want := range []string{
		"participant C as Client 1",
		"participant A as Adversary",
		"C-xS: Hello Tc=",
		"Note over A: t=0s inject Validation",
		"A->>C: Validation Tc=tok3 Ts=tok2",
		"Note over C: rejects Validation - client token is not the pending handshake's",
		"AUTH-C VIOLATED at step 4",
	} {
		assert.Contains(t, d, want)
	}
	assert.NotContains(t, d, "#", "Mermaid reads # as an entity")
}

// Limits.Retransmits bounds the client re-sends along a path: once they
// are spent, a timer that would re-send is held back, and with it every
// later timer (time is monotone), while a timer that gives up still
// fires. The fault-free continuation lifts the bound.
func TestRetransmitBudgetHoldsBackTimersThatWouldResend(t *testing.T) {
	timers := func(w *World) (client, server int) {
		for _, s := range w.Enabled(nil) {
			switch s.Kind {
			case StepClientTimer:
				client++
			case StepServerTimer:
				server++
			}
		}
		return client, server
	}
	p := protocol.Hardened()
	p.Retries = 2
	w := newTestWorld(t, p, WorldOptions{Clients: 1, Handshakes: 1, Limits: Limits{Drops: 2, Retransmits: 1}})
	apply(t, w, Step{Kind: StepStart, Client: 0})
	take(t, w, StepDrop, protocol.Hello)
	take(t, w, StepClientTimer, 0)
	require.EqualValues(t, 1, w.Counters.Retransmits, "the Hello again")
	take(t, w, StepDeliver, protocol.Hello) // the server's slot now has a timer, due after the client's
	take(t, w, StepDrop, protocol.Validation)
	client, server := timers(w)
	require.Zero(t, client, "a second re-send is over the budget of one")
	require.Zero(t, server, "the server's timer is due after the client's, which has not fired")
	require.False(t, w.Clients[0].GivesUp(w.Handshake(), w.NextDeadline()))

	var buf, cont []Step
	w.Clone().Disagreement(&buf, &cont)
	require.NotEmpty(t, cont)
	require.Equal(t, StepClientTimer, cont[0].Kind, "the continuation re-sends as the protocol does")

	// With one retry the timer after the re-send gives up, which the
	// budget does not hold back.
	p.Retries = 1
	w = newTestWorld(t, p, WorldOptions{Clients: 1, Handshakes: 1, Limits: Limits{Drops: 2, Retransmits: 1}})
	apply(t, w, Step{Kind: StepStart, Client: 0})
	take(t, w, StepDrop, protocol.Hello)
	take(t, w, StepClientTimer, 0)
	take(t, w, StepDrop, protocol.Hello)
	client, _ = timers(w)
	require.Equal(t, 1, client)
	take(t, w, StepClientTimer, 0)
	require.Equal(t, protocol.ClientFailed, w.Clients[0].State)
}
