package nspk

import (
	"encoding/binary"
	"fmt"
)

// A state's encoding is, for each run in order, its phase, peer, Na and Nb
// (a byte each); then Known as 8 bytes, little-endian; then each stored
// ciphertext (kind, key, N1, N2, agent), in the sorted order State keeps.
// Every field is canonical, so two states encode equally exactly when they
// are equal.
const runSize = 4

// Encode appends the canonical encoding of s to dst.
func (m *Model) Encode(dst []byte, s *State) []byte {
	for _, r := range s.Runs {
		dst = append(dst, byte(r.Phase), byte(r.Peer), byte(r.Na), byte(r.Nb))
	}
	dst = binary.LittleEndian.AppendUint64(dst, s.Known)
	for _, c := range s.Stored {
		dst = c.appendTo(dst)
	}
	return dst
}

// Decode reads a state Encode wrote into s, reusing its slices, and checks
// that it is a state of this model: runs in phases their roles allow, with
// peers and nonces the model has, knowledge of the model's nonces only (Ni
// among them), and stored ciphertexts well formed, under honest keys,
// sorted, unrepeated and not composable from Known.
func (m *Model) Decode(src []byte, s *State) error {
	head := len(m.runs)*runSize + 8
	if len(src) < head || (len(src)-head)%msgSize != 0 {
		return fmt.Errorf("%w: %d bytes, want %d and then %d a stored ciphertext", ErrState, len(src), head, msgSize)
	}
	s.Runs = s.Runs[:0]
	for r, spec := range m.runs {
		b := src[r*runSize:]
		run := Run{Phase: Phase(b[0]), Peer: Agent(b[1]), Na: Nonce(b[2]), Nb: Nonce(b[3])}
		if err := m.checkRun(spec, run); err != nil {
			return fmt.Errorf("%w: run %d (%v %v): %w", ErrState, r, spec.Agent, spec.Role, err)
		}
		s.Runs = append(s.Runs, run)
	}
	s.Known = binary.LittleEndian.Uint64(src[head-8:])
	if s.Known&^m.nonces != 0 || !s.Knows(intruderNonce) {
		return fmt.Errorf("%w: intruder knows nonce set %#x, want Ni and a subset of the model's %#x", ErrState, s.Known, m.nonces)
	}
	s.Stored = s.Stored[:0]
	for off := head; off < len(src); off += msgSize {
		b := src[off:]
		c := Msg{Kind: Kind(b[0]), Key: Agent(b[1]), N1: Nonce(b[2]), N2: Nonce(b[3]), Agent: Agent(b[4])}
		if err := m.checkStored(s, c); err != nil {
			return fmt.Errorf("%w: stored ciphertext %d (% x): %w", ErrState, len(s.Stored), b[:msgSize], err)
		}
		s.Stored = append(s.Stored, c)
	}
	return nil
}

func (m *Model) isNonce(n Nonce) bool { return n != 0 && m.nonces&bit(n) != 0 }

func (m *Model) checkRun(spec RunSpec, r Run) error {
	switch r.Phase {
	case Idle:
		if r != (Run{}) {
			return fmt.Errorf("idle with peer %v and nonces %v, %v, want none", r.Peer, r.Na, r.Nb)
		}
		return nil
	case Waiting, Done:
	default:
		return fmt.Errorf("phase %d, want 0, 1 or 2", r.Phase)
	}
	if !r.Peer.valid() || r.Peer == spec.Agent {
		return fmt.Errorf("peer %v, want another agent", r.Peer)
	}
	own, other := r.Na, r.Nb
	if spec.Role == Responder {
		own, other = r.Nb, r.Na
	}
	if own != spec.Nonce {
		return fmt.Errorf("own nonce %v, want %v", own, spec.Nonce)
	}
	if spec.Role == Initiator && r.Phase == Waiting {
		if other != 0 {
			return fmt.Errorf("waiting for message 2 with Nb %v already, want none", other)
		}
		return nil
	}
	if !m.isNonce(other) {
		return fmt.Errorf("peer's nonce %v is not one of the model's", other)
	}
	return nil
}

func (m *Model) checkStored(s *State, c Msg) error {
	if !c.Key.honest() {
		return fmt.Errorf("under pk(%v), want pk(A) or pk(B): the intruder opens what is sent to it", c.Key)
	}
	wantAgent, wantN2 := false, false
	switch c.Kind {
	case Msg1:
		wantAgent = true
	case Msg2:
		wantAgent, wantN2 = m.fixed, true
	case Msg3:
	default:
		return fmt.Errorf("kind %d, want 1, 2 or 3", c.Kind)
	}
	if !m.isNonce(c.N1) || wantN2 != m.isNonce(c.N2) || !wantN2 && c.N2 != 0 {
		return fmt.Errorf("nonces %v, %v do not fit message %d", c.N1, c.N2, c.Kind)
	}
	if wantAgent != c.Agent.valid() || !wantAgent && c.Agent != 0 {
		return fmt.Errorf("agent %v does not fit message %d", c.Agent, c.Kind)
	}
	if c.nonces()&^s.Known == 0 {
		return fmt.Errorf("%v is composable from the intruder's nonces, so not stored", c)
	}
	if n := len(s.Stored); n > 0 && s.Stored[n-1].compare(c) >= 0 {
		return fmt.Errorf("%v is not after %v: stored ciphertexts are sorted, without repeats", c, s.Stored[n-1])
	}
	return nil
}
