package nspk

import (
	"fmt"

	"github.com/verishake/verishake/engine"
)

// The properties the model checks, in report order.
const (
	// ResponderAgreement is Lowe's injective agreement for the responder:
	// whenever an honest responder commits to a session with an honest
	// peer on nonces (Na, Nb), that peer ran the initiator's role with it
	// on those nonces, and no two such commits share one initiator run.
	ResponderAgreement = "AGREE-RESPONDER"
	// InitiatorAgreement is the same for the initiator: an honest
	// initiator committing with an honest peer on (Na, Nb) has a distinct
	// responder run of that peer, with it, on those nonces.
	InitiatorAgreement = "AGREE-INITIATOR"
	// Secrecy is that the intruder never learns the nonce of a run whose
	// peer is honest.
	Secrecy = "SECRECY"
)

// claim is a Running or Commit signal: who signals, in which role, with
// which peer, on which nonces.
type claim struct {
	role        Role
	agent, peer Agent
	na, nb      Nonce
}

// running and commit are the claims run r's phase stands for (see Phase).
func (m *Model) running(s *State, r int) (claim, bool) {
	run, spec := s.Runs[r], m.runs[r]
	c := claim{spec.Role, spec.Agent, run.Peer, run.Na, run.Nb}
	if spec.Role == Initiator {
		return c, run.Phase == Done
	}
	return c, run.Phase >= Waiting
}

func (m *Model) commit(s *State, r int) (claim, bool) {
	run, spec := s.Runs[r], m.runs[r]
	return claim{spec.Role, spec.Agent, run.Peer, run.Na, run.Nb}, run.Phase == Done
}

// Properties are ResponderAgreement, InitiatorAgreement and Secrecy, each an
// invariant of the states: the claims are the runs' phases.
func (m *Model) Properties() []engine.Property[State, Action] {
	return []engine.Property[State, Action]{
		{Name: ResponderAgreement, State: func(s *State) error { return m.agreement(s, Responder) }},
		{Name: InitiatorAgreement, State: func(s *State) error { return m.agreement(s, Initiator) }},
		{Name: Secrecy, State: m.secrecy},
	}
}

// agreement checks the commits of role's runs: for each commit with an
// honest peer, the commits equal to it must not outnumber the matching
// Running claims of the other role (the same session seen from the peer).
// Counting per session is injectivity: a commit matches only claims equal
// to it, so a one-to-one matching exists exactly when no session has more
// commits than claims.
func (m *Model) agreement(s *State, role Role) error {
	for r := range m.runs {
		c, ok := m.commit(s, r)
		if !ok || c.role != role || !c.peer.honest() {
			continue
		}
		commits, claims := 0, 0
		for q := range m.runs {
			if d, ok := m.commit(s, q); ok && d == c {
				commits++
			}
			if d, ok := m.running(s, q); ok && d.role != role && d.agent == c.peer && d.peer == c.agent && d.na == c.na && d.nb == c.nb {
				claims++
			}
		}
		if claims == 0 {
			return fmt.Errorf("%v committed as %v with %v on (%v, %v), and %v never ran as %v with %v on those nonces",
				c.agent, role, c.peer, c.na, c.nb, c.peer, otherRole(role), c.agent)
		}
		if commits > claims {
			return fmt.Errorf("%v committed %d times as %v with %v on (%v, %v), and %v ran as %v with %v on those nonces %d time(s)",
				c.agent, commits, role, c.peer, c.na, c.nb, c.peer, otherRole(role), c.agent, claims)
		}
	}
	return nil
}

func otherRole(r Role) Role {
	if r == Initiator {
		return Responder
	}
	return Initiator
}

// secrecy checks that no started run with an honest peer has its nonce
// known to the intruder.
func (m *Model) secrecy(s *State) error {
	for r, spec := range m.runs {
		if run := s.Runs[r]; run.Phase != Idle && run.Peer.honest() && s.Knows(spec.Nonce) {
			return fmt.Errorf("the intruder knows %v, the nonce of %v's %v run with %v", spec.Nonce, spec.Agent, spec.Role, run.Peer)
		}
	}
	return nil
}
