package sim

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"

	"github.com/verishake/verishake/protocol"
)

// Adversary is the hook through which an attacker joins a world (DESIGN.md
// §2). Its methods use only protocol and standard-library types, so that
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
	// leak to the adversary (DESIGN.md §2); ts is zero if the client
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
	// under (DESIGN.md §2): Clients+1. Monitors exempt it, as they exempt
	// every RegID outside 1..Clients.
	Insider protocol.RegID
}

// AdversaryFactory builds a strategy for one run.
type AdversaryFactory func(AdversaryParams) (Adversary, error)

// The strategies `--adversary` names in DESIGN.md §6. Until a package
// registers one, asking for it is a usage error that says so.
var plannedAdversaries = []string{"replay", "forge", "impersonate", "flood", "all"}

// NoneAdversary is the name of NoAdversary on the command line.
const NoneAdversary = "none"

var (
	adversaryMu sync.Mutex
	adversaries = map[string]AdversaryFactory{}
)

// Errors of NewAdversary.
var (
	ErrUnknownAdversary     = errors.New("unknown adversary")
	ErrAdversaryUnavailable = errors.New("adversary not available yet")
)

// RegisterAdversary makes name a value of `--adversary`. Strategies are
// registered from an init function of a package that imports both sim and
// adversary (package adversary cannot import sim), e.g. a file in sim or in
// cmd/verishake. It panics on an empty or taken name: that is a
// programming error, best caught at start-up.
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
// NoAdversary. A name DESIGN.md plans but nobody registered yet fails with
// ErrAdversaryUnavailable, any other with ErrUnknownAdversary.
func NewAdversary(name string, p AdversaryParams) (Adversary, error) {
	if name == "" || name == NoneAdversary {
		return NoAdversary{}, nil
	}
	adversaryMu.Lock()
	f, ok := adversaries[name]
	adversaryMu.Unlock()
	switch {
	case ok:
		a, err := f(p)
		if err != nil {
			return nil, fmt.Errorf("adversary %q: %w", name, err)
		}
		return a, nil
	case slices.Contains(plannedAdversaries, name):
		return nil, fmt.Errorf("%w: %q (the adversary package has not registered it)", ErrAdversaryUnavailable, name)
	}
	return nil, fmt.Errorf("%w %q (want one of %v)", ErrUnknownAdversary, name, AdversaryNames())
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

// ApplyVariant resolves `--variant`: it returns p changed by the named
// variant. The variant catalog replaces this function when it is built;
// until then only "" and "none" (no change) are known.
var ApplyVariant = func(p protocol.Profile, name string) (protocol.Profile, error) {
	if name == "" || name == "none" {
		return p, nil
	}
	return p, fmt.Errorf("%w %q (the variant catalog is not built yet; only \"none\")", ErrUnknownVariant, name)
}

// ErrUnknownVariant marks a variant name the catalog does not know.
var ErrUnknownVariant = errors.New("unknown variant")
