package adversary

import (
	"math"

	"github.com/verishake/verishake/protocol"
)

// The explorer adversary's moves besides injections: the insider's own
// handshake, and guesses of short tokens.

// InsiderMoves appends the messages of the insider's own handshake it may
// send now: a Hello with its own token while it has handshakes left, and
// the Confirm1 of its pending session once the server's Validation has
// reached it. They are not injections: no budget pays for them.
func (x *Explorer) InsiderMoves(dst []protocol.Message) []protocol.Message {
	if !x.Caps.Insider {
		return dst
	}
	id := x.Knowledge.Insider
	if x.InsiderRuns < x.MaxInsiderRuns {
		dst = append(dst, protocol.Message{Kind: protocol.Hello, RegID: id, Tc: Own})
	}
	if !x.InsiderTs.IsZero() {
		dst = append(dst, protocol.Message{Kind: protocol.Confirm1, RegID: id, Ts: x.InsiderTs})
	}
	return dst
}

// InsiderSent records that the insider sent m, one of InsiderMoves: a
// Hello starts its next handshake, a Confirm1 answers its pending one.
func (x *Explorer) InsiderSent(m protocol.Message) {
	switch m.Kind {
	case protocol.Hello:
		x.InsiderRuns++
		x.InsiderTs = protocol.Token{}
	case protocol.Confirm1:
		x.InsiderTs = protocol.Token{}
	}
}

// Guessable reports whether tokens of bits bits are short enough that a
// guess must be explored: a guess then hits a given token with odds
// 2^-bits, above ForgeBound, the rate FORGE allows.
func Guessable(bits int) bool { return math.Ldexp(1, -bits) > ForgeBound }

// Guesses appends the messages a forging adversary makes by guessing: for
// each honest target and each token in tokens (the fresh tokens in use
// that it does not know, each of which a guess may hit), the message each
// check on that token would accept: a Confirm1 carrying it as the Ts, a
// Validation carrying it as the Tc, a Confirm2 and a Command carrying it
// as the Ts. Each is a forgery attempt (Step.Guess). It appends nothing
// without the forge capability or once the budget is spent.
func (x *Explorer) Guesses(dst []protocol.Message, tokens []protocol.Token) []protocol.Message {
	if !x.Caps.Forge || x.Exhausted() {
		return dst
	}
	for _, id := range x.Targets {
		for _, t := range tokens {
			dst = append(dst,
				protocol.Message{Kind: protocol.Confirm1, RegID: id, Ts: t},
				protocol.Message{Kind: protocol.Validation, RegID: id, Tc: t, Ts: Own},
				protocol.Message{Kind: protocol.Confirm2, RegID: id, Ts: t},
				protocol.Message{Kind: protocol.Command, RegID: id, Ts: t, Seq: ForgedSeq})
		}
	}
	return dst
}

// Floods reports whether the adversary may flood the server.
func (x *Explorer) Floods() bool { return x.Caps.Flood && !x.Exhausted() }
