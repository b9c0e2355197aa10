package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/verishake/verishake/protocol"
)

// ServerConfig configures a Server.
type ServerConfig struct {
	// Handshake is the compiled profile the slots run. Required.
	Handshake *protocol.Handshake
	// Store keeps the slots; nil uses a new MemoryStore. The caller opens
	// it and closes it after Server.Close.
	Store Store
	// Pusher delivers Validation, Confirm2 and Command messages. Required.
	Pusher Pusher
	// Tokens makes server tokens; nil uses protocol.CryptoTokens, the
	// production source. Any other source is called under a mutex.
	Tokens protocol.TokenSource
	// Now is the clock; nil uses time.Now. Deadlines are stored as its
	// Unix nanoseconds, so after a restart an expired session is expired.
	Now func() time.Time
	// Tracer, if set, observes every step of every slot.
	Tracer Tracer
	// PushTimeout bounds one push; zero means 5 s.
	PushTimeout time.Duration
	// Log receives a structured record of every failure: each failed store
	// operation (error level, op and regid attributes) and each push the
	// platform did not take (warning level). Clients are told only a
	// stable reason; the details are here. Nil discards them.
	Log *slog.Logger
	// EvictAfter is the age from which a half-open session may be evicted:
	// a Hello that finds the half-open cap full, after the sessions past
	// their lifetime have given their places back, ends the oldest pending
	// session if it has waited this long for its Confirm1, and takes its
	// place. Zero means the profile's Backoff (the client's first
	// retransmission timeout; 1 s on hardened), or 1 s without one; a
	// negative value never evicts, and such a Hello is refused at the cap.
	EvictAfter time.Duration
}

// lockStripes is the number of mutexes RegIDs hash onto. A striped lock is
// per-RegID exclusion without a map entry per RegID; two RegIDs sharing a
// stripe only wait on each other.
const lockStripes = 4096

// Server is the server side of the handshake over HTTP: it decodes upstream
// frames, runs each RegID's protocol.Slot under that RegID's lock, traces
// each step before storing the slot (see commit), stores the slot before
// answering, and pushes the answer. It implements
// http.Handler for POST /v1/hello and POST /v1/confirm1.
//
// The half-open count is exact under concurrency: a Hello that may open a
// session first reserves room under the cap (an atomic compare-and-swap),
// and the reservation is kept only if the slot, once stored, is half-open.
type Server struct {
	h       *protocol.Handshake
	store   Store
	pusher  Pusher
	tokens  protocol.TokenSource
	clock   func() time.Time
	tracer  Tracer
	timeout time.Duration
	log     *slog.Logger

	locks    [lockStripes]sync.Mutex
	halfOpen atomic.Int64
	cap      int64
	timers   *scheduler
	index    *halfOpenIndex // the half-open sessions, oldest first
	evictAge time.Duration  // negative: never evict

	closeOnce sync.Once
	stats     serverStats
}

type serverStats struct {
	accepted, rejected, pushFailed, expired, storeFailed, undelivered atomic.Uint64
	verified, expiredHalfOpen, evicted                                atomic.Uint64
	rejections                                                        rejectCounts
}

// ServerStats counts what a server has done since it started.
type ServerStats struct {
	// Accepted and Rejected count upstream messages the machine took or
	// turned down; requests refused before decoding are in neither.
	Accepted, Rejected uint64
	// PushFailed counts answers stored but not accepted by the push path.
	PushFailed uint64
	// Expired counts timer firings that ended a session, and ExpiredHalfOpen
	// those of them that ended a handshake before its Confirm1.
	Expired, ExpiredHalfOpen uint64
	// Verified counts handshakes the server verified (its Commit claims).
	Verified uint64
	// Evicted counts pending sessions ended before their lifetime to make
	// room for a Hello at the half-open cap (see ServerConfig.EvictAfter).
	Evicted uint64
	// Rejections counts the requests turned down, by reason: the machine's
	// verdicts ("session_cap", "wrong_ts", "duplicate", ...; "other" for one
	// not named) and ServeHTTP's refusals before the machine ("malformed",
	// "oversized", "no_route"). Every reason is present, zero or not.
	Rejections map[string]uint64
	// StoreFailed counts store operations that failed: loads, and slots
	// that could not be saved.
	StoreFailed uint64
	// CommandsUndelivered counts commands Issue numbered and stored but the
	// push platform did not take; each was reported to Issue's caller.
	CommandsUndelivered uint64
	// HalfOpen is the current number of sessions awaiting Confirm1.
	HalfOpen int
}

// lockedTokens serialises a TokenSource that is not safe for concurrent
// use, such as protocol.SeededTokens.
type lockedTokens struct {
	mu  sync.Mutex
	src protocol.TokenSource
}

func (l *lockedTokens) NewToken() protocol.Token {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.src.NewToken()
}

// NewServer checks cfg, counts the half-open sessions already in the store,
// arms a timer for every stored slot and starts the timer goroutine. Close
// stops it.
func NewServer(cfg ServerConfig) (*Server, error) {
	if cfg.Handshake == nil {
		return nil, errors.New("transport: ServerConfig.Handshake is nil")
	}
	if cfg.Pusher == nil {
		return nil, fmt.Errorf("transport: ServerConfig.Pusher: %w", errNoPusher)
	}
	if cfg.Handshake.Profile().UnboundRegID {
		// That weakening needs a scan of every pending Ts on each Confirm1;
		// it exists to be caught in simulation, not to be served.
		return nil, fmt.Errorf("transport: profile %q sets UnboundRegID, which the HTTP server does not run", cfg.Handshake.Profile().Name)
	}
	if hooks := cfg.Handshake.Profile().Hooks; hooks.Server() {
		// The session stores keep a slot's sessions, not a hook's Ext.
		return nil, fmt.Errorf("transport: profile %q sets server hooks %v, which the HTTP server does not run", cfg.Handshake.Profile().Name, hooks.Names())
	}
	s := &Server{
		h:        cfg.Handshake,
		store:    cfg.Store,
		pusher:   cfg.Pusher,
		tokens:   cfg.Tokens,
		clock:    cfg.Now,
		tracer:   cfg.Tracer,
		timeout:  cfg.PushTimeout,
		log:      cfg.Log,
		cap:      int64(cfg.Handshake.Profile().HalfOpenCap),
		index:    newHalfOpenIndex(),
		evictAge: evictAfter(cfg.EvictAfter, cfg.Handshake.Profile()),
	}
	if s.store == nil {
		s.store = NewMemoryStore()
	}
	switch s.tokens.(type) {
	case nil:
		s.tokens = protocol.CryptoTokens{}
	case protocol.CryptoTokens:
	default:
		s.tokens = &lockedTokens{src: s.tokens}
	}
	if s.clock == nil {
		s.clock = time.Now
	}
	if s.timeout <= 0 {
		s.timeout = 5 * time.Second
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	var deadlines []timerEntry
	var half int64
	if err := s.store.Range(func(sl protocol.Slot) bool {
		if sl.HalfOpen() {
			half++
			s.index.set(sl.RegID, sl.Pending.Expires)
		}
		deadlines = append(deadlines, timerEntry{sl.Deadline(), sl.RegID})
		return true
	}); err != nil {
		return nil, fmt.Errorf("transport: loading sessions: %w", err)
	}
	// A store written under a larger cap may hold more; new Hellos then
	// wait until enough expire, and the bound holds again from there.
	s.halfOpen.Store(half)
	s.timers = newScheduler(s.now, s.expireBatch)
	for _, d := range deadlines {
		s.timers.arm(d.id, d.at)
	}
	return s, nil
}

// Close stops the timer goroutine and waits for an expiry in progress. It
// does not close the store, nor wait for requests: shut the http.Server
// down first.
func (s *Server) Close() error {
	s.closeOnce.Do(s.timers.close)
	return nil
}

// Handshake returns the compiled profile the server runs.
func (s *Server) Handshake() *protocol.Handshake { return s.h }

// HalfOpen returns the number of sessions awaiting Confirm1.
func (s *Server) HalfOpen() int { return int(s.halfOpen.Load()) }

// Stats returns the server's counters.
func (s *Server) Stats() ServerStats {
	return ServerStats{
		Accepted:            s.stats.accepted.Load(),
		Rejected:            s.stats.rejected.Load(),
		PushFailed:          s.stats.pushFailed.Load(),
		Expired:             s.stats.expired.Load(),
		ExpiredHalfOpen:     s.stats.expiredHalfOpen.Load(),
		Verified:            s.stats.verified.Load(),
		Evicted:             s.stats.evicted.Load(),
		Rejections:          s.stats.rejections.snapshot(),
		StoreFailed:         s.stats.storeFailed.Load(),
		CommandsUndelivered: s.stats.undelivered.Load(),
		HalfOpen:            s.HalfOpen(),
	}
}

// Slot returns id's stored slot, read under id's lock.
func (s *Server) Slot(id protocol.RegID) (protocol.Slot, bool, error) {
	mu := s.lock(id)
	mu.Lock()
	defer mu.Unlock()
	return s.store.Load(id)
}

func (s *Server) now() protocol.Time { return protocol.Time(s.clock().UnixNano()) }

func (s *Server) lock(id protocol.RegID) *sync.Mutex { return &s.locks[stripe(id)] }

// stripe is the index of id's lock: the top 12 bits of a multiplicative
// hash, for 4096 stripes.
func stripe(id protocol.RegID) int { return int((uint64(id) * 0x9e3779b97f4a7c15) >> 52) }

// reserve takes room for one more half-open session, or reports the cap.
func (s *Server) reserve() bool {
	if s.cap == 0 {
		s.halfOpen.Add(1)
		return true
	}
	for {
		n := s.halfOpen.Load()
		if n >= s.cap {
			return false
		}
		if s.halfOpen.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// placeHeld is what a step does with a place under the cap beside the
// slot's own change of half-openness.
type placeHeld int8

const (
	// noPlace: the count moves by the slot's change alone.
	noPlace placeHeld = 0
	// reservedPlace: a reservation taken before the step is used by the
	// slot, or given back.
	reservedPlace placeHeld = 1
	// handedOver: the place the slot gives up is not freed but passes to
	// the caller as a reservation (an eviction for a waiting Hello).
	handedOver placeHeld = -1
)

// commit traces st and then stores sl if it differs from old, and settles
// the half-open count. The trace is written ahead of the store, so that a
// process killed between the two leaves its trace one step ahead of its
// store, never behind: validation may undo a slot's last step before a
// restart (see ValidateTraces), while a step stored and not traced would
// be a step the trace cannot account for. Each call traces one step and
// stores once, so that the step a restart may undo is one step. On a
// failed save nothing changed: the step is retracted (Retracter), and a
// reservation is given back.
func (s *Server) commit(old, sl protocol.Slot, held placeHeld, st Step) error {
	s.trace(st)
	if sl != old {
		if err := s.store.Save(sl); err != nil {
			s.retract(st)
			if held == reservedPlace {
				s.halfOpen.Add(-1)
			}
			return err
		}
	}
	s.settle(old, sl, held)
	return nil
}

// trace hands st to the tracer, if there is one.
func (s *Server) trace(st Step) {
	if s.tracer != nil {
		s.tracer.Step(st)
	}
}

// retract takes back a traced step that was not stored, if the tracer can.
func (s *Server) retract(st Step) {
	if r, ok := s.tracer.(Retracter); ok {
		r.Retract(st)
	}
}

// settle moves the half-open count by the change from old to the stored
// sl and by what held says.
//
// It needs no lock shared with the trace: replaying a trace in line order
// never sees more half-open sessions than the server counts (reservations
// included), slot by slot, because a step that opens a session reserved
// its place before it was traced, a step that ends one is traced before
// its place is given back here, and a retraction is traced before a
// reservation is given back.
func (s *Server) settle(old, sl protocol.Slot, held placeHeld) {
	s.index.track(old, sl)
	// The slot's old session was counted, and so was a reservation; the
	// slot's new state is counted instead.
	delta := -int64(held)
	if old.HalfOpen() {
		delta--
	}
	if sl.HalfOpen() {
		delta++
	}
	s.halfOpen.Add(delta)
}

// Handle runs one upstream message through its RegID's slot: it loads the
// slot, applies any expiry that is due, lets the machine decide, traces
// the step, stores the result and then pushes the answer, so that no
// answer ever goes out for a step that is not traced and stored. id is
// the sender's trace id for m ("" if none).
// A Hello that finds the half-open cap full may first evict the oldest
// pending session (see ServerConfig.EvictAfter) and take its place.
//
// The returned Output carries the machine's verdict (Output.Err for a
// rejected message). The error is for the service: the store failed (the
// step did not happen) or the push failed (the step is stored; the
// client's retransmission will fetch the answer again).
func (s *Server) Handle(ctx context.Context, m protocol.Message, id uint64) (protocol.Output, error) {
	if !m.Kind.Upstream() {
		return protocol.Output{Deadline: protocol.Never, Err: protocol.ErrWrongRole}, nil
	}
	if m.Kind == protocol.Hello && s.cap > 0 && s.halfOpen.Load() >= s.cap {
		// Before a Hello is turned away at the cap, the sessions whose
		// lifetime is over give their places back, whether or not their
		// timer has run. Done before taking m.RegID's lock, because the
		// expiry takes the locks of the RegIDs it expires.
		s.reclaim()
	}
	out, p, full, err := s.step(m, id, true, false)
	if full {
		// The Hello needs a place and none is free: the oldest pending
		// session hands its place over, if it is old enough. Done with no
		// lock held, for the same reason.
		out, p, _, err = s.step(m, id, false, s.evictOldest())
	}
	if err != nil {
		return out, err
	}
	return out, s.push(ctx, p)
}

// step runs m through its RegID's slot under the RegID's lock and stores
// the result. When mayEvict is set and m is a Hello that the cap would
// turn away, it changes nothing and reports full instead, so that the
// caller can make room first. held says the caller holds a reservation
// already (an eviction handed it over): the step uses it, or gives it back.
func (s *Server) step(m protocol.Message, id uint64, mayEvict, held bool) (out protocol.Output, p Push, full bool, err error) {
	mu := s.lock(m.RegID)
	mu.Lock()
	defer mu.Unlock()
	old, found, err := s.store.Load(m.RegID)
	if err != nil {
		if held {
			s.halfOpen.Add(-1)
		}
		return protocol.Output{}, Push{}, false, s.storeFailure("load", m.RegID, err)
	}
	now := s.now()
	if !found {
		old = protocol.Slot{RegID: m.RegID}
	}
	if expired := old; found && m.Kind == protocol.Hello && expired.Expire(s.h, now).Err == nil {
		// Expiry first, so that a pending session whose lifetime is over
		// frees its place under the cap before the Hello asks for one. It
		// is a step of its own (the slot's timer, run early), so that the
		// trace stays a sequence of the model's steps, and it is stored on
		// its own, so that every traced step is one stored state.
		st := Step{Role: protocol.RoleServer, RegID: m.RegID, Time: now, Input: InputExpire, State: uint8(expired.State)}
		if err := s.commit(old, expired, noPlace, st); err != nil {
			if held {
				s.halfOpen.Add(-1)
			}
			return protocol.Output{}, Push{}, false, s.storeFailure("save", m.RegID, err)
		}
		s.timers.arm(m.RegID, expired.Deadline())
		old = expired
	}
	sl := old
	env := protocol.SlotEnv{}
	reserved := false
	switch {
	case m.Kind == protocol.Hello && !sl.HalfOpen():
		reserved = held || s.reserve()
		env.Admit = reserved
		if !reserved && mayEvict {
			// Would the machine refuse it for the cap, or for another
			// reason (a late copy of an old Hello)? A refused Hello at the
			// cap draws no token, so a trial on a copy decides.
			trial := sl
			if errors.Is(trial.Handle(s.h, now, m, s.tokens, env).Err, protocol.ErrSessionCap) {
				return protocol.Output{}, Push{}, true, nil
			}
		}
	case held:
		// The slot changed while the place was being made (a concurrent
		// Hello for the same RegID opened a session): it needs none.
		s.halfOpen.Add(-1)
	}
	out = sl.Handle(s.h, now, m, s.tokens, env)
	if out.Send.Kind != 0 {
		p = Push{Message: out.Send, ID: newMessageID()}
	}
	st := Step{Role: protocol.RoleServer, RegID: m.RegID, Time: now, Input: InputRecv, State: uint8(sl.State),
		Recv: m, RecvID: id, Send: out.Send, SendID: p.ID, Claims: out.ClaimList(), Err: out.Err}
	placed := noPlace
	if reserved {
		placed = reservedPlace
	}
	if err := s.commit(old, sl, placed, st); err != nil {
		return protocol.Output{}, Push{}, false, s.storeFailure("save", m.RegID, err)
	}
	s.timers.arm(sl.RegID, sl.Deadline())
	if out.Err != nil {
		s.stats.rejected.Add(1)
		s.stats.rejections.verdict(out.Err)
	} else {
		s.stats.accepted.Add(1)
		if verifies(out.ClaimList()) {
			s.stats.verified.Add(1)
		}
	}
	return out, p, false, nil
}

// Issue sends a command to id under its verified session: the slot's
// sequence number is stored before the command is pushed. It returns the
// command sent; a slot without a verified session gives an error wrapping
// protocol.ErrNotVerified.
//
// A command the push platform does not take (it is down, or the device's
// queue is full: 429 from FCM and from the relay) is returned with an error
// wrapping ErrNotPushed and the platform's *PushError, counted in
// Stats().CommandsUndelivered and logged: it was not delivered, and the
// protocol does not retransmit commands, so the caller decides whether to
// send it again, under the next number. No command is lost unreported.
func (s *Server) Issue(ctx context.Context, id protocol.RegID, payload string) (protocol.Message, error) {
	if len(payload) > protocol.MaxPayload {
		// Checked before the machine numbers the command: a number spent
		// on a command that cannot be encoded would be a gap for nothing.
		return protocol.Message{}, fmt.Errorf("issue to %d: payload of %d bytes: %w", id, len(payload), protocol.ErrPayload)
	}
	mu := s.lock(id)
	mu.Lock()
	old, found, err := s.store.Load(id)
	if err != nil {
		mu.Unlock()
		return protocol.Message{}, s.storeFailure("load", id, err)
	}
	if !found {
		mu.Unlock()
		return protocol.Message{}, fmt.Errorf("issue to %d: %w", id, protocol.ErrNotVerified)
	}
	now := s.now()
	sl := old
	out := sl.Issue(s.h, now, payload)
	p := Push{Message: out.Send}
	if out.Send.Kind != 0 {
		p.ID = newMessageID()
	}
	st := Step{Role: protocol.RoleServer, RegID: id, Time: now, Input: InputIssue, Payload: payload, State: uint8(sl.State),
		Send: out.Send, SendID: p.ID, Claims: out.ClaimList(), Err: out.Err}
	if err := s.commit(old, sl, noPlace, st); err != nil {
		mu.Unlock()
		return protocol.Message{}, s.storeFailure("save", id, err)
	}
	s.timers.arm(id, sl.Deadline())
	mu.Unlock()
	if out.Err != nil {
		return protocol.Message{}, fmt.Errorf("issue to %d: %w", id, out.Err)
	}
	if err := s.push(ctx, p); err != nil {
		s.stats.undelivered.Add(1)
		s.log.Warn("command not delivered", "regid", uint64(id), "seq", out.Send.Seq, "err", err)
		return out.Send, fmt.Errorf("issue to %d: command %d: %w", id, out.Send.Seq, err)
	}
	return out.Send, nil
}

// reclaim expires every session that is due now, in batches, until the
// half-open count is under the cap or nothing more is due.
func (s *Server) reclaim() {
	for s.halfOpen.Load() >= s.cap {
		if s.timers.fireDue() == 0 {
			return
		}
	}
}

// expireBatch is the timer's callback: it expires the due sessions of ids
// under all their locks (taken in stripe order, so two batches cannot
// deadlock and Handle, which takes one lock, cannot either) and saves the
// changed slots in one write when the store is a BatchSaver.
func (s *Server) expireBatch(ids []protocol.RegID) {
	stripes := make([]int, 0, len(ids))
	for _, id := range ids {
		stripes = append(stripes, stripe(id))
	}
	slices.Sort(stripes)
	stripes = slices.Compact(stripes)
	for _, i := range stripes {
		s.locks[i].Lock()
	}
	defer func() {
		for _, i := range stripes {
			s.locks[i].Unlock()
		}
	}()

	type expiry struct {
		old, sl protocol.Slot
		step    Step
	}
	now := s.now()
	retry := protocol.Time(s.clock().Add(time.Second).UnixNano())
	var due []expiry
	for _, id := range ids {
		old, found, err := s.store.Load(id)
		if err != nil {
			// Lazy expiry in Handle still holds the line; retry soon.
			_ = s.storeFailure("expire", id, err)
			s.timers.arm(id, retry)
			continue
		}
		if !found {
			continue
		}
		sl := old
		if out := sl.Expire(s.h, now); out.Err != nil {
			// A stale entry: nothing was due, so there is no step.
			s.timers.arm(id, sl.Deadline())
			continue
		}
		due = append(due, expiry{old, sl, Step{Role: protocol.RoleServer, RegID: id, Time: now, Input: InputExpire, State: uint8(sl.State)}})
	}
	// Traced ahead of the store, as commit does; a slot that is then not
	// stored has its step retracted.
	for _, e := range due {
		s.trace(e.step)
	}
	done := func(e expiry) {
		s.settle(e.old, e.sl, noPlace)
		s.timers.arm(e.sl.RegID, e.sl.Deadline())
		s.stats.expired.Add(1)
		if e.old.HalfOpen() && !e.sl.HalfOpen() {
			s.stats.expiredHalfOpen.Add(1)
		}
	}
	bs, ok := s.store.(BatchSaver)
	if !ok {
		for _, e := range due {
			if err := s.store.Save(e.sl); err != nil {
				s.retract(e.step)
				_ = s.storeFailure("expire", e.sl.RegID, err)
				s.timers.arm(e.sl.RegID, retry)
				continue
			}
			done(e)
		}
		return
	}
	slots := make([]protocol.Slot, len(due))
	for i, e := range due {
		slots[i] = e.sl
	}
	if err := bs.SaveSlots(slots); err != nil {
		// One failed write, but every slot in it is a failed save.
		s.stats.storeFailed.Add(uint64(len(slots)) - 1)
		_ = s.storeFailure("expire", slots[0].RegID, fmt.Errorf("batch of %d sessions: %w", len(slots), err))
		for _, e := range due {
			s.retract(e.step)
			s.timers.arm(e.sl.RegID, retry)
		}
		return
	}
	for _, e := range due {
		done(e)
	}
}

func (s *Server) push(ctx context.Context, p Push) error {
	if p.Message.Kind == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.timeout)
	defer cancel()
	if err := s.pusher.Push(ctx, p); err != nil {
		s.stats.pushFailed.Add(1)
		s.log.Warn("push failed", "regid", uint64(p.Message.RegID), "kind", p.Message.Kind.String(), "err", err)
		return fmt.Errorf("%w: %w", ErrNotPushed, err)
	}
	return nil
}

// storeFailure logs and counts a failed store operation on id and returns
// err marked with ErrStoreFailed.
func (s *Server) storeFailure(op string, id protocol.RegID, err error) error {
	s.stats.storeFailed.Add(1)
	s.log.Error("session store failed", "op", op, "regid", uint64(id), "err", err)
	return fmt.Errorf("%w: %w", ErrStoreFailed, err)
}

// ErrStoreFailed marks an error of the session store: the step did not
// happen, and nothing changed.
var ErrStoreFailed = errors.New("transport: session store failed")

// ErrNotPushed marks a step that was stored but whose answer the Pusher
// did not accept. The step stands; the client's retransmission gets the
// same answer again from an idempotent profile.
var ErrNotPushed = errors.New("step stored, answer not pushed")

// HTTP paths of the upstream messages.
const (
	PathHello    = "/v1/hello"
	PathConfirm1 = "/v1/confirm1"
)

// HeaderMessageID carries the sender's trace id of an upstream message, a
// decimal uint64. It is optional, and untrusted like the rest of the
// request: it only lets a trace pair a receive with its send.
const HeaderMessageID = "Verishake-Message-Id"

// ServeHTTP accepts POST /v1/hello and POST /v1/confirm1, each with one
// protocol frame of that kind as its body. Statuses:
//
//	202 the machine took the message (its answer is pushed)
//	400 malformed, truncated or unknown body, or a frame of the other kind
//	404 another path
//	405 another method
//	409 the machine rejected the message (body: ReasonRefused)
//	413 a body longer than protocol.MaxFrame
//	429 the half-open cap is reached
//	500 the store failed; nothing changed (body: ReasonStoreFailed)
//	502 the step is stored but the push platform could not take its
//	    answer (body: ReasonNotPushed)
//
// Nothing is loaded or stored for a request refused with 400, 404, 405 or
// 413. Every error body is one of the Reason constants, or for a frame
// that does not decode "bad frame: " and the codec's sentinel: one line,
// the same for every request of its kind. The details (the machine's
// verdict, the decoder's offset, the store's error, the platform's answer)
// go to ServerConfig.Log, not to a client: a Confirm1 refused for a wrong
// Ts and one for a RegID with no session get the same 409, and a push the
// platform refuses for the RegID itself (not registered, or its device's
// queue is full) is answered 202 like a push that went out, so that no
// answer tells who is registered or who has a session; it is logged and
// counted as a push failure all the same.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var want protocol.Kind
	switch r.URL.Path {
	case PathHello:
		want = protocol.Hello
	case PathConfirm1:
		want = protocol.Confirm1
	default:
		s.stats.rejections[reasonNoRoute].Add(1)
		httpError(w, http.StatusNotFound, ReasonNoRoute)
		return
	}
	if r.Method != http.MethodPost {
		s.stats.rejections[reasonNoRoute].Add(1)
		w.Header().Set("Allow", http.MethodPost)
		httpError(w, http.StatusMethodNotAllowed, ReasonMethod)
		return
	}
	if r.ContentLength > protocol.MaxFrame {
		s.stats.rejections[reasonOversized].Add(1)
		httpError(w, http.StatusRequestEntityTooLarge, ReasonOversized)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, protocol.MaxFrame))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			s.stats.rejections[reasonOversized].Add(1)
			httpError(w, http.StatusRequestEntityTooLarge, ReasonOversized)
			return
		}
		s.stats.rejections[reasonMalformed].Add(1)
		s.log.Debug("request refused", "path", r.URL.Path, "err", err)
		httpError(w, http.StatusBadRequest, ReasonUnreadable)
		return
	}
	m, err := protocol.DecodeMessage(body)
	if err != nil {
		s.stats.rejections[reasonMalformed].Add(1)
		s.log.Debug("request refused", "path", r.URL.Path, "err", err)
		httpError(w, http.StatusBadRequest, badFrameReason(err))
		return
	}
	if m.Kind != want {
		s.stats.rejections[reasonMalformed].Add(1)
		httpError(w, http.StatusBadRequest, wrongKindReason(want))
		return
	}
	id, err := parseID(r.Header.Get(HeaderMessageID))
	if err != nil {
		s.stats.rejections[reasonMalformed].Add(1)
		httpError(w, http.StatusBadRequest, ReasonMessageID)
		return
	}
	out, err := s.Handle(r.Context(), m, id)
	switch {
	case errors.Is(err, ErrNotPushed) && refusedForDevice(err):
		w.WriteHeader(http.StatusAccepted)
	case errors.Is(err, ErrNotPushed):
		httpError(w, http.StatusBadGateway, ReasonNotPushed)
	case err != nil:
		httpError(w, http.StatusInternalServerError, ReasonStoreFailed)
	case errors.Is(out.Err, protocol.ErrSessionCap):
		w.Header().Set("Retry-After", "1")
		httpError(w, http.StatusTooManyRequests, ReasonSessionCap)
	case out.Err != nil:
		// The verdict (no session, wrong Ts, expired, duplicate...) would
		// tell anyone whether the RegID has a session: it is counted and
		// logged, and the client gets one reason for all.
		s.log.Debug("message refused", "regid", uint64(m.RegID), "kind", m.Kind.String(), "verdict", out.Err)
		httpError(w, http.StatusConflict, ReasonRefused)
	default:
		w.WriteHeader(http.StatusAccepted)
	}
}

// The bodies of the server's error answers: stable and short, so that
// clients may match them and learn nothing of the service's insides, nor
// of its sessions.
const (
	ReasonNoRoute     = "no such path; want POST " + PathHello + " or " + PathConfirm1
	ReasonMethod      = "method not allowed; want POST"
	ReasonOversized   = "body longer than 1060 bytes (protocol.MaxFrame)"
	ReasonUnreadable  = "body could not be read"
	ReasonMessageID   = "bad " + HeaderMessageID + " header; want a decimal uint64"
	ReasonRefused     = "message refused; the client's retransmission timer is the recovery"
	ReasonSessionCap  = "half-open session cap reached; retry later"
	ReasonStoreFailed = "session store unavailable; nothing changed"
	ReasonNotPushed   = "step stored, answer not pushed; retransmit"
)

// frameErrors are the codec's sentinels a 400 may name: what was wrong
// with the bytes the client sent, without the field and offset (logged).
var frameErrors = []error{protocol.ErrVersion, protocol.ErrUnknownKind, protocol.ErrTruncated, protocol.ErrOversized,
	protocol.ErrMalformedToken, protocol.ErrTrailing, protocol.ErrChecksum, protocol.ErrPayload}

// badFrameReason is the 400 body for a frame that does not decode.
func badFrameReason(err error) string {
	for _, sentinel := range frameErrors {
		if errors.Is(err, sentinel) {
			return "bad frame: " + strings.TrimPrefix(sentinel.Error(), "protocol: ")
		}
	}
	return "bad frame"
}

// wrongKindReason is the 400 body for a frame of the other kind than the
// path's.
func wrongKindReason(want protocol.Kind) string {
	path := PathHello
	if want == protocol.Confirm1 {
		path = PathConfirm1
	}
	return fmt.Sprintf("frame of the wrong kind: %s takes a %v", path, want)
}

// refusedForDevice reports a push the platform refused because of the
// destination: an unregistered token (404) or a device whose queue is full
// (429). Telling a client so would tell it whether the RegID is registered.
func refusedForDevice(err error) bool {
	pe, ok := errors.AsType[*PushError](err)
	return ok && (pe.StatusCode == http.StatusNotFound || pe.StatusCode == http.StatusTooManyRequests)
}

// httpError answers code with reason, one line of plain text.
func httpError(w http.ResponseWriter, code int, reason string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_, _ = io.WriteString(w, reason+"\n")
}
