package protocol_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	. "github.com/verishake/verishake/protocol"
)

var other = Symbolic(99) // a token no machine of these tests drew

// decisionPoint is one hook's place: a step that the built-in check accepts
// when pass is true and rejects with err when it is false.
type decisionPoint struct {
	name string
	err  error
	// set installs hook, answering !ok and counting its calls in *calls.
	set  func(p *Profile, calls *int)
	step func(t *testing.T, p Profile, pass bool) Output
}

func oppositeClient(calls *int) ClientHook {
	return func(_ Client, _ *Ext, _ Message, ok bool) bool { *calls++; return !ok }
}

func oppositeSlot(calls *int) SlotHook {
	return func(_ Slot, _ *HookState, _ Message, ok bool) bool { *calls++; return !ok }
}

// pick is right when pass, else wrong.
func pick(pass bool, right, wrong Token) Token {
	if pass {
		return right
	}
	return wrong
}

var decisionPoints = []decisionPoint{
	{name: "ValidationTc", err: ErrWrongTc,
		set: func(p *Profile, n *int) { p.Hooks.ValidationTc = oppositeClient(n) },
		step: func(t *testing.T, p Profile, pass bool) Output {
			tr := newTranscript(t, p)
			tr.client.Start(tr.h, 0, tr.tokens)
			return tr.client.Handle(tr.h, 0, Message{Kind: Validation, RegID: 7, Tc: pick(pass, tc, other), Ts: ts})
		}},
	{name: "Confirm2Ts", err: ErrWrongTs,
		set: func(p *Profile, n *int) { p.Hooks.Confirm2Ts = oppositeClient(n) },
		step: func(t *testing.T, p Profile, pass bool) Output {
			tr := newTranscript(t, p)
			tr.client.Start(tr.h, 0, tr.tokens)
			tr.client.Handle(tr.h, 0, Message{Kind: Validation, RegID: 7, Tc: tc, Ts: ts})
			return tr.client.Handle(tr.h, 0, Message{Kind: Confirm2, RegID: 7, Ts: pick(pass, ts, other)})
		}},
	{name: "CommandTs", err: ErrWrongTs,
		set: func(p *Profile, n *int) { p.Hooks.CommandTs = oppositeClient(n) },
		step: func(t *testing.T, p Profile, pass bool) Output {
			tr := verifiedPair(t, p)
			return tr.client.Handle(tr.h, 0, Message{Kind: Command, RegID: 7, Ts: pick(pass, tr.client.Ts, other), Seq: 1})
		}},
	{name: "CommandSeq", err: ErrRepeatedSeq,
		set: func(p *Profile, n *int) { p.Hooks.CommandSeq = oppositeClient(n) },
		step: func(t *testing.T, p Profile, pass bool) Output {
			tr := verifiedPair(t, p)
			m := Message{Kind: Command, RegID: 7, Ts: tr.client.Ts, Seq: 1}
			if !pass {
				// Seq 1 executed first, with the built-in check: the
				// same number again is a replay.
				tr.client.LastSeq = 1
			}
			return tr.client.Handle(tr.h, 0, m)
		}},
	{name: "Confirm1Ts", err: ErrWrongTs,
		set: func(p *Profile, n *int) { p.Hooks.Confirm1Ts = oppositeSlot(n) },
		step: func(t *testing.T, p Profile, pass bool) Output {
			tr := newTranscript(t, p)
			v := tr.server.Handle(tr.h, 0, Message{Kind: Hello, RegID: 7, Tc: tc}, tr.tokens)
			require.NoError(t, v.Err)
			return tr.server.Handle(tr.h, 0, Message{Kind: Confirm1, RegID: 7, Ts: pick(pass, v.Send.Ts, other)}, tr.tokens)
		}},
}

// Each decision point consults its hook, and acts on the hook's verdict:
// a hook answering the opposite of the built-in check turns an accepted
// message into a rejected one and a rejected one into an accepted one.
func TestHookDecidesAtItsPoint(t *testing.T) {
	for _, d := range decisionPoints {
		t.Run(d.name, func(t *testing.T) {
			base := Hardened()
			require.NoError(t, d.step(t, base, true).Err, "built in: the right message passes")
			require.ErrorIs(t, d.step(t, base, false).Err, d.err, "built in: the wrong message is refused")

			calls := 0
			p := base
			d.set(&p, &calls)
			require.ErrorIs(t, d.step(t, p, true).Err, d.err, "the hook refuses the right message")
			require.Equal(t, 1, calls)
			require.NoError(t, d.step(t, p, false).Err, "the hook accepts the wrong message")
			require.Equal(t, 2, calls)
			require.Equal(t, []string{d.name}, p.Hooks.Names())
		})
	}
}

// HelloTs chooses the Ts a new session gets; the zero token refuses the Hello
// and leaves the slot as it was.
func TestHookHelloTs(t *testing.T) {
	p := Hardened()
	var shown Token
	p.Hooks.HelloTs = func(_ Slot, _ *HookState, _ Message, ts Token) Token { shown = ts; return other }
	tr := newTranscript(t, p)
	out := tr.server.Handle(tr.h, 0, Message{Kind: Hello, RegID: 7, Tc: tc}, tr.tokens)
	require.NoError(t, out.Err)
	require.Equal(t, Symbolic(1), shown, "the hook is shown the fresh Ts")
	require.Equal(t, other, out.Send.Ts, "the Validation carries the hook's Ts")
	sl, _ := tr.server.Slot(7)
	require.Equal(t, other, sl.Pending.Ts)

	p.Hooks.HelloTs = func(Slot, *HookState, Message, Token) Token { return Token{} }
	tr = newTranscript(t, p)
	tr.reject(tr.server.Handle(tr.h, 0, Message{Kind: Hello, RegID: 7, Tc: tc}, tr.tokens), ErrZeroToken)
	require.Zero(t, tr.server.Len(), "a refused Hello opens nothing")
}

// A hook's changes to Ext stand when the machine accepts the message, and
// are dropped with the rest of the step when it rejects it.
func TestHookExtKeptOnlyOnAccept(t *testing.T) {
	mark := func(verdict bool) ClientHook {
		return func(c Client, ext *Ext, m Message, ok bool) bool {
			ext.Tokens[0], ext.Words[0] = m.Ts, ext.Words[0]+1
			return verdict
		}
	}
	for _, verdict := range []bool{false, true} {
		p := Hardened()
		p.Hooks.Confirm2Ts = mark(verdict)
		tr := newTranscript(t, p)
		tr.client.Start(tr.h, 0, tr.tokens)
		tr.client.Handle(tr.h, 0, Message{Kind: Validation, RegID: 7, Tc: tc, Ts: ts})
		tr.client.Handle(tr.h, 0, Message{Kind: Confirm2, RegID: 7, Ts: ts})
		if verdict {
			require.Equal(t, Ext{Tokens: [ExtTokens]Token{ts}, Words: [ExtWords]uint64{1}}, tr.client.Ext)
		} else {
			require.Zero(t, tr.client.Ext, "a rejected Confirm2 leaves the client unchanged")
		}
	}

	for _, verdict := range []bool{false, true} {
		p := Hardened()
		p.Hooks.Confirm1Ts = func(_ Slot, st *HookState, m Message, ok bool) bool {
			st.Slot.Tokens[0], st.Server.Words[1] = m.Ts, 7
			return verdict
		}
		tr := newTranscript(t, p)
		v := tr.server.Handle(tr.h, 0, Message{Kind: Hello, RegID: 7, Tc: tc}, tr.tokens)
		tr.server.Handle(tr.h, 0, Message{Kind: Confirm1, RegID: 7, Ts: v.Send.Ts}, tr.tokens)
		sl, _ := tr.server.Slot(7)
		if verdict {
			require.Equal(t, v.Send.Ts, sl.Ext.Tokens[0])
			require.Equal(t, uint64(7), tr.server.Ext.Words[1], "the server-wide state is the Server's")
		} else {
			require.Zero(t, sl.Ext)
			require.Zero(t, tr.server.Ext)
		}
	}
}

// The server-wide state lives in the Server: its copies carry it and Reset
// clears it; a slot driven alone gets none to keep.
func TestServerExtIsServerState(t *testing.T) {
	p := Hardened()
	p.Hooks.HelloTs = func(_ Slot, st *HookState, _ Message, ts Token) Token {
		st.Server.Words[0]++
		return ts
	}
	h := p.MustCompile()
	tokens := &SymbolicTokens{}
	s := NewServer()
	for id := RegID(1); id <= 3; id++ {
		require.NoError(t, s.Handle(h, 0, Message{Kind: Hello, RegID: id, Tc: Symbolic(50 + uint64(id))}, tokens).Err)
	}
	require.Equal(t, uint64(3), s.Ext.Words[0], "one Hello each, counted server-wide")
	c := s.Clone()
	require.Equal(t, s.Ext, c.Ext)
	into := NewServer()
	into.CopyFrom(s)
	require.Equal(t, s.Ext, into.Ext, "CopyFrom between tables of one size")
	into.Reset()
	require.Zero(t, into.Ext)
	into.CopyFrom(s)
	require.Equal(t, s.Ext, into.Ext)

	sl := Slot{RegID: 9}
	require.NoError(t, sl.Handle(h, 0, Message{Kind: Hello, RegID: 9, Tc: tc}, tokens, SlotEnv{Admit: true}).Err)
	require.Zero(t, sl.Ext, "outside a Server the server-wide state is dropped")
}

// Outside a Server a hook sees only its own slot's pending session.
func TestHookStatePendingTs(t *testing.T) {
	p := Hardened()
	var seen []bool
	p.Hooks.Confirm1Ts = func(_ Slot, st *HookState, m Message, ok bool) bool {
		seen = append(seen, st.PendingTs(m.Ts), st.PendingTs(other))
		return ok
	}
	h := p.MustCompile()
	tokens := &SymbolicTokens{}
	s := NewServer()
	v := s.Handle(h, 0, Message{Kind: Hello, RegID: 1, Tc: tc}, tokens).Send
	require.NoError(t, s.Handle(h, 0, Message{Kind: Hello, RegID: 2, Tc: Symbolic(60)}, tokens).Err)
	s.Handle(h, 0, Message{Kind: Confirm1, RegID: 2, Ts: v.Ts}, tokens)
	require.Equal(t, []bool{true, false}, seen, "RegID 1's pending Ts, seen from RegID 2's slot")

	seen = nil
	sl := Slot{RegID: 9}
	v = sl.Handle(h, 0, Message{Kind: Hello, RegID: 9, Tc: tc}, tokens, SlotEnv{Admit: true}).Send
	sl.Handle(h, 0, Message{Kind: Confirm1, RegID: 9, Ts: v.Ts}, tokens, SlotEnv{})
	require.Equal(t, []bool{true, false}, seen)
}

// Variants stack: the second variant's hook is shown the first's verdict.
func TestVariantHooksCompose(t *testing.T) {
	var order []string
	hook := func(name string, verdict bool) ClientHook {
		return func(_ Client, _ *Ext, _ Message, ok bool) bool {
			order = append(order, name)
			require.Equal(t, name == "second", !ok, "the second hook sees the first's verdict")
			return verdict
		}
	}
	first := Variant{Name: "first", Hooks: Hooks{Confirm2Ts: hook("first", false)}}
	second := Variant{Name: "second", Hooks: Hooks{Confirm2Ts: hook("second", true)}}
	p := second.Of(first.Of(Hardened()))
	require.Equal(t, "hardened+first+second", p.Name)
	tr := newTranscript(t, p)
	tr.client.Start(tr.h, 0, tr.tokens)
	tr.client.Handle(tr.h, 0, Message{Kind: Validation, RegID: 7, Tc: tc, Ts: ts})
	require.NoError(t, tr.client.Handle(tr.h, 0, Message{Kind: Confirm2, RegID: 7, Ts: ts}).Err)
	require.Equal(t, []string{"first", "second"}, order)
}

// A profile's JSON names the hooks it runs, and reading one back refuses
// them: a trace cannot carry code. A profile without hooks has no "hooks"
// key, so its traces read as before hooks existed.
func TestHooksJSON(t *testing.T) {
	plain, err := json.Marshal(Hardened())
	require.NoError(t, err)
	require.NotContains(t, string(plain), "hooks")

	p := Hardened()
	p.Hooks.Confirm2Ts = func(Client, *Ext, Message, bool) bool { return true }
	p.Hooks.HelloTs = func(_ Slot, _ *HookState, _ Message, ts Token) Token { return ts }
	hooked, err := json.Marshal(p)
	require.NoError(t, err)
	require.Contains(t, string(hooked), `"hooks":["Confirm2Ts","HelloTs"]`)

	var back Profile
	require.NoError(t, json.Unmarshal(plain, &back))
	require.ErrorContains(t, json.Unmarshal(hooked, &back), "profile hooks Confirm2Ts, HelloTs are code")
	require.NoError(t, json.Unmarshal([]byte(`{"hooks":[]}`), &back))
	require.Error(t, json.Unmarshal([]byte(`{"hooks":7}`), &back))
}

// With no hooks set, the decision points cost a nil check and nothing on
// the heap: a handshake, a command, and a fresh slot opened and expired
// allocate nothing (what a hook is handed escapes, so a careless call site
// moves the machine it steps to the heap on every step).
func TestUnhookedStepsDoNotAllocate(t *testing.T) {
	h := Hardened().MustCompile()
	tokens := &SymbolicTokens{}
	s := NewServer()
	c := NewClient(1)
	var now Time
	round := func() {
		now += Time(2 * time.Minute)
		v := s.Handle(h, now, c.Start(h, now, tokens).Send, tokens)
		c2 := s.Handle(h, now, c.Handle(h, now, v.Send).Send, tokens)
		if out := c.Handle(h, now, c2.Send); out.Err != nil {
			t.Fatal(out.Err)
		}
		if out := c.Handle(h, now, s.Issue(h, now, 1, "x").Send); out.Err != nil {
			t.Fatal(out.Err)
		}
		// RegID 2: a slot opened fresh, then gone with its lifetime.
		if out := s.Handle(h, now, Message{Kind: Hello, RegID: 2, Tc: Symbolic(uint64(now))}, tokens); out.Err != nil {
			t.Fatal(out.Err)
		}
		s.Expire(h, now+Time(time.Hour), 2)
	}
	round()
	require.Zero(t, testing.AllocsPerRun(100, round))
}

// BenchmarkHandshakeHooked is BenchmarkHandshake with every decision point
// a hook that keeps the built-in verdict: what calling hooks costs (the
// copies they are handed), beside BenchmarkHandshake's nil checks.
func BenchmarkHandshakeHooked(b *testing.B) {
	p := Hardened()
	keep := func(_ Client, _ *Ext, _ Message, ok bool) bool { return ok }
	p.Hooks = Hooks{ValidationTc: keep, Confirm2Ts: keep, CommandTs: keep, CommandSeq: keep,
		Confirm1Ts: func(_ Slot, _ *HookState, _ Message, ok bool) bool { return ok },
		HelloTs:    func(_ Slot, _ *HookState, _ Message, ts Token) Token { return ts }}
	benchHandshakes(b, p.MustCompile())
}
