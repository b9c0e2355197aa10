package sim

import "github.com/verishake/verishake/protocol"

// evKind is what a scheduled event will do when its time comes.
type evKind uint8

const (
	evArrival     evKind = iota + 1 // the arrival process asks for a handshake
	evStart                         // a waiting arrival starts on client a
	evDeliver                       // in-flight slot a (message id) arrives
	evClientTimer                   // client a's timer, as armed
	evServerTimer                   // server timer for RegID id, as armed
	evIssue                         // the server issues a command to RegID id
	evAdversary                     // the adversary may move
)

// event is an entry of the random scheduler's time-ordered queue. Events
// at the same time run in the order they were scheduled (seq), so a run is
// a function of its seed alone.
type event struct {
	at   protocol.Time
	seq  uint64
	id   uint64 // message id, or RegID
	a    int32  // slot or client
	kind evKind
}

func (e *event) before(f *event) bool {
	return e.at < f.at || e.at == f.at && e.seq < f.seq
}

// queue orders events by (at, seq). Events whose delay is random — message
// arrivals — go to a binary min-heap of values (no interface boxing, no
// allocation once grown). Events scheduled a fixed delay ahead — session
// expiries (now+Lifetime), retransmission timers (now+Backoff·2^k),
// commands (now+k·CommandGap) — go to a FIFO lane per delay: the clock
// only moves forward, so each lane fills in time order and costs O(1) per
// event. They are the bulk of the queue; keeping them out of the heap
// keeps it shallow.
type queue struct {
	h     []event
	lanes []lane
	seq   uint64
}

// lane is a FIFO of events scheduled the same delay ahead, hence in (at,
// seq) order; buf[head:] are pending.
type lane struct {
	delay protocol.Time
	buf   []event
	head  int
}

func (l *lane) empty() bool { return l.head == len(l.buf) }

// addLane gives events scheduled d ahead a lane of their own.
func (q *queue) addLane(d protocol.Time) {
	for i := range q.lanes {
		if q.lanes[i].delay == d {
			return
		}
	}
	q.lanes = append(q.lanes, lane{delay: d})
}

func (q *queue) len() int {
	n := len(q.h)
	for i := range q.lanes {
		n += len(q.lanes[i].buf) - q.lanes[i].head
	}
	return n
}

// push schedules e on the heap.
func (q *queue) push(e event) {
	q.seq++
	e.seq = q.seq
	q.h = append(q.h, e)
	i := len(q.h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !e.before(&q.h[p]) {
			break
		}
		q.h[i] = q.h[p]
		i = p
	}
	q.h[i] = e
}

// pushAt schedules e, whose time is e.at, from time now: on the lane for
// e.at-now if there is one, on the heap otherwise. now must not be before
// the now of any earlier pushAt, or a lane could fall out of order.
func (q *queue) pushAt(now protocol.Time, e event) {
	d := e.at - now
	for i := range q.lanes {
		l := &q.lanes[i]
		if l.delay != d {
			continue
		}
		if l.empty() {
			l.buf, l.head = l.buf[:0], 0
		} else if l.head >= 1024 && 2*l.head >= len(l.buf) {
			l.buf = l.buf[:copy(l.buf, l.buf[l.head:])]
			l.head = 0
		}
		q.seq++
		e.seq = q.seq
		l.buf = append(l.buf, e)
		return
	}
	q.push(e)
}

// next returns where the next event is — a lane index, or -1 for the heap
// — and the event; nil when the queue is empty. Take it with take(k).
func (q *queue) next() (int, *event) {
	best := -1
	var at *event
	if len(q.h) > 0 {
		at = &q.h[0]
	}
	for i := range q.lanes {
		l := &q.lanes[i]
		if l.head < len(l.buf) && (at == nil || l.buf[l.head].before(at)) {
			best, at = i, &l.buf[l.head]
		}
	}
	return best, at
}

// pop removes and returns the next event; the queue must not be empty.
func (q *queue) pop() event {
	k, _ := q.next()
	return q.take(k)
}

// take removes and returns the event next found at k.
func (q *queue) take(k int) event {
	if k >= 0 {
		l := &q.lanes[k]
		l.head++
		return l.buf[l.head-1]
	}
	top := q.h[0]
	n := len(q.h) - 1
	last := q.h[n]
	q.h = q.h[:n]
	if n == 0 {
		return top
	}
	i := 0
	for {
		m := 2*i + 1
		if m >= n {
			break
		}
		if r := m + 1; r < n && q.h[r].before(&q.h[m]) {
			m = r
		}
		if !q.h[m].before(&last) {
			break
		}
		q.h[i] = q.h[m]
		i = m
	}
	q.h[i] = last
	return top
}
