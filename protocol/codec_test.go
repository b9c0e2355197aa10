package protocol_test

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/verishake/verishake/protocol"
)

// The tests compute the CRC with their own table and lay frames out by hand
// so that they check the codec against the wire format, not against itself.
var wireCRC = crc32.MakeTable(crc32.Castagnoli)

// wireSeal appends the checksum to a frame body.
func wireSeal(body []byte) []byte {
	return binary.BigEndian.AppendUint32(body, crc32.Checksum(body, wireCRC))
}

// wireReseal replaces the last four bytes of b by the checksum of the rest,
// so that a test can corrupt a field and still get past the checksum.
func wireReseal(b []byte) []byte {
	n := len(b) - 4
	return wireSeal(append([]byte(nil), b[:n]...))
}

// wireTok is the token v, v+1, ..., v+15: nonzero for any v.
func wireTok(v byte) protocol.Token {
	var t protocol.Token
	for i := range t {
		t[i] = v + byte(i)
	}
	return t
}

var (
	wireTc = wireTok(0xc0)
	wireTs = wireTok(0x50)
)

// wireValid is one valid message of every kind, plus the edge cases of the
// variable part.
var wireValid = []struct {
	name string
	msg  protocol.Message
}{
	{"Hello", protocol.Message{Kind: protocol.Hello, RegID: 42, Tc: wireTc}},
	{"Validation", protocol.Message{Kind: protocol.Validation, RegID: 42, Tc: wireTc, Ts: wireTs}},
	{"Confirm1", protocol.Message{Kind: protocol.Confirm1, RegID: 42, Ts: wireTs}},
	{"Confirm2", protocol.Message{Kind: protocol.Confirm2, RegID: 42, Ts: wireTs}},
	{"Command", protocol.Message{Kind: protocol.Command, RegID: 42, Ts: wireTs, Seq: 7, Payload: "unlock"}},
	{"Command/empty", protocol.Message{Kind: protocol.Command, RegID: 42, Ts: wireTs}},
	{"Command/max", protocol.Message{Kind: protocol.Command, RegID: 1<<64 - 1, Ts: wireTs, Seq: 1<<32 - 1,
		Payload: strings.Repeat("\x00\xff", protocol.MaxPayload/2)}},
	{"Hello/RegID0", protocol.Message{Kind: protocol.Hello, Tc: protocol.Symbolic(1)}},
	{"Confirm2/symbolic", protocol.Message{Kind: protocol.Confirm2, RegID: 9, Ts: protocol.Symbolic(2)}},
}

// wireField is one field of a frame layout.
type wireField struct {
	name string
	size int
}

// wireLayout lists the fields of a frame of kind k with an n-byte payload.
func wireLayout(k protocol.Kind, n int) []wireField {
	l := []wireField{{"Version", 1}, {"Kind", 1}, {"RegID", 8}}
	switch k {
	case protocol.Hello:
		l = append(l, wireField{"Tc", 16})
	case protocol.Validation:
		l = append(l, wireField{"Tc", 16}, wireField{"Ts", 16})
	case protocol.Confirm1, protocol.Confirm2:
		l = append(l, wireField{"Ts", 16})
	case protocol.Command:
		l = append(l, wireField{"Ts", 16}, wireField{"Seq", 4}, wireField{"PayloadLen", 2}, wireField{"Payload", n})
	}
	return append(l, wireField{"Checksum", 4})
}

// wireFrame lays m out by hand, from the spec.
func wireFrame(m protocol.Message) []byte {
	b := []byte{protocol.WireVersion, byte(m.Kind)}
	b = binary.BigEndian.AppendUint64(b, uint64(m.RegID))
	for _, f := range wireLayout(m.Kind, len(m.Payload))[3:] {
		switch f.name {
		case "Tc":
			b = append(b, m.Tc[:]...)
		case "Ts":
			b = append(b, m.Ts[:]...)
		case "Seq":
			b = binary.BigEndian.AppendUint32(b, m.Seq)
		case "PayloadLen":
			b = binary.BigEndian.AppendUint16(b, uint16(len(m.Payload)))
		case "Payload":
			b = append(b, m.Payload...)
		}
	}
	return wireSeal(b)
}

func mustEncode(t testing.TB, m protocol.Message) []byte {
	t.Helper()
	b, err := protocol.EncodeMessage(m)
	require.NoError(t, err)
	return b
}

// requireDecodeError checks that err is a *DecodeError wrapping sentinel,
// blaming field, and that its text names the field.
func requireDecodeError(t *testing.T, err error, sentinel error, field string) {
	t.Helper()
	require.ErrorIs(t, err, sentinel)
	var de *protocol.DecodeError
	require.ErrorAs(t, err, &de)
	assert.Equal(t, field, de.Field)
	assert.Contains(t, err.Error(), field)
}

func TestCodecRoundTrip(t *testing.T) {
	for _, tc := range wireValid {
		t.Run(tc.name, func(t *testing.T) {
			b := mustEncode(t, tc.msg)
			require.Equal(t, wireFrame(tc.msg), b, "layout differs from the spec")
			got, err := protocol.DecodeMessage(b)
			require.NoError(t, err)
			require.Equal(t, tc.msg, got)
		})
	}
}

func TestCodecMaxFrame(t *testing.T) {
	big := protocol.Message{Kind: protocol.Command, RegID: 1, Ts: wireTs, Payload: strings.Repeat("x", protocol.MaxPayload)}
	require.Len(t, mustEncode(t, big), protocol.MaxFrame)
	for _, tc := range wireValid {
		assert.LessOrEqual(t, len(mustEncode(t, tc.msg)), protocol.MaxFrame, tc.name)
	}
}

// TestEncodeAppend checks that AppendMessage extends dst without touching
// what was there, so frames can be batched into one buffer.
func TestEncodeAppend(t *testing.T) {
	prefix := []byte("prefix")
	dst := append(make([]byte, 0, 2*protocol.MaxFrame), prefix...)
	for _, tc := range wireValid {
		start := len(dst)
		var err error
		dst, err = protocol.AppendMessage(dst, tc.msg)
		require.NoError(t, err, tc.name)
		got, err := protocol.DecodeMessage(dst[start:])
		require.NoError(t, err, tc.name)
		require.Equal(t, tc.msg, got, tc.name)
		dst = dst[:start] // keep the buffer within its capacity
	}
	require.Equal(t, prefix, dst)
}

func wireMessage() *rapid.Generator[protocol.Message] {
	token := rapid.Custom(func(t *rapid.T) protocol.Token {
		var tok protocol.Token
		copy(tok[:], rapid.SliceOfN(rapid.Byte(), protocol.TokenBytes, protocol.TokenBytes).Draw(t, "tok"))
		if tok.IsZero() {
			tok[protocol.TokenBytes-1] = 1
		}
		return tok
	})
	return rapid.Custom(func(t *rapid.T) protocol.Message {
		m := protocol.Message{
			Kind:  protocol.Kind(rapid.IntRange(int(protocol.Hello), int(protocol.Command)).Draw(t, "kind")),
			RegID: protocol.RegID(rapid.Uint64().Draw(t, "regid")),
		}
		if m.Kind == protocol.Hello || m.Kind == protocol.Validation {
			m.Tc = token.Draw(t, "tc")
		}
		if m.Kind != protocol.Hello {
			m.Ts = token.Draw(t, "ts")
		}
		if m.Kind == protocol.Command {
			m.Seq = rapid.Uint32().Draw(t, "seq")
			m.Payload = string(rapid.SliceOfN(rapid.Byte(), 0, protocol.MaxPayload).Draw(t, "payload"))
		}
		return m
	})
}

func TestCodecRoundTripProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		m := wireMessage().Draw(t, "m")
		b, err := protocol.EncodeMessage(m)
		require.NoError(t, err)
		require.Equal(t, wireFrame(m), b)
		got, err := protocol.DecodeMessage(b)
		require.NoError(t, err)
		require.Equal(t, m, got)
	})
}

// TestEncodeAnyMessageProperty: whatever fields are set, EncodeMessage
// either refuses with a sentinel or produces a frame that decodes to exactly
// the same message; it never drops a field silently.
func TestEncodeAnyMessageProperty(t *testing.T) {
	tok := rapid.OneOf(
		rapid.Just(protocol.Token{}),
		rapid.Custom(func(t *rapid.T) protocol.Token {
			var tok protocol.Token
			copy(tok[:], rapid.SliceOfN(rapid.Byte(), protocol.TokenBytes, protocol.TokenBytes).Draw(t, "tok"))
			return tok
		}))
	rapid.Check(t, func(t *rapid.T) {
		m := protocol.Message{
			Kind:    protocol.Kind(rapid.Uint8Max(7).Draw(t, "kind")),
			RegID:   protocol.RegID(rapid.Uint64().Draw(t, "regid")),
			Tc:      tok.Draw(t, "tc"),
			Ts:      tok.Draw(t, "ts"),
			Seq:     rapid.Uint32Max(2).Draw(t, "seq"),
			Payload: string(rapid.SliceOfN(rapid.Byte(), 0, protocol.MaxPayload+2).Draw(t, "payload")),
		}
		b, err := protocol.EncodeMessage(m)
		if err != nil {
			require.Nil(t, b)
			ok := errors.Is(err, protocol.ErrUnknownKind) || errors.Is(err, protocol.ErrMalformedToken) ||
				errors.Is(err, protocol.ErrPayload) || errors.Is(err, protocol.ErrUnusedField)
			require.True(t, ok, "unexpected error %v", err)
			return
		}
		got, err := protocol.DecodeMessage(b)
		require.NoError(t, err)
		require.Equal(t, m, got)
	})
}

func TestDecodeErrors(t *testing.T) {
	byKind := map[protocol.Kind][]byte{}
	for _, tc := range wireValid[:5] {
		byKind[tc.msg.Kind] = mustEncode(t, tc.msg)
	}
	// with returns a copy of the valid frame of kind k with b[i] = v,
	// resealed so that only the planted fault is wrong.
	with := func(k protocol.Kind, i int, v ...byte) []byte {
		b := append([]byte(nil), byKind[k]...)
		copy(b[i:], v)
		return wireReseal(b)
	}
	zero := make([]byte, protocol.TokenBytes)
	hello, command := byKind[protocol.Hello], byKind[protocol.Command]
	tests := []struct {
		name     string
		in       []byte
		sentinel error
		field    string
	}{
		{"empty", nil, protocol.ErrTruncated, "Version"},
		{"version 0", with(protocol.Hello, 0, 0), protocol.ErrVersion, "Version"},
		{"version 2", with(protocol.Hello, 0, 2), protocol.ErrVersion, "Version"},
		{"version 255", with(protocol.Hello, 0, 255), protocol.ErrVersion, "Version"},
		{"version only", []byte{protocol.WireVersion}, protocol.ErrTruncated, "Kind"},
		{"kind 0", with(protocol.Hello, 1, 0), protocol.ErrUnknownKind, "Kind"},
		{"kind 6", with(protocol.Hello, 1, 6), protocol.ErrUnknownKind, "Kind"},
		{"kind 255", with(protocol.Hello, 1, 255), protocol.ErrUnknownKind, "Kind"},
		{"oversized", append(append([]byte(nil), command...), make([]byte, protocol.MaxFrame)...), protocol.ErrOversized, "Frame"},
		{"oversized by one", make([]byte, protocol.MaxFrame+1), protocol.ErrOversized, "Frame"},
		{"zero Tc in Hello", with(protocol.Hello, 10, zero...), protocol.ErrMalformedToken, "Tc"},
		{"zero Tc in Validation", with(protocol.Validation, 10, zero...), protocol.ErrMalformedToken, "Tc"},
		{"zero Ts in Validation", with(protocol.Validation, 26, zero...), protocol.ErrMalformedToken, "Ts"},
		{"zero Ts in Confirm1", with(protocol.Confirm1, 10, zero...), protocol.ErrMalformedToken, "Ts"},
		{"zero Ts in Confirm2", with(protocol.Confirm2, 10, zero...), protocol.ErrMalformedToken, "Ts"},
		{"zero Ts in Command", with(protocol.Command, 10, zero...), protocol.ErrMalformedToken, "Ts"},
		{"trailing byte", append(append([]byte(nil), hello...), 0), protocol.ErrTrailing, "Trailing"},
		{"trailing frame", append(append([]byte(nil), hello...), hello...), protocol.ErrTrailing, "Trailing"},
		{"bad checksum", append(append([]byte(nil), hello[:len(hello)-1]...), hello[len(hello)-1]^1), protocol.ErrChecksum, "Checksum"},
		{"payload 1025", with(protocol.Command, 30, 0x04, 0x01), protocol.ErrPayload, "PayloadLen"},
		{"payload 65535", with(protocol.Command, 30, 0xff, 0xff), protocol.ErrPayload, "PayloadLen"},
		{"payload longer than sent", with(protocol.Command, 30, 0x00, 0x07), protocol.ErrTruncated, "Checksum"},
		{"payload shorter than sent", with(protocol.Command, 30, 0x00, 0x01), protocol.ErrChecksum, "Checksum"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := protocol.DecodeMessage(tc.in)
			requireDecodeError(t, err, tc.sentinel, tc.field)
			require.Zero(t, m)
		})
	}
}

func TestDecodeErrorText(t *testing.T) {
	b := mustEncode(t, wireValid[1].msg)
	copy(b[26:], make([]byte, 16))
	_, err := protocol.DecodeMessage(wireReseal(b))
	require.EqualError(t, err, "protocol: zero token: field Ts at offset 26")
	var de *protocol.DecodeError
	require.ErrorAs(t, err, &de)
	require.Equal(t, protocol.DecodeError{Field: "Ts", Offset: 26, Err: protocol.ErrMalformedToken}, *de)
}

// TestDecodeTruncated cuts a valid frame of every kind at every length and
// checks that the error blames the field the cut falls in.
func TestDecodeTruncated(t *testing.T) {
	for _, tc := range wireValid {
		t.Run(tc.name, func(t *testing.T) {
			b := mustEncode(t, tc.msg)
			layout := wireLayout(tc.msg.Kind, len(tc.msg.Payload))
			for n := range len(b) {
				var want wireField
				start := 0
				for _, f := range layout {
					if n < start+f.size {
						want = f
						break
					}
					start += f.size
				}
				m, err := protocol.DecodeMessage(b[:n])
				requireDecodeError(t, err, protocol.ErrTruncated, want.name)
				var de *protocol.DecodeError
				require.ErrorAs(t, err, &de)
				require.Equal(t, start, de.Offset, "cut at %d", n)
				require.Zero(t, m)
			}
		})
	}
}

// TestDecodeCorrupted changes every byte of a valid frame of every kind, by
// every single-bit flip and by inverting it: decoding must fail, never
// return a different message. CRC-32C detects every error confined to 32
// consecutive bits, so none of these may slip through.
func TestDecodeCorrupted(t *testing.T) {
	for _, tc := range wireValid {
		t.Run(tc.name, func(t *testing.T) {
			b := mustEncode(t, tc.msg)
			for i := range b {
				for _, mask := range []byte{1, 2, 4, 8, 16, 32, 64, 128, 0xff} {
					c := append([]byte(nil), b...)
					c[i] ^= mask
					m, err := protocol.DecodeMessage(c)
					require.Error(t, err, "byte %d ^ %#x decoded to %v", i, mask, m)
					var de *protocol.DecodeError
					require.ErrorAs(t, err, &de)
					require.Zero(t, m)
				}
			}
		})
	}
}

// TestDecodeCopiesPayload: the caller may reuse its read buffer, so the
// message must not alias it.
func TestDecodeCopiesPayload(t *testing.T) {
	want := wireValid[4].msg
	b := mustEncode(t, want)
	m, err := protocol.DecodeMessage(b)
	require.NoError(t, err)
	for i := range b {
		b[i] = 0
	}
	require.Equal(t, want, m)
}

func TestEncodeErrors(t *testing.T) {
	var zero protocol.Token
	tests := []struct {
		name     string
		msg      protocol.Message
		sentinel error
	}{
		{"kind 0", protocol.Message{Tc: wireTc}, protocol.ErrUnknownKind},
		{"kind 6", protocol.Message{Kind: 6, Ts: wireTs}, protocol.ErrUnknownKind},
		{"kind 255", protocol.Message{Kind: 255, Ts: wireTs}, protocol.ErrUnknownKind},
		{"payload too long", protocol.Message{Kind: protocol.Command, Ts: wireTs, Payload: strings.Repeat("x", protocol.MaxPayload+1)}, protocol.ErrPayload},
		{"payload on Hello", protocol.Message{Kind: protocol.Hello, Tc: wireTc, Payload: "x"}, protocol.ErrPayload},
		{"payload on Confirm2", protocol.Message{Kind: protocol.Confirm2, Ts: wireTs, Payload: "x"}, protocol.ErrPayload},
		{"zero Tc in Hello", protocol.Message{Kind: protocol.Hello, Tc: zero}, protocol.ErrMalformedToken},
		{"zero Tc in Validation", protocol.Message{Kind: protocol.Validation, Ts: wireTs}, protocol.ErrMalformedToken},
		{"zero Ts in Validation", protocol.Message{Kind: protocol.Validation, Tc: wireTc}, protocol.ErrMalformedToken},
		{"zero Ts in Confirm1", protocol.Message{Kind: protocol.Confirm1}, protocol.ErrMalformedToken},
		{"zero Ts in Confirm2", protocol.Message{Kind: protocol.Confirm2}, protocol.ErrMalformedToken},
		{"zero Ts in Command", protocol.Message{Kind: protocol.Command, Payload: "x"}, protocol.ErrMalformedToken},
		{"Ts on Hello", protocol.Message{Kind: protocol.Hello, Tc: wireTc, Ts: wireTs}, protocol.ErrUnusedField},
		{"Tc on Confirm1", protocol.Message{Kind: protocol.Confirm1, Tc: wireTc, Ts: wireTs}, protocol.ErrUnusedField},
		{"Tc on Command", protocol.Message{Kind: protocol.Command, Tc: wireTc, Ts: wireTs}, protocol.ErrUnusedField},
		{"Seq on Confirm2", protocol.Message{Kind: protocol.Confirm2, Ts: wireTs, Seq: 1}, protocol.ErrUnusedField},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := protocol.EncodeMessage(tc.msg)
			require.ErrorIs(t, err, tc.sentinel)
			require.Nil(t, b)
			dst := []byte("keep")
			out, err := protocol.AppendMessage(dst, tc.msg)
			require.ErrorIs(t, err, tc.sentinel)
			require.Equal(t, []byte("keep"), out)
		})
	}
}

func TestCodecAllocs(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage counters may allocate")
	}
	buf := make([]byte, 0, protocol.MaxFrame)
	for _, tc := range wireValid {
		allocs := testing.AllocsPerRun(100, func() {
			_, _ = protocol.AppendMessage(buf[:0], tc.msg)
		})
		assert.Zero(t, allocs, "AppendMessage %s", tc.name)
		b := mustEncode(t, tc.msg)
		want := 0.0
		if tc.msg.Payload != "" {
			want = 1 // the payload string, by design
		}
		allocs = testing.AllocsPerRun(100, func() {
			_, _ = protocol.DecodeMessage(b)
		})
		assert.Equal(t, want, allocs, "DecodeMessage %s", tc.name)
	}
}

// wireSeeds are frames worth starting a fuzzer from: every valid kind and
// a few that fail in different places.
func wireSeeds(t testing.TB) [][]byte {
	var seeds [][]byte
	for _, tc := range wireValid {
		seeds = append(seeds, mustEncode(t, tc.msg))
	}
	hello := seeds[0]
	seeds = append(seeds,
		nil,
		[]byte{protocol.WireVersion},
		wireReseal(append([]byte{2}, hello[1:]...)),                       // version
		wireReseal(append([]byte{protocol.WireVersion, 6}, hello[2:]...)), // kind
		hello[:len(hello)-1],                     // truncated checksum
		append(hello[:len(hello):len(hello)], 0), // trailing
	)
	return seeds
}

// wireCanonical decodes b and, when that succeeds, requires that b is the
// one encoding of the result.
func wireCanonical(t *testing.T, b []byte) {
	m, err := protocol.DecodeMessage(b)
	if err != nil {
		var de *protocol.DecodeError
		require.ErrorAs(t, err, &de)
		require.Zero(t, m)
		return
	}
	enc, err := protocol.EncodeMessage(m)
	require.NoError(t, err)
	require.Equal(t, b, enc, "non-canonical frame decoded to %v", m)
	m2, err := protocol.DecodeMessage(enc)
	require.NoError(t, err)
	require.Equal(t, m, m2)
}

// FuzzDecode checks that decoding never panics and that it accepts only
// canonical frames. Random bytes almost never carry a valid checksum, so
// each input is also tried with its checksum recomputed: that lets the
// fuzzer reach the checks behind it.
func FuzzDecode(f *testing.F) {
	for _, s := range wireSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		wireCanonical(t, b)
		if len(b) >= 4 {
			wireCanonical(t, wireReseal(b))
		}
	})
}

func BenchmarkEncode(b *testing.B) {
	for _, tc := range []int{0, 4, 6} { // Hello, Command, Command/max
		m := wireValid[tc].msg
		b.Run(wireValid[tc].name, func(b *testing.B) {
			buf := make([]byte, 0, protocol.MaxFrame)
			b.ReportAllocs()
			b.SetBytes(int64(len(mustEncode(b, m))))
			for b.Loop() {
				var err error
				if buf, err = protocol.AppendMessage(buf[:0], m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	for _, tc := range []int{0, 4, 6} {
		frame := mustEncode(b, wireValid[tc].msg)
		b.Run(wireValid[tc].name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(frame)))
			for b.Loop() {
				if _, err := protocol.DecodeMessage(frame); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
