package adversary

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/verishake/verishake/protocol"
)

// Strategy is how a simulated adversary picks its moves.
type Strategy uint8

// The strategies of `verishake sim --adversary`.
const (
	None        Strategy = iota // no moves
	Replay                      // re-send a captured envelope
	Forge                       // a message with a guessed token of the profile's length
	Impersonate                 // a message as or to an honest RegID, from known tokens
	Flood                       // a Hello from a fresh forged RegID
	All                         // each move one of the above, at random
)

var strategyNames = [...]string{"none", "replay", "forge", "impersonate", "flood", "all"}

func (s Strategy) String() string {
	if int(s) < len(strategyNames) {
		return strategyNames[s]
	}
	return fmt.Sprintf("Strategy(%d)", uint8(s))
}

// ParseStrategy reads a strategy name.
func ParseStrategy(name string) (Strategy, error) {
	for i, n := range strategyNames {
		if n == name {
			return Strategy(i), nil
		}
	}
	return None, fmt.Errorf("unknown adversary %q (want %s)", name, strings.Join(strategyNames[:], ", "))
}

// Capabilities is what the strategy needs of the threat model.
func (s Strategy) Capabilities() Capabilities {
	switch s {
	case None:
		return Capabilities{}
	case Replay:
		return Capabilities{Replay: true}
	case Forge:
		return Capabilities{Forge: true, Impersonate: true, Insider: true}
	case Impersonate:
		return Capabilities{Impersonate: true, Insider: true}
	case Flood:
		return Capabilities{Flood: true}
	}
	return Default()
}

// Adversary is a simulated attacker: its knowledge, its strategy and the
// FORGE statistic (guessed tokens tried and accepted). It implements the
// simulator's adversary hook.
type Adversary struct {
	Strategy  Strategy
	Caps      Capabilities
	Knowledge Knowledge
	// TokenBits is the profile's token length: public, so guesses match it.
	TokenBits int
	// Guesses counts moves carrying a guessed token; Accepted those a
	// machine accepted. FORGE compares their ratio with the bound.
	Guesses, Accepted uint64
	flooded           uint64
}

// New returns a simulated adversary for the strategy against tokens of
// tokenBits, remembering at most maxCaptured envelopes for replay.
func New(s Strategy, tokenBits, maxCaptured int) *Adversary {
	return &Adversary{Strategy: s, Caps: s.Capabilities(), Knowledge: NewKnowledge(maxCaptured), TokenBits: tokenBits}
}

// Observe records a message the network carries.
func (a *Adversary) Observe(m protocol.Message) { a.Knowledge.Observe(m, a.Caps) }

// Leak records the tokens of a session its honest client abandoned.
func (a *Adversary) Leak(tc, ts protocol.Token) { a.Knowledge.Leak(tc, ts) }

// Move picks the next message to inject against targets (the honest
// RegIDs). guessed says the message carries a guessed token: report whether
// a machine accepted it with Outcome. ok is false when there is no move.
func (a *Adversary) Move(rng *rand.Rand, targets []protocol.RegID) (m protocol.Message, guessed, ok bool) {
	s := a.Strategy
	if s == All {
		s = Strategy(1 + rng.IntN(int(Flood)))
	}
	k := &a.Knowledge
	switch s {
	case Replay:
		if len(k.Captured) == 0 {
			return m, false, false
		}
		return k.Captured[rng.IntN(len(k.Captured))], false, true
	case Flood:
		a.flooded++
		return protocol.Message{Kind: protocol.Hello, RegID: FloodBase + protocol.RegID(a.flooded), Tc: Own}, false, true
	case Forge, Impersonate:
		if len(targets) == 0 {
			return m, false, false
		}
		to := targets[rng.IntN(len(targets))]
		token := func() protocol.Token { return k.Tokens[rng.IntN(len(k.Tokens))] }
		if s == Forge {
			token, guessed = a.guess(rng), true
		}
		switch protocol.Kind(1 + rng.IntN(int(protocol.Command))) {
		case protocol.Hello:
			return protocol.Message{Kind: protocol.Hello, RegID: to, Tc: Own}, false, true
		case protocol.Validation:
			return protocol.Message{Kind: protocol.Validation, RegID: to, Tc: token(), Ts: token()}, guessed, true
		case protocol.Confirm1:
			return protocol.Message{Kind: protocol.Confirm1, RegID: to, Ts: token()}, guessed, true
		case protocol.Confirm2:
			return protocol.Message{Kind: protocol.Confirm2, RegID: to, Ts: token()}, guessed, true
		default:
			return protocol.Message{Kind: protocol.Command, RegID: to, Ts: token(), Seq: ForgedSeq}, guessed, true
		}
	}
	return m, false, false
}

// guess returns a random token of the profile's length, never zero.
func (a *Adversary) guess(rng *rand.Rand) func() protocol.Token {
	return func() protocol.Token {
		for {
			var t protocol.Token
			binary.LittleEndian.PutUint64(t[:8], rng.Uint64())
			binary.LittleEndian.PutUint64(t[8:], rng.Uint64())
			if t = t.Mask(a.TokenBits); !t.IsZero() {
				return t
			}
		}
	}
}

// Outcome records whether a machine accepted a move that carried a guess.
func (a *Adversary) Outcome(guessed, accepted bool) {
	if guessed {
		a.Guesses++
		if accepted {
			a.Accepted++
		}
	}
}

// ForgeBound is the acceptance rate of guessed tokens FORGE tolerates:
// negligible, as 128-bit tokens give. A rate above it is a violation.
const ForgeBound = 0x1p-64

// ForgeHolds reports whether the FORGE statistic stays under ForgeBound.
// Any accepted guess exceeds it in a run of feasible length.
func (a *Adversary) ForgeHolds() bool {
	return a.Guesses == 0 || float64(a.Accepted)/float64(a.Guesses) <= ForgeBound
}
