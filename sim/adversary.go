package sim

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"

	"github.com/verishake/verishake/protocol"
)

// Adversary is the hook through which an attacker joins a world (docs/properties.md,
// "The adversary"). Its methods use only protocol and standard-library types, so that
// package adversary, which sits below sim, implements it structurally
// without importing sim.
//
// The world calls Observe and Abandoned from inside Apply, so the
// adversary's knowledge always matches the world it belongs to, whichever
// scheduler drives it. The random scheduler calls Inject at the run's
// adversary rate, each proposal becoming a StepInject; the exhaustive
// explorer uses Explorable.Moves instead.
//
// Envelopes are opaque under the default threat model: an adversary may
// store a message it observed and later inject it verbatim (a replay), but
// it may read the tokens inside only if it was given the read-upstream or
// read-push capability for that channel (Kind.Upstream tells which). Its
// own sessions' messages (pushes to its insider RegID) it may always read.
type Adversary interface {
	// Observe is called with every message an honest machine puts on the
	// network, in order, whether or not the network then delivers it.
	Observe(m protocol.Message)
	// Abandoned is called when honest client id gives up its session:
	// it Failed, or it Started its next handshake. The session's tokens
	// leak to the adversary (docs/properties.md); ts is zero if the client
	// never learnt one. A server-side expiry leaks nothing and is not
	// reported.
	Abandoned(id protocol.RegID, tc, ts protocol.Token)
	// Inject appends the messages the adversary sends now to dst and
	// returns the extended slice (none is fine). Randomness comes only
	// from r, the run's seeded generator, so a run stays reproducible.
	// Every message must have a wire form (protocol.AppendMessage accepts
	// it); the world refuses others.
	Inject(r *rand.Rand, now protocol.Time, dst []protocol.Message) []protocol.Message
	// Clone returns an independent copy with the same dynamic type, for
	// World.Clone; a stateless adversary may return itself. (The result
	// is typed any because sim's types are out of reach below sim.)
	Clone() any
}

// Guesser is an adversary some of whose injections carry guessed tokens.
// The random scheduler asks it about each message Inject proposed and
// marks the step (Step.Guess), so that FORGE counts the guesses from the
// world and a trace replays them without the adversary.
type Guesser interface {
	// Guessed reports whether m, just proposed by Inject, carries a
	// guessed token.
	Guessed(m protocol.Message) bool
}

// Outcomer is an adversary that wants to know what became of its
// injections (package adversary keeps its own FORGE statistic with it).
type Outcomer interface {
	// Outcome is called, from inside Apply, when an injected message m
	// reaches its receiver: accepted when the machine took it without
	// error. A push to a RegID no client holds reaches no machine and is
	// not accepted.
	Outcome(m protocol.Message, accepted bool)
}

// Explorable is an adversary the exhaustive explorer can drive: its moves
// are listed rather than drawn, and its knowledge is part of the state.
type Explorable interface {
	Adversary
	// Moves appends every message the adversary could inject now.
	Moves(dst []protocol.Message) []protocol.Message
	// Fingerprint hashes the adversary's knowledge: equal knowledge,
	// equal fingerprint, whatever the order it was learnt in.
	Fingerprint() uint64
}

// NoAdversary is the absent attacker: the network faults are all there is.
type NoAdversary struct{}

// Observe does nothing.
func (NoAdversary) Observe(protocol.Message) {}

// Abandoned does nothing.
func (NoAdversary) Abandoned(protocol.RegID, protocol.Token, protocol.Token) {}

// Inject injects nothing.
func (NoAdversary) Inject(_ *rand.Rand, _ protocol.Time, dst []protocol.Message) []protocol.Message {
	return dst
}

// Clone returns NoAdversary: it has no state.
func (NoAdversary) Clone() any { return NoAdversary{} }

// Moves lists no move.
func (NoAdversary) Moves(dst []protocol.Message) []protocol.Message { return dst }

// Fingerprint is constant: there is no knowledge.
func (NoAdversary) Fingerprint() uint64 { return 0 }

var _ Explorable = NoAdversary{}

func cloneAdversary(a Adversary) Adversary {
	c, ok := a.Clone().(Adversary)
	if !ok {
		panic(fmt.Sprintf("sim: %T.Clone returned %T, not an Adversary", a, a.Clone()))
	}
	return c
}

// AdversaryParams is what a strategy is built from.
type AdversaryParams struct {
	Profile protocol.Profile
	// Clients is the number of honest clients: RegIDs 1..Clients.
	Clients int
	// Insider is the RegID the adversary owns and runs real handshakes
	// under (docs/properties.md): Clients+1. Monitors exempt it, as they exempt
	// every RegID outside 1..Clients.
	Insider protocol.RegID
}

// AdversaryFactory builds a strategy for one run.
type AdversaryFactory func(AdversaryParams) (Adversary, error)

// NoneAdversary is the name of NoAdversary on the command line.
const NoneAdversary = "none"

var (
	adversaryMu sync.Mutex
	adversaries = map[string]AdversaryFactory{}
)

// ErrUnknownAdversary marks an adversary name nobody registered.
var ErrUnknownAdversary = errors.New("sim: unknown adversary")

// RegisterAdversary makes name a value of `--adversary`. Package adversary
// cannot import sim, so its strategies are registered from sim itself
// (strategies.go); a designer's own strategy registers the same way from
// an init function of any package that imports sim. It panics on an empty
// or taken name: that is a programming error, best caught at start-up.
func RegisterAdversary(name string, f AdversaryFactory) {
	adversaryMu.Lock()
	defer adversaryMu.Unlock()
	if name == "" || name == NoneAdversary || f == nil {
		panic(fmt.Sprintf("sim: RegisterAdversary(%q): invalid name or nil factory", name))
	}
	if _, dup := adversaries[name]; dup {
		panic(fmt.Sprintf("sim: RegisterAdversary(%q): registered twice", name))
	}
	adversaries[name] = f
}

// NewAdversary builds the strategy registered as name; "none" (or "") is
// NoAdversary. An unregistered name fails with ErrUnknownAdversary.
func NewAdversary(name string, p AdversaryParams) (Adversary, error) {
	if name == "" || name == NoneAdversary {
		return NoAdversary{}, nil
	}
	adversaryMu.Lock()
	f, ok := adversaries[name]
	adversaryMu.Unlock()
	if !ok {
		return nil, fmt.Errorf("%w %q (want one of %s)", ErrUnknownAdversary, name, strings.Join(AdversaryNames(), ", "))
	}
	a, err := f(p)
	if err != nil {
		return nil, fmt.Errorf("sim: adversary %q: %w", name, err)
	}
	return a, nil
}

// AdversaryNames returns "none" and every registered name, sorted.
func AdversaryNames() []string {
	adversaryMu.Lock()
	defer adversaryMu.Unlock()
	names := []string{NoneAdversary}
	for n := range adversaries {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// ApplyVariant resolves `--variant`: it returns p changed by the variant
// of the catalog (protocol.Variants) called name, renamed
// "<profile>+<variant>"; "" and "none" leave p as it is. An unknown name
// fails with ErrUnknownVariant, listing the catalog. It is a variable so
// that a tool with variants of its own can resolve them too.
var ApplyVariant = func(p protocol.Profile, name string) (protocol.Profile, error) {
	if name == "" || name == "none" {
		return p, nil
	}
	v, err := protocol.VariantByName(name)
	if err == nil {
		return v.Of(p), nil
	}
	// VariantByName's error lists the catalog too; this one also wraps
	// ErrUnknownVariant and says "none" is accepted.
	return p, fmt.Errorf("%w %q (want none or one of %s)", ErrUnknownVariant, name, strings.Join(VariantNames(), ", "))
}

// VariantNames lists the catalog's variant names, in catalog order.
func VariantNames() []string {
	var names []string
	for _, v := range protocol.Variants() {
		names = append(names, v.Name)
	}
	return names
}

// ErrUnknownVariant marks a variant name the catalog does not know.
var ErrUnknownVariant = errors.New("sim: unknown variant")
