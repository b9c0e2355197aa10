package nspk

import (
	"errors"
	"fmt"
	"slices"

	"github.com/verishake/verishake/engine"
)

// Config chooses the protocol's version and bounds its sessions.
type Config struct {
	// Fixed selects Lowe's version: message 2 carries the responder's
	// name, and the initiator takes it only from the peer it meant.
	Fixed bool
	// Initiators and Responders name the honest agent (A or B) of each
	// initiator and each responder run. Both empty is Lowe's setting, the
	// least his attack needs: one initiator run by A and one responder run
	// by B. An initiator chooses its peer among the other agents, the
	// intruder included, when it starts; a responder takes any other agent
	// as its initiator.
	Initiators, Responders []Agent
}

// MaxRuns bounds the runs of a Config, initiators and responders together.
const MaxRuns = 8

// Role is the part a run plays.
type Role uint8

// The roles.
const (
	Initiator Role = iota + 1
	Responder
)

func (r Role) String() string {
	if r == Initiator {
		return "initiator"
	}
	return "responder"
}

// Phase is how far a run has gone. A run's phase is also its claims: an
// initiator signals Running and Commit (with its peer and both nonces) as it
// takes message 2 and sends message 3, so Done is both; a responder signals
// Running as it sends message 2 (Waiting) and Commit as it takes message 3
// (Done).
type Phase uint8

// The phases.
const (
	Idle    Phase = iota // not started
	Waiting              // sent its first message, waits for the answer
	Done                 // took its last message
)

// Run is one run's state: its phase, its peer (the agent it believes it
// talks to) and the nonces of its session, Na the initiator's and Nb the
// responder's (zero until known).
type Run struct {
	Phase  Phase
	Peer   Agent
	Na, Nb Nonce
}

// State is the whole system: every run, and the intruder's knowledge.
type State struct {
	Runs []Run
	// Known is the set of nonces the intruder knows, one bit a nonce
	// (bit n for Nonce n): its own, and those it read in messages
	// encrypted for it.
	Known uint64
	// Stored are the ciphertexts the intruder saw and can neither open
	// nor build itself (some nonce in them is unknown to it), sorted by
	// encoding and without repeats, so equal knowledge is one State.
	Stored []Msg
}

// Knows reports whether the intruder knows n.
func (s *State) Knows(n Nonce) bool { return n != 0 && s.Known&bit(n) != 0 }

// RunSpec is what a Config fixes about a run: its role, its honest agent,
// and the nonce it makes.
type RunSpec struct {
	Role  Role
	Agent Agent
	Nonce Nonce
}

// Model is the protocol under a Config, as an engine.Model.
type Model struct {
	fixed bool
	runs  []RunSpec
	// nonces is the set of every nonce of the model (the runs' and Ni).
	nonces uint64
}

var _ engine.Model[State, Action] = (*Model)(nil)

// New checks cfg and returns its model.
func New(cfg Config) (*Model, error) {
	inits, resps := cfg.Initiators, cfg.Responders
	if len(inits) == 0 && len(resps) == 0 {
		inits, resps = []Agent{A}, []Agent{B}
	}
	if n := len(inits) + len(resps); n > MaxRuns {
		return nil, fmt.Errorf("nspk: config has %d runs, at most %d", n, MaxRuns)
	}
	m := &Model{fixed: cfg.Fixed, nonces: bit(intruderNonce)}
	made := map[Agent]int{}
	add := func(field string, i int, role Role, x Agent) error {
		if !x.honest() {
			return fmt.Errorf("nspk: Config.%s[%d] is %v, want A or B (the intruder plays any role through the network)", field, i, x)
		}
		made[x]++
		n := NonceOf(x, made[x])
		m.runs = append(m.runs, RunSpec{Role: role, Agent: x, Nonce: n})
		m.nonces |= bit(n)
		return nil
	}
	for i, x := range inits {
		if err := add("Initiators", i, Initiator, x); err != nil {
			return nil, err
		}
	}
	for i, x := range resps {
		if err := add("Responders", i, Responder, x); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Fixed reports whether the model is Lowe's version of the protocol.
func (m *Model) Fixed() bool { return m.fixed }

// Runs are the model's runs, initiators first, in Config order: a State's
// Runs and an Action's Run index them.
func (m *Model) Runs() []RunSpec { return slices.Clone(m.runs) }

// Init is every run idle and the intruder knowing only Ni.
func (m *Model) Init(s *State) {
	s.Runs = s.Runs[:0]
	for range m.runs {
		s.Runs = append(s.Runs, Run{})
	}
	s.Known = bit(intruderNonce)
	s.Stored = s.Stored[:0]
}

// Actions appends, run by run, what each run can do: an idle initiator
// starts with each other agent as its peer; a waiting run, or an idle
// responder, receives each message of the kind it waits for that it would
// accept and the intruder can build: first those the intruder composes
// from nonces it knows (in nonce order, then agent order), then the stored
// ciphertexts it replays (in encoding order). The two lists never meet,
// since a stored ciphertext is one the intruder cannot compose.
func (m *Model) Actions(s *State, dst []Action) []Action {
	for r, spec := range m.runs {
		run := s.Runs[r]
		switch {
		case spec.Role == Initiator && run.Phase == Idle:
			for _, peer := range agents {
				if peer != spec.Agent {
					dst = append(dst, Action{Agent: spec.Agent, Run: uint8(r), To: peer,
						Sent: Msg{Kind: Msg1, Key: peer, N1: spec.Nonce, Agent: spec.Agent}})
				}
			}
		case spec.Role == Responder && run.Phase == Idle:
			dst = m.takeMsg1(s, r, spec, dst)
		case spec.Role == Initiator && run.Phase == Waiting:
			dst = m.takeMsg2(s, r, spec, run, dst)
		case spec.Role == Responder && run.Phase == Waiting:
			dst = m.takeMsg3(s, r, spec, run, dst)
		}
	}
	return dst
}

// takeMsg1 is a responder taking {N, X}pk(itself) for any nonce N the
// intruder knows and any other agent X, and answering X with message 2.
func (m *Model) takeMsg1(s *State, r int, spec RunSpec, dst []Action) []Action {
	answer := func(got Msg) Action {
		sent := Msg{Kind: Msg2, Key: got.Agent, N1: got.N1, N2: spec.Nonce}
		if m.fixed {
			sent.Agent = spec.Agent
		}
		return Action{Agent: spec.Agent, Run: uint8(r), Got: got, From: got.Agent, Sent: sent, To: got.Agent}
	}
	for n := range knownNonces(s.Known) {
		for _, x := range agents {
			if x != spec.Agent {
				dst = append(dst, answer(Msg{Kind: Msg1, Key: spec.Agent, N1: n, Agent: x}))
			}
		}
	}
	for _, c := range s.Stored {
		if c.Kind == Msg1 && c.Key == spec.Agent && c.Agent != spec.Agent {
			dst = append(dst, answer(c))
		}
	}
	return dst
}

// takeMsg2 is an initiator taking {Na, N}pk(itself) for its own Na and any
// N (in Lowe's fix, {Na, N, Peer}pk(itself) from its peer only) and
// answering with message 3.
func (m *Model) takeMsg2(s *State, r int, spec RunSpec, run Run, dst []Action) []Action {
	var named Agent
	if m.fixed {
		named = run.Peer
	}
	answer := func(got Msg) Action {
		return Action{Agent: spec.Agent, Run: uint8(r), Got: got, From: run.Peer,
			Sent: Msg{Kind: Msg3, Key: run.Peer, N1: got.N2}, To: run.Peer}
	}
	if s.Knows(run.Na) {
		for n := range knownNonces(s.Known) {
			dst = append(dst, answer(Msg{Kind: Msg2, Key: spec.Agent, N1: run.Na, N2: n, Agent: named}))
		}
	}
	for _, c := range s.Stored {
		if c.Kind == Msg2 && c.Key == spec.Agent && c.N1 == run.Na && c.Agent == named {
			dst = append(dst, answer(c))
		}
	}
	return dst
}

// takeMsg3 is a responder taking {Nb}pk(itself) for its own Nb.
func (m *Model) takeMsg3(s *State, r int, spec RunSpec, run Run, dst []Action) []Action {
	want := Msg{Kind: Msg3, Key: spec.Agent, N1: run.Nb}
	if s.Knows(run.Nb) {
		return append(dst, Action{Agent: spec.Agent, Run: uint8(r), Got: want, From: run.Peer})
	}
	if _, stored := slices.BinarySearchFunc(s.Stored, want, Msg.compare); stored {
		dst = append(dst, Action{Agent: spec.Agent, Run: uint8(r), Got: want, From: run.Peer})
	}
	return dst
}

// knownNonces yields the nonces of a knowledge set in increasing order.
func knownNonces(known uint64) func(func(Nonce) bool) {
	return func(yield func(Nonce) bool) {
		for n := Nonce(1); n < 64; n++ {
			if known&bit(n) != 0 && !yield(n) {
				return
			}
		}
	}
}

// Apply runs action a of state s: the run moves on, records the peer and
// nonces it learned, and what it sent joins the intruder's knowledge.
func (m *Model) Apply(s *State, a *Action, next *State) {
	next.Runs = append(next.Runs[:0], s.Runs...)
	next.Known = s.Known
	next.Stored = append(next.Stored[:0], s.Stored...)
	r := int(a.Run)
	run := &next.Runs[r]
	switch spec := m.runs[r]; {
	case spec.Role == Initiator && run.Phase == Idle:
		*run = Run{Phase: Waiting, Peer: a.To, Na: spec.Nonce}
	case spec.Role == Responder && run.Phase == Idle:
		*run = Run{Phase: Waiting, Peer: a.Got.Agent, Na: a.Got.N1, Nb: spec.Nonce}
	case spec.Role == Initiator && run.Phase == Waiting:
		run.Phase, run.Nb = Done, a.Got.N2
	case spec.Role == Responder && run.Phase == Waiting:
		run.Phase = Done
	}
	if a.Sent.Kind != 0 {
		learn(next, a.Sent)
	}
}

// learn adds an intercepted message to the intruder's knowledge: it reads
// what is encrypted for it, and keeps what it can neither read nor build.
func learn(s *State, c Msg) {
	if c.Key == I {
		s.Known |= c.nonces()
		s.Stored = slices.DeleteFunc(s.Stored, func(d Msg) bool { return d.nonces()&^s.Known == 0 })
		return
	}
	if c.nonces()&^s.Known == 0 {
		return
	}
	if i, found := slices.BinarySearchFunc(s.Stored, c, Msg.compare); !found {
		s.Stored = slices.Insert(s.Stored, i, c)
	}
}

// ErrState marks bytes that are not the encoding of one of the model's
// states: Decode's errors wrap it.
var ErrState = errors.New("nspk: bad state")
