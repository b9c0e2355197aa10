package transport

import (
	"container/heap"
	"errors"
	"sync"
	"time"

	"github.com/verishake/verishake/protocol"
)

// ErrEvicted is the reason a trace gives for an eviction: a pending
// session ended before its lifetime because a Hello found the half-open
// cap full and the session was the oldest one waiting for its Confirm1.
var ErrEvicted = errors.New("pending session evicted at the half-open cap")

// defaultEvictAfter is the youngest a session may be evicted when the
// profile has no retransmission timeout to go by.
const defaultEvictAfter = time.Second

// evictAfter is the age from which s may evict a half-open session, or a
// negative duration when it never evicts. Zero in the config means the
// profile's first retransmission timeout: a session younger than that may
// belong to a device still answering, which would then have to wait out
// its lifetime to learn that its Confirm1 came too late.
func evictAfter(cfg time.Duration, p protocol.Profile) time.Duration {
	switch {
	case cfg != 0:
		return cfg
	case p.Backoff > 0:
		return p.Backoff
	}
	return defaultEvictAfter
}

// halfOpenIndex orders the half-open sessions by the expiry of their
// pending session, that is by when they opened (every one opens with the
// same lifetime), so that the oldest is found at once. It is kept by
// settle, under the RegID's lock, so that for a RegID whose lock is held
// it agrees with the store.
type halfOpenIndex struct {
	mu sync.Mutex
	h  pendingHeap
}

type pendingEntry struct {
	expires protocol.Time
	id      protocol.RegID
}

// pendingHeap is a min-heap on expiry with each RegID's position.
type pendingHeap struct {
	entries []pendingEntry
	at      map[protocol.RegID]int
}

func (h *pendingHeap) Len() int { return len(h.entries) }
func (h *pendingHeap) Less(i, j int) bool {
	a, b := h.entries[i], h.entries[j]
	return a.expires < b.expires || a.expires == b.expires && a.id < b.id
}
func (h *pendingHeap) Swap(i, j int) {
	h.entries[i], h.entries[j] = h.entries[j], h.entries[i]
	h.at[h.entries[i].id], h.at[h.entries[j].id] = i, j
}
func (h *pendingHeap) Push(x any) {
	e := x.(pendingEntry)
	h.at[e.id] = len(h.entries)
	h.entries = append(h.entries, e)
}
func (h *pendingHeap) Pop() any {
	e := h.entries[len(h.entries)-1]
	h.entries = h.entries[:len(h.entries)-1]
	delete(h.at, e.id)
	return e
}

func newHalfOpenIndex() *halfOpenIndex {
	return &halfOpenIndex{h: pendingHeap{at: map[protocol.RegID]int{}}}
}

// set records that id's pending session expires at expires.
func (x *halfOpenIndex) set(id protocol.RegID, expires protocol.Time) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if i, ok := x.h.at[id]; ok {
		if x.h.entries[i].expires != expires {
			x.h.entries[i].expires = expires
			heap.Fix(&x.h, i)
		}
		return
	}
	heap.Push(&x.h, pendingEntry{expires, id})
}

// remove forgets id: it holds no pending session.
func (x *halfOpenIndex) remove(id protocol.RegID) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if i, ok := x.h.at[id]; ok {
		heap.Remove(&x.h, i)
	}
}

// takeOldest removes and returns the pending session that opened first,
// if it expires no later than by: each caller gets a session of its own
// to evict, so that a crowd of Hellos at the cap does not all chase one.
func (x *halfOpenIndex) takeOldest(by protocol.Time) (pendingEntry, bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if len(x.h.entries) == 0 || x.h.entries[0].expires > by {
		return pendingEntry{}, false
	}
	return heap.Pop(&x.h).(pendingEntry), true
}

// track keeps the index in step with a slot's change from old to sl.
func (x *halfOpenIndex) track(old, sl protocol.Slot) {
	switch {
	case sl.HalfOpen():
		x.set(sl.RegID, sl.Pending.Expires)
	case old.HalfOpen():
		x.remove(sl.RegID)
	}
}

// maxEvictionTries bounds the candidates one Hello looks at: a candidate
// may have verified or been replaced since the index listed it.
const maxEvictionTries = 8

// evictOldest ends the pending session that opened first, if it has waited
// for its Confirm1 at least the server's eviction age, and hands its place
// to the caller as a reservation: the oldest-drop of a SYN queue. A flood
// of Hellos that are never confirmed then holds each place for about
// cap/rate, not for the lifetime, while a device that answers within that
// keeps its session; and the Hello that evicted cannot lose the place to
// another. The session ends as at its expiry (the slot's ExpirePending
// transition: a re-keying slot keeps its verified session), is stored,
// traced as an expiry with reason ErrEvicted, and counted. It reports
// whether it holds a reservation for the caller, which the caller must use
// or give back.
func (s *Server) evictOldest() bool {
	if s.evictAge < 0 {
		return false
	}
	for range maxEvictionTries {
		// A session opened evictAge ago or earlier expires by then.
		by := s.now() - protocol.Time(s.evictAge) + protocol.Time(s.h.Profile().Lifetime)
		e, ok := s.index.takeOldest(by)
		if !ok {
			return false
		}
		if evicted, again := s.evict(e); evicted || !again {
			return evicted
		}
	}
	return false
}

// evict ends e's pending session under its lock, handing its place over.
// again reports a candidate that was stale (its session verified, expired
// or was replaced since it was listed): another may be tried.
func (s *Server) evict(e pendingEntry) (evicted, again bool) {
	mu := s.lock(e.id)
	mu.Lock()
	defer mu.Unlock()
	old, found, err := s.store.Load(e.id)
	if err != nil {
		s.index.set(e.id, e.expires) // still pending, as far as anyone knows
		_ = s.storeFailure("evict", e.id, err)
		return false, false
	}
	if !found || !old.HalfOpen() || old.Pending.Expires != e.expires {
		// The index has the slot's new state already.
		return false, true
	}
	to, ok := s.h.ServerMachine().Lookup(old.State, protocol.ExpirePending)
	if !ok {
		s.index.set(e.id, e.expires)
		return false, false
	}
	sl := old
	sl.State, sl.Pending = to, protocol.Session{}
	step := Step{Role: protocol.RoleServer, RegID: e.id, Time: s.now(), Input: InputEvict, State: uint8(sl.State), Err: ErrEvicted}
	if err := s.commit(old, sl, handedOver, step); err != nil {
		s.index.set(e.id, e.expires)
		_ = s.storeFailure("evict", e.id, err)
		return false, false
	}
	s.timers.arm(e.id, sl.Deadline())
	s.stats.evicted.Add(1)
	return true, false
}
