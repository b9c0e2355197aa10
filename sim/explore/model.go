package explore

import (
	"errors"
	"fmt"

	"github.com/verishake/verishake/engine"
	"github.com/verishake/verishake/protocol"
	"github.com/verishake/verishake/sim"
)

// Model is the handshake as an engine.Model: the world and ledger the
// explorer searches, with the same steps, fingerprints (symmetry and token
// renaming included) and properties, so that engine.Search on it is a
// second, generic explorer of the same state space. Run stays the fast
// path (it fingerprints a drop or a duplicate without taking it); the two
// are checked against each other.
type Model struct {
	cfg         Config
	root        *sim.World
	bounded     sim.BoundedMonitor
	sym, rename bool
}

// State is a state of Model: a world and its claim ledger. The rest is
// the scratch its properties and fingerprint use, so that each of the
// engine's workers, holding states of its own, needs no lock; none of it
// is part of the state.
type State struct {
	World   *sim.World
	ledger  ledger
	ledHash uint64 // ledger's hash, kept when fingerprints are not reduced

	broke  string // the property the step to this state violated, if any
	reason string
	names  sim.Names
	cont   *sim.World
	buf    []sim.Step
	res    [2]sim.Result
}

// NewModel returns cfg's exploration as an engine.Model. Config's
// Workers, MaxStates, StopOn, Progress, WorkDir, MemoryBudget, Checkpoint,
// Resume and Identity are the engine's to set (engine.Config); they are
// ignored here.
func NewModel(cfg Config) (*Model, error) {
	w, err := newWorld(cfg)
	if err != nil {
		return nil, err
	}
	p := cfg.Handshake.Profile()
	m := &Model{cfg: cfg, root: w, bounded: sim.BoundedMonitor{Cap: p.HalfOpenCap},
		sym: cfg.Symmetry && cfg.Clients > 1 && w.Symmetric(), rename: cfg.RenameTokens && w.Renamable()}
	if _, err := w.AppendSnapshot(nil); err != nil {
		return nil, fmt.Errorf("%w: the engine keeps states encoded, and this world has no snapshot: %w", ErrConfig, err)
	}
	return m, nil
}

// Init sets s to the initial world with an empty ledger.
func (m *Model) Init(s *State) {
	m.alloc(s)
	s.World.CopyFrom(m.root)
	s.ledger, s.broke, s.reason = s.ledger[:0], "", ""
	s.ledHash = s.ledger.hash()
}

func (m *Model) alloc(s *State) {
	if s.World == nil {
		s.World, s.cont = m.root.Clone(), m.root.Clone()
	}
}

// Actions are the steps the world enables.
func (m *Model) Actions(s *State, dst []sim.Step) []sim.Step { return s.World.Enabled(dst) }

// Apply takes step a (with an injection's delivery) and observes the
// claims it made in the ledger, remembering the first property they break.
func (m *Model) Apply(s *State, a *sim.Step, next *State) {
	m.alloc(next)
	next.World.CopyFrom(s.World)
	next.ledger = append(next.ledger[:0], s.ledger...)
	next.broke, next.reason = "", ""
	next.ledHash = s.ledHash
	nr := applyStep(next.World, a, &next.res)
	changed := false
	for r := range next.res[:nr] {
		for _, cl := range next.res[r].ClaimList() {
			prop, ch := next.ledger.observe(cl, next.World)
			changed = changed || ch
			if prop != "" && next.broke == "" {
				next.broke, next.reason = prop, fmt.Sprintf("%v with no matching claim before it", cl)
			}
		}
	}
	if changed && !m.reduced() {
		next.ledHash = next.ledger.hash()
	}
}

// reduced reports whether fingerprints are taken up to a renaming, from
// scratch, rather than kept step by step.
func (m *Model) reduced() bool { return m.sym || m.rename }

// Encode is the world's snapshot followed by the ledger.
func (m *Model) Encode(dst []byte, s *State) []byte {
	b, err := s.World.AppendSnapshot(dst)
	if err != nil {
		panic(fmt.Sprintf("explore: a world that had a snapshot has none: %v", err)) // NewModel checked it has
	}
	return s.ledger.append(b)
}

// Decode reads a state Encode wrote.
func (m *Model) Decode(src []byte, s *State) error {
	m.alloc(s)
	rest, err := s.World.LoadSnapshot(src)
	if err != nil {
		return err
	}
	if !s.ledger.decode(rest) {
		return errors.New("explore: the ledger after the snapshot does not decode")
	}
	s.broke, s.reason = "", ""
	if !m.reduced() {
		// The world keeps its slot and message hash sums from here on,
		// and every copy of it inherits them.
		s.ledHash = s.ledger.hash()
		s.World.KeepHashSums()
	}
	return nil
}

// Fingerprint is the explorer's: up to client and token renaming when the
// configuration asks for them and the world allows.
func (m *Model) Fingerprint(s *State) uint64 {
	return fingerprintOf(s.World, s.ledger, s.ledHash, &s.names, m.sym, m.rename)
}

// Peek fingerprints a drop or a duplicate without taking it: it makes no
// claim and leaves the machines (and so the half-open count BOUNDED
// judges) as they were.
func (m *Model) Peek(s *State, a *sim.Step) (uint64, bool) {
	switch {
	case !m.reduced():
		fp, ok := s.World.FingerprintAfter(a)
		return uint64(mixer(fp).add(s.ledHash)), ok
	case !m.sym:
		return s.World.FingerprintNamedAfter(&s.names, a, func() uint64 { return s.ledger.hashNamed(&s.names) })
	}
	return 0, false
}

// Same reports whether step i does what an earlier step does: the same
// network step on a message equal to an earlier one's (a retransmission,
// a duplicate), or the same injection. Messages in flight count as a
// multiset and a machine sees only the message, so both reach worlds
// with equal fingerprints, by equal claims.
func (m *Model) Same(s *State, steps []sim.Step, i int) bool {
	return sameAsEarlier(s.World, steps, i)
}

// Kind is the step's kind, for the report's count of steps taken.
func (m *Model) Kind(a *sim.Step) uint8 { return uint8(a.Kind) }

// Properties are the explorer's, in its report order: the claim
// properties and BOUNDED judged on each step, LIVE on states with no
// step and on stuck clients, AGREE by the fault-free continuation.
func (m *Model) Properties() []engine.Property[State, sim.Step] {
	claim := func(name string) engine.Property[State, sim.Step] {
		return engine.Property[State, sim.Step]{Name: name, Step: func(_ *State, _ *sim.Step, to *State) error {
			if to.broke == name {
				return errors.New(to.reason)
			}
			return nil
		}}
	}
	props := []engine.Property[State, sim.Step]{
		claim(protocol.AuthC), claim(protocol.AuthS), claim(protocol.Cmd),
		{Name: protocol.Bounded, Step: func(_ *State, _ *sim.Step, to *State) error {
			if v := m.bounded.Observe(to.World.Server.HalfOpen()); v != nil {
				return errors.New(v.Reason)
			}
			return nil
		}},
		{Name: protocol.Live, State: func(s *State) error {
			if c, stuck := s.World.Deadlocked(); stuck {
				return fmt.Errorf("client %d waits in %v with nothing in flight and no timer set: it waits for ever", c+1, s.World.Clients[c].State)
			}
			return nil
		}},
	}
	if m.cfg.Agree {
		props = append(props, engine.Property[State, sim.Step]{Name: protocol.Agree, Continue: func(s *State, path *[]sim.Step) error {
			if !s.World.AgreeApplies(m.cfg.RetriesCapped) {
				return nil
			}
			s.cont.CopyFrom(s.World)
			if reason, bad := s.cont.Disagreement(&s.buf, path); bad {
				return errors.New(reason)
			}
			return nil
		}})
	}
	return props
}

// Steps expands a counterexample's actions into the steps sim.World
// replays: an injection is followed by its delivery, which the explorer
// takes in the same transition.
func (m *Model) Steps(actions []sim.Step) []sim.Step {
	w := m.root.Clone()
	var out []sim.Step
	var res [2]sim.Result
	for _, a := range actions {
		out = append(out, a)
		if applyStep(w, &a, &res) == 2 {
			out = append(out, deliverInjected(w, &res[0]))
		}
	}
	return out
}
