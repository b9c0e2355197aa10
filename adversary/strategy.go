package adversary

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"slices"
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
// simulator's adversary hook (sim.Adversary) structurally.
type Adversary struct {
	Strategy  Strategy
	Caps      Capabilities
	Knowledge Knowledge
	// TokenBits is the profile's token length: public, so guesses match it.
	TokenBits int
	// Targets are the honest RegIDs it impersonates and pushes to.
	Targets []protocol.RegID
	// Guesses counts injected messages carrying a guessed token; Accepted
	// those a machine accepted. FORGE compares their ratio with ForgeBound.
	Guesses, Accepted uint64
	flooded           uint64
	guessed           []protocol.Message // guessed messages awaiting their Outcome
}

// New returns a simulated adversary for strategy s against honest RegIDs
// 1..clients, owning RegID insider, with tokens of tokenBits; it remembers
// at most maxCaptured envelopes for replay.
func New(s Strategy, clients int, insider protocol.RegID, tokenBits, maxCaptured int) *Adversary {
	targets := make([]protocol.RegID, clients)
	for i := range targets {
		targets[i] = protocol.RegID(i + 1)
	}
	return &Adversary{Strategy: s, Caps: s.Capabilities(), Knowledge: NewKnowledge(insider, maxCaptured),
		TokenBits: tokenBits, Targets: targets}
}

// Observe records a message the network carries.
func (a *Adversary) Observe(m protocol.Message) { a.Knowledge.Observe(m, a.Caps) }

// Abandoned records the tokens of a session its honest client gave up.
func (a *Adversary) Abandoned(_ protocol.RegID, tc, ts protocol.Token) { a.Knowledge.Leak(tc, ts) }

// Clone returns an independent copy.
func (a *Adversary) Clone() any {
	c := *a
	c.Knowledge = a.Knowledge.Clone()
	c.guessed = slices.Clone(a.guessed)
	return &c
}

// Inject appends the adversary's next move, if it has one.
func (a *Adversary) Inject(rng *rand.Rand, _ protocol.Time, dst []protocol.Message) []protocol.Message {
	m, guessed, ok := a.Move(rng)
	if !ok {
		return dst
	}
	if guessed {
		a.guessed = append(a.guessed, m)
	}
	return append(dst, m)
}

// Outcome is told whether a machine accepted an injected message, and
// keeps the FORGE statistic for the ones that carried a guess.
func (a *Adversary) Outcome(m protocol.Message, accepted bool) {
	i := slices.Index(a.guessed, m)
	if i < 0 {
		return
	}
	a.guessed = slices.Delete(a.guessed, i, i+1)
	a.Guesses++
	if accepted {
		a.Accepted++
	}
}

// Move picks the next message to inject. guessed says it carries a guessed
// token. ok is false when there is no move.
func (a *Adversary) Move(rng *rand.Rand) (m protocol.Message, guessed, ok bool) {
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
		if len(a.Targets) == 0 {
			return m, false, false
		}
		to := a.Targets[rng.IntN(len(a.Targets))]
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

// guess returns a generator of random tokens of the profile's length.
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

// ForgeBound is the acceptance rate of guessed tokens FORGE tolerates:
// negligible, as 128-bit tokens give. A rate above it is a violation.
const ForgeBound = 0x1p-64

// ForgeHolds reports whether the FORGE statistic stays under ForgeBound.
// Any accepted guess exceeds it in a run of feasible length.
func (a *Adversary) ForgeHolds() bool {
	return a.Guesses == 0 || float64(a.Accepted)/float64(a.Guesses) <= ForgeBound
}

// Explorer is the adversary as the exhaustive explorer drives it: no
// randomness, every possible move listed (Moves), and its knowledge part
// of the explored state (Fingerprint). It implements sim.Explorable.
type Explorer struct {
	Caps      Capabilities
	Knowledge Knowledge
	Targets   []protocol.RegID
}

// NewExplorer returns an explorer adversary with capabilities c against
// honest RegIDs 1..clients, owning RegID insider.
func NewExplorer(c Capabilities, clients int, insider protocol.RegID) *Explorer {
	targets := make([]protocol.RegID, clients)
	for i := range targets {
		targets[i] = protocol.RegID(i + 1)
	}
	return &Explorer{Caps: c, Knowledge: NewKnowledge(insider, 0), Targets: targets}
}

// Observe records a message the network carries.
func (x *Explorer) Observe(m protocol.Message) { x.Knowledge.Observe(m, x.Caps) }

// Abandoned records the tokens of a session its honest client gave up.
func (x *Explorer) Abandoned(_ protocol.RegID, tc, ts protocol.Token) { x.Knowledge.Leak(tc, ts) }

// Inject proposes nothing: the explorer takes Moves instead.
func (x *Explorer) Inject(_ *rand.Rand, _ protocol.Time, dst []protocol.Message) []protocol.Message {
	return dst
}

// Clone returns an independent copy.
func (x *Explorer) Clone() any {
	c := *x
	c.Knowledge = x.Knowledge.Clone()
	return &c
}

// Moves lists every message the adversary can inject now.
func (x *Explorer) Moves(dst []protocol.Message) []protocol.Message {
	return Injections(dst, &x.Knowledge, x.Caps, x.Targets)
}

// Fingerprint hashes the knowledge; it is kept canonical (sorted, without
// duplicates), so equal knowledge hashes equal.
func (x *Explorer) Fingerprint() uint64 {
	h := mix(0, uint64(len(x.Knowledge.Tokens)))
	for _, t := range x.Knowledge.Tokens {
		h = mixToken(h, t)
	}
	for _, m := range x.Knowledge.Captured {
		h = mix(h, uint64(m.Kind)|uint64(m.Seq)<<32)
		h = mix(h, uint64(m.RegID))
		h = mixToken(mixToken(h, m.Tc), m.Ts)
	}
	return h
}

func mix(h, w uint64) uint64 {
	return bits.RotateLeft64(h^w*0x9e3779b97f4a7c15, 31) * 0xbf58476d1ce4e5b9
}

func mixToken(h uint64, t protocol.Token) uint64 {
	return mix(mix(h, binary.LittleEndian.Uint64(t[:8])), binary.LittleEndian.Uint64(t[8:]))
}
