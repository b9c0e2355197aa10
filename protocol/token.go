package protocol

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	randv2 "math/rand/v2"
	"strconv"
)

// TokenBytes is the size of a Token on the wire and in memory. Shorter
// tokens (Profile.TokenBits < 128) keep their low-order bits and zero the rest.
const TokenBytes = 16

// Token is a client token Tc or a server token Ts. The zero Token means
// "none" and is never issued.
type Token [TokenBytes]byte

// Equal reports whether t and u are the same token, in time that does not
// depend on where they differ: a timing side channel would let an attacker
// who can submit guesses learn a token byte by byte.
func (t Token) Equal(u Token) bool {
	x := binary.LittleEndian.Uint64(t[:8]) ^ binary.LittleEndian.Uint64(u[:8])
	y := binary.LittleEndian.Uint64(t[8:]) ^ binary.LittleEndian.Uint64(u[8:])
	return x|y == 0
}

// IsZero reports whether t is the zero ("no token") value.
func (t Token) IsZero() bool { return t.Equal(Token{}) }

// Mask keeps the low-order n bits of t and zeroes the rest.
func (t Token) Mask(n int) Token {
	if n >= 8*TokenBytes {
		return t
	}
	n = max(n, 0)
	cut := TokenBytes - n/8 // bytes [0, cut) hold bits above the whole kept bytes
	for i := range cut - 1 {
		t[i] = 0
	}
	t[cut-1] &= byte(1)<<(n%8) - 1 // the partly kept byte
	return t
}

// String prints a symbolic token as #k and any other token in hex.
func (t Token) String() string {
	if k, ok := t.Symbol(); ok {
		return "#" + strconv.FormatUint(k, 10)
	}
	return hex.EncodeToString(t[:])
}

// Symbol returns k when t is the symbolic token #k of a SymbolicTokens source.
func (t Token) Symbol() (uint64, bool) {
	if binary.BigEndian.Uint64(t[:8]) != symbolicMark {
		return 0, false
	}
	return binary.BigEndian.Uint64(t[8:]), true
}

// symbolicMark tags the high half of symbolic tokens so that they print as
// #k and never collide with a masked short token.
const symbolicMark = 0x5359_4d42_4f4c_0000 // "SYMBOL\0\0"

// TokenSource makes fresh tokens. Machines draw from the source they are
// handed, so the same machine runs on crypto/rand in production, on a seeded
// generator in simulation and on symbolic names in exploration.
type TokenSource interface {
	NewToken() Token
}

// CryptoTokens draws 128-bit tokens from crypto/rand: the production source.
type CryptoTokens struct{}

// NewToken returns 16 bytes from crypto/rand.
func (CryptoTokens) NewToken() Token {
	var t Token
	// crypto/rand.Read never returns an error (Go 1.24+): it aborts the
	// program instead, which is right for a source of key material.
	_, _ = rand.Read(t[:])
	return t
}

// SeededTokens is a deterministic pseudo-random source for simulation: the
// same seed yields the same tokens. Not for production.
type SeededTokens struct{ rng randv2.PCG }

// NewSeededTokens returns a SeededTokens source for seed.
func NewSeededTokens(seed uint64) *SeededTokens {
	s := &SeededTokens{}
	s.rng.Seed(seed, seed^0x9e3779b97f4a7c15)
	return s
}

// NewToken returns the next pseudo-random token, never the zero token.
func (s *SeededTokens) NewToken() Token {
	var t Token
	for t.IsZero() {
		binary.LittleEndian.PutUint64(t[:8], s.rng.Uint64())
		binary.LittleEndian.PutUint64(t[8:], s.rng.Uint64())
	}
	return t
}

// SymbolicTokens names fresh tokens #1, #2, ... in order. The explorer uses
// it: a token is then just a name, and equal worlds get equal names.
type SymbolicTokens struct{ N uint64 }

// NewToken returns the next symbolic token.
func (s *SymbolicTokens) NewToken() Token { s.N++; return Symbolic(s.N) }

// Symbolic returns the symbolic token #k.
func Symbolic(k uint64) Token {
	var t Token
	binary.BigEndian.PutUint64(t[:8], symbolicMark)
	binary.BigEndian.PutUint64(t[8:], k)
	return t
}
