package protocol

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"slices"
	"strconv"
)

// WireVersion is the first byte of every frame. A decoder rejects any other
// value rather than guess at a layout it does not know.
const WireVersion = 1

// MaxPayload is the largest Command payload, in bytes. The bound lets a
// receiver size its buffers and reject a flood of huge frames cheaply.
const MaxPayload = 1024

// Field sizes and offsets of the frame. Every kind starts with the same
// header and RegID, so only the tail differs.
const (
	headerLen   = 2 // version, kind
	regIDLen    = 8
	seqLen      = 4
	payLenLen   = 2
	checksumLen = 4
	regIDOff    = headerLen
	firstTokOff = regIDOff + regIDLen
)

// frameLen is the length of a whole frame of kind k (k valid) carrying n
// payload bytes.
func frameLen(k Kind, n int) int {
	l := headerLen + regIDLen + checksumLen
	switch k {
	case Hello, Confirm1, Confirm2:
		l += TokenBytes
	case Validation:
		l += 2 * TokenBytes
	case Command:
		l += TokenBytes + seqLen + payLenLen + n
	}
	return l
}

// MaxFrame is the length of the largest legal frame: a Command with a full
// payload. Anything longer is rejected before a byte of it is read.
const MaxFrame = headerLen + regIDLen + TokenBytes + seqLen + payLenLen + MaxPayload + checksumLen

// castagnoli is resolved once: Castagnoli is the polynomial with hardware
// support on amd64 and arm64, and crc32 picks that path only for this table.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// The errors a DecodeError wraps. AppendMessage reuses ErrUnknownKind,
// ErrMalformedToken and ErrPayload for the same faults on the way out.
var (
	// ErrVersion: the frame's version byte is not WireVersion.
	ErrVersion = errors.New("protocol: unsupported wire version")
	// ErrUnknownKind: the kind byte is none of Hello..Command.
	ErrUnknownKind = errors.New("protocol: unknown message kind")
	// ErrTruncated: the input ends inside a field.
	ErrTruncated = errors.New("protocol: truncated frame")
	// ErrOversized: the input is longer than MaxFrame.
	ErrOversized = errors.New("protocol: frame longer than MaxFrame")
	// ErrMalformedToken: a token the kind carries is the zero token, which
	// means "none" and is never issued.
	ErrMalformedToken = errors.New("protocol: zero token")
	// ErrTrailing: bytes follow the end of the frame.
	ErrTrailing = errors.New("protocol: trailing bytes after frame")
	// ErrChecksum: the CRC-32C does not match the frame, i.e. the frame was
	// corrupted on the way.
	ErrChecksum = errors.New("protocol: checksum mismatch")
	// ErrPayload: a payload longer than MaxPayload, or (encoding) a payload
	// on a kind other than Command.
	ErrPayload = errors.New("protocol: bad payload")
	// ErrUnusedField is returned by AppendMessage for a Message that sets a
	// field its kind does not carry: the frame has no room for it, so
	// encoding would drop it silently and the peer would decode a different
	// message.
	ErrUnusedField = errors.New("protocol: field not carried by this kind")
)

// DecodeError reports which field of a frame, starting at which byte offset,
// made DecodeMessage reject it. It wraps one of the Err sentinels, so callers
// match the fault with errors.Is and log the location from the fields.
type DecodeError struct {
	// Field is a frame field ("Version", "Kind", "RegID", "Tc", "Ts",
	// "Seq", "PayloadLen", "Payload", "Checksum"), "Trailing" for bytes
	// after the frame, or "Frame" for an oversized input.
	Field string
	// Offset is where Field starts in the input; for "Frame" it is
	// MaxFrame, the first byte past the longest legal frame.
	Offset int
	// Err is one of the Err sentinels.
	Err error
}

func (e *DecodeError) Error() string {
	return e.Err.Error() + ": field " + e.Field + " at offset " + strconv.Itoa(e.Offset)
}

// Unwrap returns the sentinel, for errors.Is.
func (e *DecodeError) Unwrap() error { return e.Err }

func encodeError(err error, k Kind, field string) error {
	return fmt.Errorf("%w: encoding %v field %s", err, k, field)
}

// check reports why m has no frame. The decoder never produces a zero token
// or a field the kind lacks, so without these checks Encode→Decode would not
// give m back.
func check(m Message) error {
	if !m.Kind.Valid() {
		return fmt.Errorf("%w: encoding %v", ErrUnknownKind, m.Kind)
	}
	hasTc := m.Kind == Hello || m.Kind == Validation
	hasTs := m.Kind != Hello
	switch {
	case hasTc && m.Tc.IsZero():
		return encodeError(ErrMalformedToken, m.Kind, "Tc")
	case !hasTc && !m.Tc.IsZero():
		return encodeError(ErrUnusedField, m.Kind, "Tc")
	case hasTs && m.Ts.IsZero():
		return encodeError(ErrMalformedToken, m.Kind, "Ts")
	case !hasTs && !m.Ts.IsZero():
		return encodeError(ErrUnusedField, m.Kind, "Ts")
	}
	if m.Kind == Command {
		if len(m.Payload) > MaxPayload {
			return encodeError(ErrPayload, m.Kind, "Payload")
		}
		return nil
	}
	if m.Payload != "" {
		return encodeError(ErrPayload, m.Kind, "Payload")
	}
	if m.Seq != 0 {
		return encodeError(ErrUnusedField, m.Kind, "Seq")
	}
	return nil
}

// AppendMessage appends the frame of m to dst and returns the extended
// slice. It allocates nothing when dst has room for the frame. On error dst
// is returned unchanged.
//
// It refuses an invalid Kind (ErrUnknownKind), a payload over MaxPayload or
// a payload on a kind other than Command (ErrPayload), a zero token in a
// field the kind carries (ErrMalformedToken), and a Tc, Ts or Seq set on a
// kind that does not carry it (ErrUnusedField).
func AppendMessage(dst []byte, m Message) ([]byte, error) {
	if err := check(m); err != nil {
		return dst, err
	}
	start := len(dst)
	b := slices.Grow(dst, frameLen(m.Kind, len(m.Payload)))
	b = append(b, WireVersion, byte(m.Kind))
	b = binary.BigEndian.AppendUint64(b, uint64(m.RegID))
	if m.Kind == Hello || m.Kind == Validation {
		b = append(b, m.Tc[:]...)
	}
	if m.Kind != Hello {
		b = append(b, m.Ts[:]...)
	}
	if m.Kind == Command {
		b = binary.BigEndian.AppendUint32(b, m.Seq)
		b = binary.BigEndian.AppendUint16(b, uint16(len(m.Payload)))
		b = append(b, m.Payload...)
	}
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b[start:], castagnoli)), nil
}

// EncodeMessage returns the frame of m in a new slice; see AppendMessage.
func EncodeMessage(m Message) ([]byte, error) {
	return AppendMessage(nil, m)
}

// reader walks a frame field by field so that every failure names the field
// and its offset.
type reader struct {
	b   []byte
	off int
}

func fail(field string, off int, err error) error {
	return &DecodeError{Field: field, Offset: off, Err: err}
}

// next returns the n bytes of field, or ErrTruncated if the input ends
// before them.
func (r *reader) next(field string, n int) ([]byte, error) {
	if len(r.b)-r.off < n {
		return nil, fail(field, r.off, ErrTruncated)
	}
	p := r.b[r.off : r.off+n]
	r.off += n
	return p, nil
}

func (r *reader) token(field string) (Token, error) {
	off := r.off
	p, err := r.next(field, TokenBytes)
	if err != nil {
		return Token{}, err
	}
	t := Token(p)
	if t.IsZero() {
		return Token{}, fail(field, off, ErrMalformedToken)
	}
	return t, nil
}

// DecodeMessage parses one whole frame. b must hold exactly one frame: a
// short input fails with ErrTruncated, extra bytes with ErrTrailing. Fields
// are checked in frame order and the first fault is returned as a
// *DecodeError; the checksum comes last because only then is the frame's
// extent known. The returned Message shares no memory with b.
func DecodeMessage(b []byte) (Message, error) {
	r := reader{b: b}
	if len(b) > MaxFrame {
		// Checked first so a huge input costs nothing to reject.
		return Message{}, fail("Frame", MaxFrame, ErrOversized)
	}
	h, err := r.next("Version", 1)
	if err != nil {
		return Message{}, err
	}
	if h[0] != WireVersion {
		return Message{}, fail("Version", 0, ErrVersion)
	}
	h, err = r.next("Kind", 1)
	if err != nil {
		return Message{}, err
	}
	m := Message{Kind: Kind(h[0])}
	if !m.Kind.Valid() {
		return Message{}, fail("Kind", 1, ErrUnknownKind)
	}
	var payload []byte
	p, err := r.next("RegID", regIDLen)
	if err != nil {
		return Message{}, err
	}
	m.RegID = RegID(binary.BigEndian.Uint64(p))
	if m.Kind == Hello || m.Kind == Validation {
		if m.Tc, err = r.token("Tc"); err != nil {
			return Message{}, err
		}
	}
	if m.Kind != Hello {
		if m.Ts, err = r.token("Ts"); err != nil {
			return Message{}, err
		}
	}
	if m.Kind == Command {
		if p, err = r.next("Seq", seqLen); err != nil {
			return Message{}, err
		}
		m.Seq = binary.BigEndian.Uint32(p)
		off := r.off
		if p, err = r.next("PayloadLen", payLenLen); err != nil {
			return Message{}, err
		}
		n := int(binary.BigEndian.Uint16(p))
		if n > MaxPayload {
			return Message{}, fail("PayloadLen", off, ErrPayload)
		}
		if payload, err = r.next("Payload", n); err != nil {
			return Message{}, err
		}
	}
	body := r.off
	if p, err = r.next("Checksum", checksumLen); err != nil {
		return Message{}, err
	}
	if binary.BigEndian.Uint32(p) != crc32.Checksum(b[:body], castagnoli) {
		return Message{}, fail("Checksum", body, ErrChecksum)
	}
	if r.off != len(b) {
		return Message{}, fail("Trailing", r.off, ErrTrailing)
	}
	// Copied only now, so a corrupt frame costs no allocation, and copied
	// at all so that the caller may reuse b.
	m.Payload = string(payload)
	return m, nil
}
