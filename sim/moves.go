package sim

import (
	"slices"

	"github.com/verishake/verishake/adversary"
	"github.com/verishake/verishake/protocol"
)

// The adversary's moves besides injections of what it knows, for an
// Explorable adversary that offers them: a flood, the insider's own
// handshake, and guesses of short tokens.

// Flooder is an Explorable adversary that may flood the server.
type Flooder interface {
	// Floods reports whether it may flood now.
	Floods() bool
}

// Insider is an Explorable adversary that runs handshakes of its own as a
// registered client. Its messages are not injections: no budget pays for
// them (StepInsider).
type Insider interface {
	// InsiderMoves appends the messages of its own handshake it may send now.
	InsiderMoves(dst []protocol.Message) []protocol.Message
	// InsiderSent records that it sent m, one of InsiderMoves.
	InsiderSent(m protocol.Message)
}

// GuessMover is an Explorable adversary that guesses tokens.
type GuessMover interface {
	// Guesses appends the messages it makes by guessing one of tokens.
	Guesses(dst []protocol.Message, tokens []protocol.Token) []protocol.Message
}

// FloodRegID is the RegID a StepServerTimer names to expire a flood's
// sessions: far above every honest client's and the insider's, and just
// below the RegIDs a simulated flood forges (adversary.FloodBase up).
const FloodRegID = adversary.FloodBase - 1

// FloodSize is how many Hellos a StepFlood sends: one more than BOUNDED's
// limit, so that a server without a cap exceeds it, and a server with one
// fills it.
func FloodSize(p protocol.Profile) int32 {
	return int32(max(p.HalfOpenCap, DefaultHalfOpenCap) + 1)
}

// charged is how many injections (injected messages and floods) the run
// has made: what Limits.Injects bounds.
func (w *World) charged() uint64 { return w.Counters.Steps[StepInject] + w.Counters.Steps[StepFlood] }

// adversaryMoves appends the adversary's enabled moves: injections and a
// flood while the injection limit allows, guesses when the profile's
// tokens are short enough to guess, and the insider's own handshake
// whatever the limit.
func (w *World) adversaryMoves(dst []Step) []Step {
	ex, ok := w.adv.(Explorable)
	if !ok {
		return dst
	}
	if w.charged() < uint64(w.opts.Limits.Injects) {
		w.moves = ex.Moves(w.moves[:0])
		for _, m := range w.moves {
			dst = append(dst, Step{Kind: StepInject, At: w.Now, Msg: m})
		}
		if g, ok := w.adv.(GuessMover); ok && adversary.Guessable(w.h.Profile().TokenBits) {
			w.moves = g.Guesses(w.moves[:0], w.guessable())
			for _, m := range w.moves {
				dst = append(dst, Step{Kind: StepInject, At: w.Now, Msg: m, Guess: true})
			}
		}
		if f, ok := w.adv.(Flooder); ok && f.Floods() {
			dst = append(dst, Step{Kind: StepFlood, At: w.Now, Count: FloodSize(w.h.Profile())})
		}
	}
	// The insider runs its own handshake first, before any honest client
	// starts one (docs/properties.md, "The insider in the explorer").
	if in, ok := w.adv.(Insider); ok && w.Counters.Started == 0 {
		w.moves = in.InsiderMoves(w.moves[:0])
		for _, m := range w.moves {
			dst = append(dst, Step{Kind: StepInsider, At: w.Now, Msg: m})
		}
	}
	return dst
}

// guessable lists the fresh tokens in use that a guess may hit: every
// token a client or a server slot holds, once, in a fixed order, less the
// adversary's own and those it knows.
func (w *World) guessable() []protocol.Token {
	out := w.guesses[:0]
	add := func(t protocol.Token) {
		if t.IsZero() || t.Equal(adversary.Own) || slices.Contains(out, t) {
			return
		}
		if x, ok := w.adv.(*adversary.Explorer); ok && x.Knowledge.Knows(t) {
			return
		}
		out = append(out, t)
	}
	for i := range w.Clients {
		add(w.Clients[i].Tc)
		add(w.Clients[i].Ts)
	}
	w.Server.EachSlot(func(sl *protocol.Slot) {
		add(sl.Pending.Tc)
		add(sl.Pending.Ts)
		add(sl.Current.Tc)
		add(sl.Current.Ts)
	})
	w.guesses = out
	return out
}

// flood takes a StepFlood: Count Hellos from fresh forged RegIDs, as one
// move, the admitted ones kept by the server as a count.
func (w *World) flood(r *Result, s *Step) {
	r.Role, r.RegID = protocol.RoleServer, FloodRegID
	w.Server.Flood(w.h, w.Now, int(s.Count))
	r.Deadline = w.Server.FloodDeadline()
}

// insider takes a StepInsider: the server receives the insider's message
// at once (the insider is the network's owner too), its answer goes to the
// insider's device (taken as sent, World.send), and the adversary records
// its own handshake's step. Once the server has verified the insider's
// session, the world forgets that session: nothing about it can reach an
// honest client — its RegID's claims are exempt, pushes to it reach no
// honest device, a verified session counts toward no cap, and no check of
// another RegID reads it — and kept, its expiry would pin every later
// state to the clock, where the explorer counts time relative to now.
func (w *World) insider(r *Result, s *Step) {
	if in, ok := w.adv.(Insider); ok {
		in.InsiderSent(s.Msg)
	}
	w.nextID++
	w.deliver(r, Envelope{ID: w.nextID, From: FromAdversary, Msg: s.Msg})
	if s.Msg.Kind == protocol.Confirm1 && r.Err == nil {
		if sl := w.Server.View(s.Msg.RegID); sl != nil && sl.State == protocol.SessionVerified {
			kept := w.unhashSlot(s.Msg.RegID)
			w.Server.Put(protocol.Slot{RegID: s.Msg.RegID})
			w.rehashSlot(s.Msg.RegID, kept)
		}
	}
}
