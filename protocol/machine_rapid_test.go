package protocol_test

import (
	"slices"
	"testing"

	"pgregory.net/rapid"

	. "github.com/verishake/verishake/protocol"
)

// tokenPool draws tokens from a small symbolic pool, so random messages hit
// the machines' real tokens often enough to matter.
func tokenPool(t *rapid.T, label string) Token {
	k := rapid.Uint64Range(0, 6).Draw(t, label)
	if k == 0 {
		return Token{} // the zero token must be refused, never matched
	}
	return Symbolic(k)
}

// randomMessage builds a message of one of kinds carrying only the fields
// its kind has on the wire.
func randomMessage(t *rapid.T, kinds []Kind) Message {
	m := Message{
		Kind:  rapid.SampledFrom(kinds).Draw(t, "kind"),
		RegID: RegID(rapid.IntRange(6, 8).Draw(t, "regid")),
	}
	switch m.Kind {
	case Hello:
		m.Tc = tokenPool(t, "tc")
	case Validation:
		m.Tc, m.Ts = tokenPool(t, "tc"), tokenPool(t, "ts")
	case Confirm1, Confirm2:
		m.Ts = tokenPool(t, "ts")
	case Command:
		m.Ts, m.Seq = tokenPool(t, "ts"), rapid.Uint32Range(0, 3).Draw(t, "seq")
	}
	if rapid.Bool().Draw(t, "kind out of range") {
		m.Kind = Kind(rapid.Uint8().Draw(t, "raw kind"))
	}
	return m
}

func randomProfile(t *rapid.T) Profile {
	return rapid.SampledFrom([]Profile{Patent(), Hardened()}).Draw(t, "profile")
}

// TestClientNeverCommitsUnjustified feeds a client random pushes, starts and
// timer firings. It must never panic, and each Commit it claims must be
// justified: a Hello it sent with that Tc, a Validation it received with
// that Tc and Ts, then a Confirm2 with that Ts (or, with CommandConfirms, a
// Command with that Ts).
func TestClientNeverCommitsUnjustified(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		h := randomProfile(t).MustCompile()
		tokens := &SymbolicTokens{N: 2} // fresh tokens start at #3, inside the pool
		c := NewClient(7)
		var now Time
		var sent, received []Message
		t.Repeat(map[string]func(*rapid.T){
			"start": func(t *rapid.T) {
				out := c.Start(h, now, tokens)
				if out.Err == nil {
					sent = append(sent, out.Send)
				}
			},
			"push": func(t *rapid.T) {
				m := randomMessage(t, []Kind{Validation, Confirm2, Command})
				out := c.Handle(h, now, m)
				if out.Err == nil {
					received = append(received, m)
				}
				for _, cl := range out.ClaimList() {
					if cl.Kind != Commit {
						continue
					}
					hello := Message{Kind: Hello, RegID: 7, Tc: cl.Tc}
					validation := Message{Kind: Validation, RegID: 7, Tc: cl.Tc, Ts: cl.Ts}
					// A Confirm2, or with CommandConfirms a Command, under
					// the session's Ts: each only the verified server sends.
					proof := m.Kind == Confirm2 || m.Kind == Command && h.Profile().CommandConfirms
					if !slices.Contains(sent, hello) || !slices.Contains(received, validation) ||
						!proof || m.Ts != cl.Ts {
						t.Fatalf("unjustified %v after sent %v received %v", cl, sent, received)
					}
				}
			},
			"time": func(t *rapid.T) {
				now += Time(rapid.Int64Range(0, 40e9).Draw(t, "advance"))
				out := c.Timeout(h, now, tokens)
				if out.Err == nil && out.Send.Kind != 0 {
					sent = append(sent, out.Send)
				}
			},
		})
	})
}

// TestServerNeverCommitsUnjustified is the server's counterpart: each
// Commit needs a Hello with that RegID and Tc, a Validation sent with that
// Tc and Ts, and the Confirm1 with that RegID and Ts being handled.
func TestServerNeverCommitsUnjustified(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		p := randomProfile(t)
		p.HalfOpenCap = rapid.IntRange(0, 2).Draw(t, "cap")
		h := p.MustCompile()
		tokens := &SymbolicTokens{N: 2}
		s := NewServer()
		var now Time
		var sent, received []Message
		t.Repeat(map[string]func(*rapid.T){
			"upstream": func(t *rapid.T) {
				m := randomMessage(t, []Kind{Hello, Confirm1})
				out := s.Handle(h, now, m, tokens)
				if out.Err == nil {
					received = append(received, m)
					sent = append(sent, out.Send)
				}
				for _, cl := range out.ClaimList() {
					if cl.Kind != Commit {
						continue
					}
					hello := Message{Kind: Hello, RegID: cl.RegID, Tc: cl.Tc}
					validation := Message{Kind: Validation, RegID: cl.RegID, Tc: cl.Tc, Ts: cl.Ts}
					if !slices.Contains(received, hello) || !slices.Contains(sent, validation) ||
						m.Kind != Confirm1 || m.RegID != cl.RegID || m.Ts != cl.Ts {
						t.Fatalf("unjustified %v after received %v sent %v", cl, received, sent)
					}
				}
				if p.HalfOpenCap > 0 && s.HalfOpen() > p.HalfOpenCap {
					t.Fatalf("%d half-open sessions above the cap %d", s.HalfOpen(), p.HalfOpenCap)
				}
			},
			"issue": func(t *rapid.T) {
				s.Issue(h, now, RegID(rapid.IntRange(6, 8).Draw(t, "regid")), "")
			},
			"": func(t *rapid.T) {
				open := 0
				for _, sl := range s.Slots() {
					if sl.HalfOpen() {
						open++
					}
					if sl.State == SessionNone {
						t.Fatalf("slot %d kept with no session", sl.RegID)
					}
				}
				if open != s.HalfOpen() {
					t.Fatalf("half-open count %d, slots say %d", s.HalfOpen(), open)
				}
			},
			"time": func(t *rapid.T) {
				now += Time(rapid.Int64Range(0, 40e9).Draw(t, "advance"))
				s.Expire(h, now, RegID(rapid.IntRange(6, 8).Draw(t, "regid")))
			},
		})
	})
}

// TestServerTableMatchesModel checks the open-addressing slot table against
// a map: insertions, replacements and backward-shift removals in any order.
func TestServerTableMatchesModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := NewServer()
		model := map[RegID]Slot{}
		halfOpen := 0
		t.Repeat(map[string]func(*rapid.T){
			"put": func(t *rapid.T) {
				sl := Slot{
					RegID: RegID(rapid.IntRange(0, 64).Draw(t, "regid")),
					State: rapid.SampledFrom([]SessionState{SessionNone, AwaitConfirm1, SessionVerified, Rekeying}).Draw(t, "state"),
				}
				if old, ok := model[sl.RegID]; ok && old.HalfOpen() {
					halfOpen--
				}
				if sl.HalfOpen() {
					halfOpen++
				}
				if sl.State == SessionNone {
					delete(model, sl.RegID)
				} else {
					model[sl.RegID] = sl
				}
				s.Put(sl)
			},
			"": func(t *rapid.T) {
				if s.Len() != len(model) || s.HalfOpen() != halfOpen {
					t.Fatalf("table has %d slots, %d half-open; model %d, %d", s.Len(), s.HalfOpen(), len(model), halfOpen)
				}
				for id, want := range model {
					if got, ok := s.Slot(id); !ok || got != want {
						t.Fatalf("slot %d: got %v %v, want %v", id, got, ok, want)
					}
				}
				if c := s.Clone(); c.Len() != s.Len() || len(c.Slots()) != len(model) {
					t.Fatalf("clone differs")
				}
			},
		})
	})
}
