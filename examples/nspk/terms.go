package nspk

import (
	"cmp"
	"fmt"
	"strings"
)

// Agent is a principal: A and B are honest, I is the intruder (a registered
// agent with a key pair of its own, as in Lowe's setting). The zero Agent is
// no agent.
type Agent uint8

// The agents, in the order in which actions enumerate them.
const (
	A Agent = iota + 1
	B
	I
)

// agents lists every agent, in enumeration order.
var agents = [...]Agent{A, B, I}

func (x Agent) valid() bool  { return x >= A && x <= I }
func (x Agent) honest() bool { return x == A || x == B }

func (x Agent) String() string {
	switch x {
	case A:
		return "A"
	case B:
		return "B"
	case I:
		return "I"
	}
	return fmt.Sprintf("Agent(%d)", uint8(x))
}

// Nonce is a fresh value, named after the agent that made it and the
// agent's run that did (its first run's is Na, its second's Na2): nonces
// are deterministic per run, so equal runs give equal states. The
// intruder's one nonce is Ni. The zero Nonce is no nonce.
type Nonce uint8

// NonceOf is the nonce owner makes in its index-th run, counting from 1
// over its initiator runs and then its responder runs (its encoding is
// owner<<4 | index, which MaxRuns keeps within 4 bits).
func NonceOf(owner Agent, index int) Nonce { return Nonce(uint8(owner)<<4 | uint8(index)) }

// intruderNonce is Ni, which the intruder knows from the start.
var intruderNonce = NonceOf(I, 1)

// Owner is the agent that made the nonce.
func (n Nonce) Owner() Agent { return Agent(n >> 4) }

func (n Nonce) index() int { return int(n & 0xf) }

func (n Nonce) String() string {
	if n == 0 {
		return "-"
	}
	name := "N" + strings.ToLower(n.Owner().String())
	if n.index() > 1 {
		name += fmt.Sprint(n.index())
	}
	return name
}

// Kind is which of the protocol's three messages a ciphertext is. Messages
// are typed: a receiver takes only the kind it waits for (the model has no
// type-flaw attacks).
type Kind uint8

// The protocol's messages.
const (
	Msg1 Kind = iota + 1 // {N1, Agent}pk(Key): the initiator's nonce and name
	Msg2                 // {N1, N2}pk(Key), or {N1, N2, Agent}pk(Key) in Lowe's fix
	Msg3                 // {N1}pk(Key): the responder's nonce sent back
)

// Msg is a ciphertext under the public key of Key. Every message of the
// protocol is one, so the intruder's knowledge is nonces (it knows every
// agent's name and public key) and the ciphertexts it cannot open.
type Msg struct {
	Kind   Kind
	Key    Agent // encrypted under pk(Key)
	N1, N2 Nonce
	// Agent is the initiator's name in Msg1 and, in Lowe's fix, the
	// responder's name in Msg2; zero otherwise.
	Agent Agent
}

// msgSize is the length of a Msg's encoding.
const msgSize = 5

func (m Msg) appendTo(dst []byte) []byte {
	return append(dst, byte(m.Kind), byte(m.Key), byte(m.N1), byte(m.N2), byte(m.Agent))
}

// compare orders messages as their encodings do.
func (m Msg) compare(o Msg) int { return cmp.Compare(m.key(), o.key()) }

// key is m's encoding as a big-endian number.
func (m Msg) key() uint64 {
	return uint64(m.Kind)<<32 | uint64(m.Key)<<24 | uint64(m.N1)<<16 | uint64(m.N2)<<8 | uint64(m.Agent)
}

func (m Msg) String() string {
	switch m.Kind {
	case Msg1:
		return fmt.Sprintf("{%v, %v}pk(%v)", m.N1, m.Agent, m.Key)
	case Msg2:
		if m.Agent != 0 {
			return fmt.Sprintf("{%v, %v, %v}pk(%v)", m.N1, m.N2, m.Agent, m.Key)
		}
		return fmt.Sprintf("{%v, %v}pk(%v)", m.N1, m.N2, m.Key)
	case Msg3:
		return fmt.Sprintf("{%v}pk(%v)", m.N1, m.Key)
	}
	return "none"
}

// nonces is the set of nonces in m, as bits of a knowledge set.
func (m Msg) nonces() uint64 {
	bits := bit(m.N1)
	if m.Kind == Msg2 {
		bits |= bit(m.N2)
	}
	return bits
}

func bit(n Nonce) uint64 { return 1 << (n & 63) }
