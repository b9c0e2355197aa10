package sim

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/verishake/verishake/adversary"
	"github.com/verishake/verishake/protocol"
)

// ErrSnapshot marks a world AppendSnapshot cannot encode or a snapshot
// LoadSnapshot cannot decode.
var ErrSnapshot = errors.New("sim: snapshot")

// AppendSnapshot appends a compact encoding of w to b: everything that
// makes w behave and report as it does (clients, server slots, in-flight
// slots with their ids, free list, counters, clock, token source and
// adversary knowledge), as varints and with symbolic tokens as their
// numbers: a hundred-odd bytes where the world holds kilobytes. The
// exhaustive explorer keeps its frontier as snapshots. LoadSnapshot
// restores one into a world of the same run. Only symbolic token sources
// and NoAdversary or *adversary.Explorer adversaries (with MaxCaptured
// zero) are supported; other worlds fail with ErrSnapshot and b unchanged.
func (w *World) AppendSnapshot(b []byte) ([]byte, error) {
	toks, ok := w.tokens.(*protocol.SymbolicTokens)
	if !ok {
		return b, fmt.Errorf("%w: token source %T", ErrSnapshot, w.tokens)
	}
	var x *adversary.Explorer
	switch a := w.adv.(type) {
	case NoAdversary:
	case *adversary.Explorer:
		if a.Knowledge.MaxCaptured != 0 {
			return b, fmt.Errorf("%w: adversary keeps a bounded window", ErrSnapshot)
		}
		x = a
	default:
		return b, fmt.Errorf("%w: adversary %T", ErrSnapshot, w.adv)
	}
	b = appendTime(b, w.Now)
	b = appendUvarint(b, uint64(w.nextID))
	b = appendUvarint(b, toks.N)
	// The counters, most of them zero in any one world: a mask of the
	// nonzero ones, then their values.
	cs := w.Counters.values()
	var mask uint32
	for i, v := range cs {
		if v != 0 {
			mask |= 1 << i
		}
	}
	b = appendUvarint(b, uint64(mask))
	for _, v := range cs {
		if v != 0 {
			b = appendUvarint(b, v)
		}
	}
	b = appendUvarint(b, uint64(len(w.Clients)))
	for i := range w.Clients {
		cl, bk := &w.Clients[i], &w.books[i]
		b = appendUvarint(b, uint64(cl.RegID))
		var flags byte
		if bk.leaked {
			flags |= 2
		}
		b = append(b, byte(cl.State), cl.Tries, flags)
		b = appendToken(b, &cl.Tc)
		b = appendToken(b, &cl.Ts)
		b = appendToken(b, &bk.srvTs)
		b = appendTime(b, cl.Deadline)
		b = appendTime(b, cl.Expires)
		b = appendUvarint(b, uint64(cl.LastSeq))
		b = appendUvarint(b, cl.Below)
		b = appendUvarint(b, bk.hs)
		b = appendTime(b, bk.began)
		b = appendUvarint(b, uint64(bk.cmdLeft))
		b = appendUvarint(b, uint64(bk.nstart))
		b = appendExt(b, &cl.Ext)
	}
	b = appendUvarint(b, uint64(w.Server.Len()))
	w.Server.EachSlot(func(sl *protocol.Slot) {
		b = appendUvarint(b, uint64(sl.RegID))
		// Seen up to its last nonzero token: its tail is usually empty.
		seen := len(sl.Seen)
		for seen > 0 && sl.Seen[seen-1].IsZero() {
			seen--
		}
		b = append(b, byte(sl.State), byte(seen))
		b = appendToken(b, &sl.Pending.Tc)
		b = appendToken(b, &sl.Pending.Ts)
		b = appendTime(b, sl.Pending.Expires)
		b = appendToken(b, &sl.Current.Tc)
		b = appendToken(b, &sl.Current.Ts)
		b = appendTime(b, sl.Current.Expires)
		b = appendUvarint(b, uint64(sl.LastSeq))
		for i := range seen {
			b = appendToken(b, &sl.Seen[i])
		}
		b = appendExt(b, &sl.Ext)
	})
	fl := w.Server.Flooded()
	b = appendUvarint(b, uint64(fl.N))
	b = appendTime(b, fl.Expires)
	b = appendExt(b, &w.Server.Ext)
	b = appendUvarint(b, uint64(len(w.flight)))
	for i := range w.flight {
		e := &w.flight[i]
		if e.Msg.Kind == 0 {
			b = append(b, 0)
			continue
		}
		var flags byte = 1
		if e.Guess {
			flags |= 2
		}
		b = append(b, flags, byte(e.From))
		b = appendUvarint(b, uint64(e.ID))
		b = appendMessage(b, &e.Msg)
	}
	b = appendUvarint(b, uint64(len(w.free)))
	for _, i := range w.free {
		b = appendUvarint(b, uint64(i))
	}
	if x == nil {
		return append(b, 0), nil
	}
	k := &x.Knowledge
	b = append(b, 1)
	b = appendUvarint(b, uint64(x.Budget))
	b = appendUvarint(b, uint64(x.Spent))
	b = appendUvarint(b, uint64(x.InsiderRuns))
	b = appendToken(b, &x.InsiderTs)
	b = appendUvarint(b, uint64(k.Insider))
	b = appendUvarint(b, uint64(len(k.Tokens)))
	for i := range k.Tokens {
		b = appendToken(b, &k.Tokens[i])
	}
	b = appendUvarint(b, uint64(len(k.Captured)))
	for i := range k.Captured {
		b = appendMessage(b, &k.Captured[i])
	}
	return b, nil
}

// numCounters is how many values Counters holds.
const numCounters = numStepKinds + 12

// values lists every counter, in a fixed order, for the snapshot.
func (c *Counters) values() (v [numCounters]uint64) {
	copy(v[:], c.Steps[:])
	v[numStepKinds+0], v[numStepKinds+1], v[numStepKinds+2], v[numStepKinds+3] = c.Started, c.Verified, c.Failed, c.HalfVerified
	v[numStepKinds+4], v[numStepKinds+5], v[numStepKinds+6], v[numStepKinds+7] = c.Sent, c.Retransmits, c.Rejected, c.Lost
	v[numStepKinds+8], v[numStepKinds+9], v[numStepKinds+10], v[numStepKinds+11] = c.Issued, c.Executed, c.ForgeGuesses, c.ForgeAccepted
	return v
}

// setValues is values the other way round.
func (c *Counters) setValues(v *[numCounters]uint64) {
	copy(c.Steps[:], v[:])
	c.Started, c.Verified, c.Failed, c.HalfVerified = v[numStepKinds+0], v[numStepKinds+1], v[numStepKinds+2], v[numStepKinds+3]
	c.Sent, c.Retransmits, c.Rejected, c.Lost = v[numStepKinds+4], v[numStepKinds+5], v[numStepKinds+6], v[numStepKinds+7]
	c.Issued, c.Executed, c.ForgeGuesses, c.ForgeAccepted = v[numStepKinds+8], v[numStepKinds+9], v[numStepKinds+10], v[numStepKinds+11]
}

// LoadSnapshot makes w the world AppendSnapshot encoded in b. w must be a
// world of the same run as the one encoded (made by Clone or CopyFrom from
// it or from a world it was cloned from): its handshake, options, token
// source type and adversary's capabilities and targets are kept, and the
// rest is overwritten. It reuses w's storage; the adversary's knowledge
// gets arrays of its own. It returns the bytes after the snapshot.
func (w *World) LoadSnapshot(b []byte) ([]byte, error) {
	r := snapReader{b: b}
	toks, ok := w.tokens.(*protocol.SymbolicTokens)
	if !ok {
		return b, fmt.Errorf("%w: token source %T", ErrSnapshot, w.tokens)
	}
	w.msumOK, w.ssumOK = false, false
	w.Now = r.time()
	w.nextID = MsgID(r.uvarint())
	toks.N = r.uvarint()
	mask := r.uvarint()
	var cs [numCounters]uint64
	for i := range cs {
		if mask&(1<<i) != 0 {
			cs[i] = r.uvarint()
		}
	}
	w.Counters.setValues(&cs)
	if n := r.uvarint(); n != uint64(len(w.Clients)) {
		return b, fmt.Errorf("%w: %d clients, the world has %d", ErrSnapshot, n, len(w.Clients))
	}
	for i := range w.Clients {
		cl, bk := &w.Clients[i], &w.books[i]
		cl.RegID = protocol.RegID(r.uvarint())
		cl.State, cl.Tries = protocol.ClientState(r.byte()), r.byte()
		flags := r.byte()
		bk.leaked = flags&2 != 0
		r.token(&cl.Tc)
		r.token(&cl.Ts)
		r.token(&bk.srvTs)
		cl.Deadline, cl.Expires = r.time(), r.time()
		cl.LastSeq = uint32(r.uvarint())
		cl.Below = r.uvarint()
		bk.hs, bk.began = r.uvarint(), r.time()
		bk.cmdLeft, bk.nstart = uint32(r.uvarint()), uint32(r.uvarint())
		r.ext(&cl.Ext)
	}
	w.Server.Reset()
	for n := r.uvarint(); n > 0 && !r.bad; n-- {
		var sl protocol.Slot
		sl.RegID = protocol.RegID(r.uvarint())
		sl.State = protocol.SessionState(r.byte())
		seen := int(r.byte())
		r.token(&sl.Pending.Tc)
		r.token(&sl.Pending.Ts)
		sl.Pending.Expires = r.time()
		r.token(&sl.Current.Tc)
		r.token(&sl.Current.Ts)
		sl.Current.Expires = r.time()
		sl.LastSeq = uint32(r.uvarint())
		if seen > len(sl.Seen) {
			r.bad = true
			break
		}
		for i := range seen {
			r.token(&sl.Seen[i])
		}
		r.ext(&sl.Ext)
		w.Server.Put(sl)
	}
	var fl protocol.Flooded
	fl.N, fl.Expires = int(r.uvarint()), r.time()
	w.Server.SetFlooded(fl)
	r.ext(&w.Server.Ext)
	n := r.uvarint()
	if r.bad || n > uint64(len(b)) {
		return b, fmt.Errorf("%w: truncated", ErrSnapshot)
	}
	w.flight, w.live = slices.Grow(w.flight[:0], int(n))[:n], 0
	// The messages' hashes are computed here, once, for Fingerprint and
	// for every world copied from this one.
	w.fhash = slices.Grow(w.fhash[:0], int(n))[:n]
	msum := uint64(0)
	for i := range w.flight {
		e := &w.flight[i]
		w.fhash[i] = 0
		flags := r.byte()
		if flags&1 == 0 {
			*e = Envelope{}
			continue
		}
		w.live++
		e.Guess, e.From = flags&2 != 0, Origin(r.byte())
		e.ID = MsgID(r.uvarint())
		r.message(&e.Msg)
		w.fhash[i] = messageHash(&e.Msg)
		msum += w.fhash[i]
	}
	n = r.uvarint()
	if r.bad || n > uint64(len(b)) {
		return b, fmt.Errorf("%w: truncated", ErrSnapshot)
	}
	w.free = slices.Grow(w.free[:0], int(n))[:n]
	for i := range w.free {
		w.free[i] = int32(r.uvarint())
	}
	switch r.byte() {
	case 0:
		if _, ok := w.adv.(NoAdversary); !ok && !r.bad {
			return b, fmt.Errorf("%w: no adversary encoded, the world has %T", ErrSnapshot, w.adv)
		}
	case 1:
		x, ok := w.adv.(*adversary.Explorer)
		if !ok {
			return b, fmt.Errorf("%w: an explorer adversary encoded, the world has %T", ErrSnapshot, w.adv)
		}
		x.Budget, x.Spent = int(r.uvarint()), int(r.uvarint())
		x.InsiderRuns = int(r.uvarint())
		r.token(&x.InsiderTs)
		k := &x.Knowledge
		k.Insider = protocol.RegID(r.uvarint())
		k.Tokens = nil
		if n := r.uvarint(); n > 0 && n <= uint64(len(b)) {
			k.Tokens = make([]protocol.Token, n)
			for i := range k.Tokens {
				r.token(&k.Tokens[i])
			}
		}
		k.Captured = nil
		if n := r.uvarint(); n > 0 && n <= uint64(len(b)) {
			k.Captured = make([]protocol.Message, n)
			for i := range k.Captured {
				r.message(&k.Captured[i])
			}
		}
	default:
		r.bad = true
	}
	if r.bad {
		return b, fmt.Errorf("%w: truncated or corrupt", ErrSnapshot)
	}
	w.msum, w.msumOK = msum, true
	return r.b[r.i:], nil
}

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

func appendMessage(b []byte, m *protocol.Message) []byte {
	b = append(b, byte(m.Kind))
	b = appendUvarint(b, uint64(m.RegID))
	b = appendToken(b, &m.Tc)
	b = appendToken(b, &m.Ts)
	b = appendUvarint(b, uint64(m.Seq))
	b = appendUvarint(b, uint64(len(m.Payload)))
	return append(b, m.Payload...)
}

// snapReader decodes a snapshot from b at i; bad is set, and zero values
// returned, once it runs out of bytes.
type snapReader struct {
	b   []byte
	i   int
	bad bool
}

func (r *snapReader) uvarint() uint64 {
	if r.i < len(r.b) && r.b[r.i] < 0x80 {
		x := uint64(r.b[r.i])
		r.i++
		return x
	}
	return r.longUvarint()
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

func (r *snapReader) message(m *protocol.Message) {
	m.Kind = protocol.Kind(r.byte())
	m.RegID = protocol.RegID(r.uvarint())
	r.token(&m.Tc)
	r.token(&m.Ts)
	m.Seq = uint32(r.uvarint())
	n := r.uvarint()
	if n > uint64(len(r.b)-r.i) {
		r.bad, r.i = true, len(r.b)
		m.Payload = ""
		return
	}
	switch p := r.b[r.i : r.i+int(n)]; string(p) {
	case "":
		m.Payload = ""
	case CommandPayload:
		m.Payload = CommandPayload // no allocation for the payload every command carries
	default:
		m.Payload = string(p)
	}
	r.i += int(n)
}

// appendExt encodes the state of a profile's hooks (protocol.Ext): 0 when
// no hook has written it, else 1, its tokens and its words.
func appendExt(b []byte, e *protocol.Ext) []byte {
	if e.IsZero() {
		return append(b, 0)
	}
	b = append(b, 1)
	for i := range e.Tokens {
		b = appendToken(b, &e.Tokens[i])
	}
	for _, x := range e.Words {
		b = appendUvarint(b, x)
	}
	return b
}

// ext is appendExt the other way round.
func (r *snapReader) ext(e *protocol.Ext) {
	*e = protocol.Ext{}
	switch r.byte() {
	case 0:
	case 1:
		for i := range e.Tokens {
			r.token(&e.Tokens[i])
		}
		for i := range e.Words {
			e.Words[i] = r.uvarint()
		}
	default:
		r.bad = true
	}
}
