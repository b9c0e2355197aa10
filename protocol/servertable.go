package protocol

import (
	"cmp"
	"slices"
)

// Server keeps one Slot per RegID and enforces the half-open cap. Slots
// live inline in an open-addressing table (linear probing, backward-shift
// deletion): no map and no pointer per RegID on the hot path, and a slot
// whose sessions are all gone is removed, so memory follows live sessions.
type Server struct {
	// Ext is the server-wide state of the profile's hooks (see Hooks and
	// HookState); the server itself never reads or changes it.
	Ext Ext

	slots    []Slot // power-of-two length; State SessionNone marks an empty bucket
	n        int    // occupied buckets
	halfOpen int    // half-open slots
	flood    Flooded
}

// NewServer returns a server with no sessions.
func NewServer() *Server { return &Server{slots: make([]Slot, 4)} }

// Handle processes an upstream message.
func (s *Server) Handle(h *Handshake, now Time, m Message, tokens TokenSource) Output {
	if !m.Kind.Upstream() {
		return Output{Deadline: Never, Err: ErrWrongRole}
	}
	i, found := s.find(m.RegID)
	if !found && m.Kind == Confirm1 {
		return Output{Deadline: Never, Err: ErrUnknownRegID}
	}
	p := &h.profile
	if !found {
		// A RegID with nothing kept: step a fresh slot, keep it if it opened a session.
		sl := Slot{RegID: m.RegID}
		s.expireFlood(now)
		env := SlotEnv{Admit: p.HalfOpenCap == 0 || s.HalfOpen() < p.HalfOpenCap, server: s}
		out := sl.Handle(h, now, m, tokens, env)
		s.put(sl)
		return out
	}
	// Step the slot in place: slots are large values, and this is the hot path.
	sl := &s.slots[i]
	wasOpen := sl.HalfOpen()
	open := s.halfOpen
	// A session past its lifetime must free its place before the cap is
	// read, or a RegID re-trying after expiry is refused for nothing.
	if m.Kind == Hello && wasOpen {
		if _, err := sl.expireDue(h, now); err != nil {
			out := sl.reject(err)
			s.stepped(i, wasOpen)
			return out
		}
		if !sl.HalfOpen() {
			open--
		}
	}
	if m.Kind == Hello {
		s.expireFlood(now)
	}
	env := SlotEnv{Admit: p.HalfOpenCap == 0 || open+s.flood.N < p.HalfOpenCap, server: s}
	if p.UnboundRegID && m.Kind == Confirm1 {
		env.TsPendingElsewhere = s.PendingTs(m.Ts)
	}
	out := sl.Handle(h, now, m, tokens, env)
	s.stepped(i, wasOpen)
	return out
}

// Issue sends a command to id under its verified session.
func (s *Server) Issue(h *Handshake, now Time, id RegID, payload string) Output {
	i, found := s.find(id)
	if !found {
		return Output{Deadline: Never, Err: ErrNotVerified}
	}
	wasOpen := s.slots[i].HalfOpen()
	out := s.slots[i].Issue(h, now, payload)
	s.stepped(i, wasOpen)
	return out
}

// Expire runs id's slot timer.
func (s *Server) Expire(h *Handshake, now Time, id RegID) Output {
	i, found := s.find(id)
	if !found {
		return Output{Deadline: Never, Err: ErrNotDue}
	}
	wasOpen := s.slots[i].HalfOpen()
	out := s.slots[i].Expire(h, now)
	s.stepped(i, wasOpen)
	return out
}

// stepped accounts for the slot in bucket i after a step in place: the
// half-open count, and the removal of a slot left with no session.
func (s *Server) stepped(i int, wasOpen bool) {
	switch isOpen := s.slots[i].HalfOpen(); {
	case wasOpen && !isOpen:
		s.halfOpen--
	case !wasOpen && isOpen:
		s.halfOpen++
	}
	if s.slots[i].State == SessionNone {
		s.remove(i)
	}
}

// Slot returns the slot kept for id.
func (s *Server) Slot(id RegID) (Slot, bool) {
	if i, ok := s.find(id); ok {
		return s.slots[i], true
	}
	return Slot{}, false
}

// View returns the slot kept for id in place, or nil: read it, never
// change it, and do not keep it past the server's next change. It is Slot
// without the copy, for the explorer's hot path.
func (s *Server) View(id RegID) *Slot {
	if i, ok := s.find(id); ok {
		return &s.slots[i]
	}
	return nil
}

// Put stores sl as id's slot, replacing any, or removes the slot when it
// holds no session. For restoring a server from a store or a snapshot.
func (s *Server) Put(sl Slot) { s.put(sl) }

// HalfOpen is the number of sessions awaiting Confirm1, a flood's
// included.
func (s *Server) HalfOpen() int { return s.halfOpen + s.flood.N }

// Len is the number of RegIDs with a session.
func (s *Server) Len() int { return s.n }

// Slots returns a copy of every slot, ordered by RegID.
func (s *Server) Slots() []Slot {
	out := make([]Slot, 0, s.n)
	for _, sl := range s.slots {
		if sl.State != SessionNone {
			out = append(out, sl)
		}
	}
	slices.SortFunc(out, func(a, b Slot) int { return cmp.Compare(a.RegID, b.RegID) })
	return out
}

// Clone returns an independent copy of s.
func (s *Server) Clone() *Server {
	c := *s
	c.slots = slices.Clone(s.slots)
	return &c
}

// PendingTs reports whether some RegID's pending session has Ts ts. It
// visits every slot: for UnboundRegID and hooks, not for a service's hot path.
func (s *Server) PendingTs(ts Token) bool {
	for i := range s.slots {
		if s.slots[i].HalfOpen() && s.slots[i].Pending.Ts.Equal(ts) {
			return true
		}
	}
	return false
}

func (s *Server) home(id RegID) int {
	// Fibonacci hashing: RegIDs are often dense small numbers.
	return int((uint64(id) * 0x9e3779b97f4a7c15) >> 32 & uint64(len(s.slots)-1))
}

func (s *Server) find(id RegID) (int, bool) {
	mask := len(s.slots) - 1
	for i := s.home(id); ; i = (i + 1) & mask {
		switch {
		case s.slots[i].State == SessionNone:
			return i, false
		case s.slots[i].RegID == id:
			return i, true
		}
	}
}

// put writes sl back, keeping the half-open count and removing empty slots.
func (s *Server) put(sl Slot) {
	i, found := s.find(sl.RegID)
	if found && s.slots[i].HalfOpen() {
		s.halfOpen--
	}
	if sl.HalfOpen() {
		s.halfOpen++
	}
	switch {
	case sl.State != SessionNone && found:
		s.slots[i] = sl
	case sl.State != SessionNone:
		s.slots[i] = sl
		s.n++
		if 4*s.n >= 3*len(s.slots) {
			s.grow()
		}
	case found:
		s.remove(i)
	}
}

func (s *Server) grow() {
	old := s.slots
	s.slots = make([]Slot, 2*len(old))
	for _, sl := range old {
		if sl.State != SessionNone {
			i, _ := s.find(sl.RegID)
			s.slots[i] = sl
		}
	}
}

// remove empties bucket i and shifts later members of its probe run back,
// so lookups never need tombstones.
func (s *Server) remove(i int) {
	mask := len(s.slots) - 1
	s.n--
	for j := (i + 1) & mask; s.slots[j].State != SessionNone; j = (j + 1) & mask {
		k := s.home(s.slots[j].RegID)
		// Move j into the hole at i unless its home lies cyclically in (i, j].
		if (j > i && (k <= i || k > j)) || (j < i && k <= i && k > j) {
			s.slots[i] = s.slots[j]
			i = j
		}
	}
	s.slots[i] = Slot{}
}

// EachSlot calls f with every slot, in RegID order (the order of Slots),
// without allocating when the server keeps few RegIDs: it visits slots in
// place rather than copying them out. f must not change the server. It is
// for the explorer's hot path, where a world's server holds a handful of
// slots; with many it falls back to Slots.
func (s *Server) EachSlot(f func(*Slot)) {
	if s.n > eachSlotMax {
		for _, sl := range s.Slots() {
			f(&sl)
		}
		return
	}
	// The occupied buckets, insertion-sorted by RegID.
	var at [eachSlotMax]int32
	n := 0
	for i := 0; i < len(s.slots) && n < s.n; i++ {
		if s.slots[i].State == SessionNone {
			continue
		}
		id, j := s.slots[i].RegID, n
		for ; j > 0 && s.slots[at[j-1]].RegID > id; j-- {
			at[j] = at[j-1]
		}
		at[j] = int32(i)
		n++
	}
	for _, i := range at[:n] {
		f(&s.slots[i])
	}
}

// eachSlotMax is the most slots EachSlot orders on the stack.
const eachSlotMax = 16

// CopyFrom makes s an independent copy of src, reusing s's storage: the
// explorer copies one world into another for every transition it tries.
// Empty buckets are zero, so with tables of one size only the occupied
// buckets of either need writing.
func (s *Server) CopyFrom(src *Server) {
	if s == src {
		return
	}
	if len(s.slots) != len(src.slots) {
		slots := append(s.slots[:0], src.slots...)
		*s = *src
		s.slots = slots
		return
	}
	for i := range src.slots {
		switch {
		case src.slots[i].State != SessionNone:
			s.slots[i] = src.slots[i]
		case s.slots[i].State != SessionNone:
			s.slots[i] = Slot{}
		}
	}
	s.n, s.halfOpen, s.flood, s.Ext = src.n, src.halfOpen, src.flood, src.Ext
}

// Reset removes every slot and the hooks' server-wide state, keeping the
// table's storage.
func (s *Server) Reset() {
	clear(s.slots)
	s.n, s.halfOpen, s.flood, s.Ext = 0, 0, Flooded{}, Ext{}
}
