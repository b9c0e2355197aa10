package transport

import (
	"container/heap"
	"sync"
	"time"

	"github.com/verishake/verishake/protocol"
)

// scheduler runs the slots' deadlines on a real clock with one goroutine and
// a min-heap, rather than a time.Timer per slot: a million idle sessions
// then cost a heap entry each, and stopping the server stops one goroutine.
//
// Due entries are fired in batches of at most batchMax RegIDs, so that a
// server can expire them with one durable write per batch rather than one
// per session.
//
// Entries may go stale (the slot's deadline moved); firing a stale entry is
// harmless because Slot.Expire answers ErrNotDue and the server re-arms the
// slot at its real deadline.
type scheduler struct {
	mu    sync.Mutex
	q     timerHeap
	armed map[protocol.RegID]protocol.Time // earliest queued deadline per RegID
	wake  chan struct{}
	stop  chan struct{}
	done  chan struct{}
	now   func() protocol.Time
	fire  func([]protocol.RegID)

	// fireMu is held from taking due entries off the heap until they are
	// fired, so that fireDue called from outside the goroutine waits for a
	// batch in flight instead of finding the heap empty while it runs.
	fireMu sync.Mutex
}

// batchMax bounds the RegIDs of one fire call.
const batchMax = 512

type timerEntry struct {
	at protocol.Time
	id protocol.RegID
}

type timerHeap []timerEntry

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].at < h[j].at }
func (h timerHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *timerHeap) Push(x any)        { *h = append(*h, x.(timerEntry)) }
func (h *timerHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

// maxWait bounds one sleep, so a wall clock that jumps (NTP, a suspended
// VM) delays an expiry by at most this much.
const maxWait = time.Minute

func newScheduler(now func() protocol.Time, fire func([]protocol.RegID)) *scheduler {
	s := &scheduler{
		armed: map[protocol.RegID]protocol.Time{},
		wake:  make(chan struct{}, 1),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
		now:   now,
		fire:  fire,
	}
	go s.run()
	return s
}

// arm asks for fire(id) at or after at. An earlier entry for id already
// queued covers it: when that fires, the server re-arms at the slot's
// current deadline.
func (s *scheduler) arm(id protocol.RegID, at protocol.Time) {
	if at == protocol.Never {
		return
	}
	s.mu.Lock()
	if cur, ok := s.armed[id]; ok && cur <= at {
		s.mu.Unlock()
		return
	}
	s.armed[id] = at
	heap.Push(&s.q, timerEntry{at, id})
	first := s.q[0].at == at
	s.mu.Unlock()
	if first {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

// fireDue takes up to batchMax entries that are due now off the heap and
// fires them in one call; it returns how many it fired. It runs on the
// scheduler's goroutine and also from outside it, when a caller cannot
// wait for the next wake-up (an admission at the half-open cap).
func (s *scheduler) fireDue() int {
	s.fireMu.Lock()
	defer s.fireMu.Unlock()
	now := s.now()
	var due []protocol.RegID
	s.mu.Lock()
	for len(s.q) > 0 && s.q[0].at <= now && len(due) < batchMax {
		e := heap.Pop(&s.q).(timerEntry)
		if s.armed[e.id] == e.at {
			delete(s.armed, e.id)
			due = append(due, e.id)
		}
	}
	s.mu.Unlock()
	if len(due) > 0 {
		s.fire(due)
	}
	return len(due)
}

// untilNext is how long the goroutine may sleep before the earliest entry.
func (s *scheduler) untilNext() time.Duration {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	wait := maxWait
	if len(s.q) > 0 {
		wait = max(0, min(wait, time.Duration(s.q[0].at-now)))
	}
	return wait
}

func (s *scheduler) run() {
	defer close(s.done)
	t := time.NewTimer(maxWait)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		default:
		}
		if s.fireDue() > 0 {
			continue // firing took time and may have armed earlier entries
		}
		t.Reset(s.untilNext())
		select {
		case <-t.C:
		case <-s.wake:
			// Since Go 1.23 Stop and Reset leave no stale tick to drain.
			t.Stop()
		case <-s.stop:
			return
		}
	}
}

// close stops the goroutine and waits for it, including a fire in progress.
func (s *scheduler) close() {
	close(s.stop)
	<-s.done
}
