package sim

import (
	"encoding/binary"
	"math"
	"math/bits"
	"time"

	"github.com/verishake/verishake/protocol"
)

// The canonical encoding. Each state type has one walk (encoding_walk.go)
// that hands its fields, in a fixed order, to a codec, and the codec's op
// decides what becomes of them: a fingerprint (plain, with tokens renamed,
// or one client's share of the symmetric one) or a snapshot, written or
// read back. A field added to a walk is in every form at once; a field of
// a state type that no walk visits fails TestEveryFieldCounts, by name.
//
// The walks and the field methods are written once, as methods of codec,
// whose op is a field. encoding_gen.go (go generate) holds a copy of them
// for each op — hashCodec, writeCodec, readCodec — with op a constant, so
// that each form is straight-line code with the other forms' branches
// gone and the field methods inlined, as if written for that form alone:
// the explorer fingerprints and snapshots every state it meets.
// (Generics do not do it: Go compiles a generic function once per shape
// and calls its type parameter's methods through a dictionary, an
// indirect call per field; and the inliner prices every branch of a
// method whose op is not a constant it can see.)
//
//go:generate go run ./internal/walkgen/cmd/walkgen

// codecOp is the form a codec makes of the fields it is handed.
type codecOp uint8

const (
	// opHash folds each field into a 64-bit hash: times relative to now,
	// symbolic tokens through names, a share's own RegID as ownRegID.
	// Fields that only feed reports are left out.
	opHash codecOp = iota
	// opWrite appends each field to a snapshot: times absolute, symbolic
	// tokens by number, every field.
	opWrite
	// opRead reads each field back from a snapshot into the walk's pointers.
	opRead
)

// codec is what a walk hands each field to; see codecOp. It is the
// walks' source and a reference for tests; the explorer uses the copies
// in encoding_gen.go. The zero hashing codec hashes with fp's zero seed;
// set h for another.
type codec struct {
	mode codecOp

	// opHash.
	h     fp
	pend  uint64 // a word waiting for the next to be folded with it
	half  bool   // pend holds one
	now   protocol.Time
	names *Names         // nil: tokens as they are
	own   protocol.RegID // inside a client's share: its RegID (0 outside one)
	// kept: the slot and message sums are w.ssum and w.msum, already up
	// to date (the plain fingerprint); otherwise they are hashed here.
	kept bool
	// after, if not nil, is a drop or duplication the walk sees as taken.
	after *after
	// shares, if not nil, makes the walk a symmetric view's
	// (SymmetricFingerprintNamed): what belongs to honest client i goes
	// to shares[3i:3i+3] instead of the hash, and clients are left to
	// the caller.
	shares []uint64

	// opWrite.
	b []byte

	// opRead.
	r   snapReader
	err error // a reason more precise than r.bad's
}

// op is the codec's form. In the generated copies every call of it is
// the copy's constant.
func (c *codec) op() codecOp { return c.mode }

// The generated forms of codec: each has codec's fields and a copy of its
// methods with op constant.
type (
	hashCodec  codec
	writeCodec codec
	readCodec  codec
)

// after is a network step a fingerprint is taken as if after: in-flight
// slot skip dropped (or -1), slot dup duplicated into the slot put would
// give it (or -1), and one more step of kind counted.
type after struct {
	skip, dup int32
	kind      StepKind
}

// word folds x into the hash, two words per multiply.
func (c *codec) word(x uint64) {
	if c.half {
		c.h.pair(c.pend, x)
		c.half = false
		return
	}
	c.pend, c.half = x, true
}

// sum is the hash of the words folded in.
func (c *codec) sum() uint64 {
	if c.half {
		c.h.pair(c.pend, fpOdd)
		c.half = false
	}
	return c.h.sum()
}

// mark is the state of a hash being made, kept while a member of a set is
// hashed on its own.
type mark struct {
	h    fp
	pend uint64
	half bool
	own  protocol.RegID
}

// enter starts hashing a member of a set from seed, as a share of own (0:
// of no share); leave returns the member's hash and resumes the hash m was
// taken of.
func (c *codec) enter(seed uint64, own protocol.RegID) mark {
	m := mark{c.h, c.pend, c.half, c.own}
	c.h, c.half, c.own = fp{h: seed}, false, own
	return m
}

func (c *codec) leave(m mark) uint64 {
	x := c.sum()
	c.h, c.pend, c.half, c.own = m.h, m.pend, m.half, m.own
	return x
}

// The fields. Each is handed by pointer, so that opRead can fill it. In a
// generated form only the form's branch is left, small enough to inline
// for most fields.

func (c *codec) u8(p *uint8) {
	switch c.op() {
	case opHash:
		c.word(uint64(*p))
	case opWrite:
		c.b = append(c.b, *p)
	default:
		*p = c.r.byte()
	}
}

func (c *codec) u32(p *uint32) {
	switch c.op() {
	case opHash:
		c.word(uint64(*p))
	case opWrite:
		c.b = appendUvarint(c.b, uint64(*p))
	default:
		*p = uint32(c.r.uint(math.MaxUint32))
	}
}

func (c *codec) u64(p *uint64) {
	switch c.op() {
	case opHash:
		c.word(*p)
	case opWrite:
		c.b = appendUvarint(c.b, *p)
	default:
		*p = c.r.uvarint()
	}
}

// count is a non-negative int.
func (c *codec) count(p *int) {
	switch c.op() {
	case opHash:
		c.word(uint64(*p))
	case opWrite:
		c.b = appendUvarint(c.b, uint64(*p))
	default:
		*p = int(c.r.uint(math.MaxInt))
	}
}

func (c *codec) regID(p *protocol.RegID) {
	switch c.op() {
	case opHash:
		id := *p
		if id == c.own && id != 0 {
			id = ownRegID
		}
		c.word(uint64(id))
	case opWrite:
		c.b = appendUvarint(c.b, uint64(*p))
	default:
		*p = protocol.RegID(c.r.uvarint())
	}
}

// flags is two booleans.
func (c *codec) flags(a, b *bool) {
	x := uint8(b2u(*a) | b2u(*b)<<1)
	switch c.op() {
	case opHash:
		c.word(uint64(x))
	case opWrite:
		c.b = append(c.b, x)
	default:
		x = c.r.byte()
		*a, *b = x&1 != 0, x&2 != 0
		c.r.bad = c.r.bad || x > 3
	}
}

func (c *codec) time(p *protocol.Time) {
	switch c.op() {
	case opHash:
		t := uint64(1<<64 - 1) // Never, kept apart
		if *p != protocol.Never {
			t = uint64(*p - c.now)
		}
		c.word(t)
	case opWrite:
		c.b = appendTime(c.b, *p)
	default:
		*p = c.r.time()
	}
}

func (c *codec) token(p *protocol.Token) {
	switch c.op() {
	case opHash:
		// Its two words as a pair of their own; a word waiting stays
		// waiting (the walks' order of words and tokens is fixed).
		c.h.pair(c.names.Words(p))
	case opWrite:
		c.b = appendToken(c.b, p)
	default:
		c.r.token(p)
	}
}

// text is a string, hashed eight bytes a word.
func (c *codec) text(p *string) {
	switch c.op() {
	case opHash:
		s := *p
		c.word(uint64(len(s)))
		for len(s) >= 8 {
			c.word(binary.LittleEndian.Uint64([]byte(s[:8])))
			s = s[8:]
		}
		var x uint64
		for i := range len(s) {
			x |= uint64(s[i]) << (8 * i)
		}
		c.word(x)
	case opWrite:
		c.b = append(appendUvarint(c.b, uint64(len(*p))), *p...)
	default:
		*p = c.r.text()
	}
}

// Fields that only feed reports: in a snapshot, not in a fingerprint.

func (c *codec) reportU8(p *uint8) {
	if c.op() != opHash {
		c.u8(p)
	}
}

func (c *codec) reportU64(p *uint64) {
	if c.op() != opHash {
		c.u64(p)
	}
}

func (c *codec) reportTime(p *protocol.Time) {
	if c.op() != opHash {
		c.time(p)
	}
}

func (c *codec) reportFlag(p *bool) {
	if c.op() == opHash {
		return
	}
	x := uint8(b2u(*p))
	c.u8(&x)
	*p = x == 1
	c.r.bad = c.r.bad || x > 1
}

// fail marks a snapshot being read bad, for the reason err unless one is
// known; it is out of line, as every error path is cold.
func (c *codec) fail(err error) {
	if !c.r.bad && c.err == nil {
		c.err = err
	}
	c.r.bad = true
}

// length visits the length of a sequence about to be visited: n, or for
// opRead the length read, no more than the bytes left (each member takes
// at least one), so that a corrupt length allocates nothing large.
func (c *codec) length(n int) int {
	c.count(&n)
	if c.op() == opRead && n > len(c.r.b)-c.r.i {
		c.r.bad, n = true, 0
	}
	return n
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// fp is a 64-bit streaming hash over pairs of words: each pair is folded
// in with one 64x64->128-bit multiply whose halves are XORed (the wyhash
// and foldhash round), and the sum goes through the splitmix64 finaliser.
// Deterministic across processes, unlike hash/maphash, so fingerprints can
// be compared between runs.
type fp struct{ h uint64 }

const (
	fpSeed      = 0x243f6a8885a308d3
	fpSlotSeed  = 0x13198a2e03707344
	fpTokenSeed = 0x082efa98ec4e6c89
	fpViewSeed  = 0xa4093822299f31d0
	fpOdd       = 0x452821e638d01377 // pairs the last word of an odd count
	fpA         = 0x9e3779b97f4a7c15
	fpB         = 0xbf58476d1ce4e5b9
)

func (f *fp) pair(a, b uint64) {
	hi, lo := bits.Mul64(a^f.h^fpA, b^fpB)
	f.h = hi ^ lo
}

func (f *fp) sum() uint64 { return mix64(f.h) }

func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// The snapshot's bytes.

func appendUvarint(b []byte, x uint64) []byte {
	if x < 0x80 {
		return append(b, byte(x))
	}
	return binary.AppendUvarint(b, x)
}

// appendTime encodes Never as 0, a whole number of seconds s (every time
// the machines set, from whole-second knobs) as 2·zigzag(s)+1, and any
// other time t as 2 followed by zigzag(t).
func appendTime(b []byte, t protocol.Time) []byte {
	if t == protocol.Never {
		return append(b, 0)
	}
	if s := t / protocol.Time(time.Second); s*protocol.Time(time.Second) == t && s > -1<<60 && s < 1<<60 {
		return appendUvarint(b, zigzag(s)<<1|1)
	}
	return appendUvarint(append(b, 2), zigzag(t))
}

func zigzag(t protocol.Time) uint64 { return uint64(t<<1 ^ t>>63) }

func unzigzag(u uint64) protocol.Time { return protocol.Time(u>>1) ^ -protocol.Time(u&1) }

// symbolicHigh is the high half every symbolic token shares.
var symbolicHigh = func() uint64 { t := protocol.Symbolic(0); return binary.BigEndian.Uint64(t[:8]) }()

// appendToken encodes the zero token as 0, a symbolic #k as 1 and k, any
// other as 2 and its 16 bytes.
func appendToken(b []byte, t *protocol.Token) []byte {
	hi, lo := binary.BigEndian.Uint64(t[:8]), binary.BigEndian.Uint64(t[8:])
	switch {
	case hi == symbolicHigh:
		return appendUvarint(append(b, 1), lo)
	case hi == 0 && lo == 0:
		return append(b, 0)
	}
	return append(append(b, 2), t[:]...)
}

// snapReader decodes a snapshot from b at i; bad is set, and zero values
// returned, once it runs out of bytes or meets one it cannot read.
type snapReader struct {
	b   []byte
	i   int
	bad bool
}

func (r *snapReader) uvarint() uint64 { return r.uint(math.MaxUint64) }

// uint reads a varint no more than most (which is at least 0x7f; a larger
// one is bad, and read as 0); the one-byte varints most fields are, inline.
func (r *snapReader) uint(most uint64) uint64 {
	if i := r.i; i < len(r.b) {
		if x := r.b[i]; x < 0x80 {
			r.i = i + 1
			return uint64(x)
		}
	}
	return r.longUint(most)
}

func (r *snapReader) longUint(most uint64) uint64 {
	x := r.longUvarint()
	if x > most {
		r.bad, x = true, 0 // 0: no int read from it is negative
	}
	return x
}

func (r *snapReader) longUvarint() uint64 {
	if r.i > len(r.b) {
		r.bad = true
		return 0
	}
	x, n := binary.Uvarint(r.b[r.i:])
	if n <= 0 {
		r.bad, r.i = true, len(r.b)
		return 0
	}
	r.i += n
	return x
}

func (r *snapReader) byte() byte {
	if r.i >= len(r.b) {
		r.bad = true
		return 0
	}
	x := r.b[r.i]
	r.i++
	return x
}

func (r *snapReader) time() protocol.Time {
	switch u := r.uvarint(); {
	case u == 0:
		return protocol.Never
	case u&1 == 1:
		return unzigzag(u>>1) * protocol.Time(time.Second)
	case u == 2:
		return unzigzag(r.uvarint())
	}
	r.bad = true
	return 0
}

func (r *snapReader) token(t *protocol.Token) {
	switch r.byte() {
	case 0:
		*t = protocol.Token{}
	case 1:
		binary.BigEndian.PutUint64(t[:8], symbolicHigh)
		binary.BigEndian.PutUint64(t[8:], r.uvarint())
	case 2:
		if len(r.b)-r.i < len(t) {
			r.bad, r.i = true, len(r.b)
			*t = protocol.Token{}
			return
		}
		copy(t[:], r.b[r.i:])
		r.i += len(t)
	default:
		r.bad = true
		*t = protocol.Token{}
	}
}

func (r *snapReader) text() string {
	n := r.uvarint()
	if n > uint64(len(r.b)-r.i) {
		r.bad, r.i = true, len(r.b)
		return ""
	}
	p := r.b[r.i : r.i+int(n)]
	r.i += int(n)
	switch string(p) {
	case "":
		return ""
	case CommandPayload:
		return CommandPayload // no allocation for the payload every command carries
	}
	return string(p)
}
