package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
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
	// Log receives errors that have no caller to return to (a failed save
	// or push on a timer); nil discards them.
	Log *log.Logger
}

// lockStripes is the number of mutexes RegIDs hash onto. A striped lock is
// per-RegID exclusion without a map entry per RegID; two RegIDs sharing a
// stripe only wait on each other.
const lockStripes = 4096

// Server is the server side of the handshake over HTTP: it decodes upstream
// frames, runs each RegID's protocol.Slot under that RegID's lock, stores
// the slot before answering, and pushes the answer. It implements
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
	log     *log.Logger

	locks    [lockStripes]sync.Mutex
	halfOpen atomic.Int64
	cap      int64
	timers   *scheduler

	// traceMu orders the half-open count's changes and the trace's lines
	// alike, so that replaying a trace in line order never sees more
	// half-open sessions than the server had; held only when tracing.
	traceMu sync.Mutex

	closeOnce sync.Once
	stats     serverStats
}

type serverStats struct {
	accepted, rejected, pushFailed, expired atomic.Uint64
}

// ServerStats counts what a server has done since it started.
type ServerStats struct {
	// Accepted and Rejected count upstream messages the machine took or
	// turned down; requests refused before decoding are in neither.
	Accepted, Rejected uint64
	// PushFailed counts answers stored but not accepted by the push path.
	PushFailed uint64
	// Expired counts timer firings that ended a session.
	Expired uint64
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
		h:       cfg.Handshake,
		store:   cfg.Store,
		pusher:  cfg.Pusher,
		tokens:  cfg.Tokens,
		clock:   cfg.Now,
		tracer:  cfg.Tracer,
		timeout: cfg.PushTimeout,
		log:     cfg.Log,
		cap:     int64(cfg.Handshake.Profile().HalfOpenCap),
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
	var deadlines []timerEntry
	var half int64
	if err := s.store.Range(func(sl protocol.Slot) bool {
		if sl.HalfOpen() {
			half++
		}
		deadlines = append(deadlines, timerEntry{sl.Deadline(), sl.RegID})
		return true
	}); err != nil {
		return nil, fmt.Errorf("transport: loading sessions: %w", err)
	}
	// A store written under a larger cap may hold more; new Hellos then
	// wait until enough expire, and the bound holds again from there.
	s.halfOpen.Store(half)
	s.timers = newScheduler(s.now, s.expire)
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
		Accepted:   s.stats.accepted.Load(),
		Rejected:   s.stats.rejected.Load(),
		PushFailed: s.stats.pushFailed.Load(),
		Expired:    s.stats.expired.Load(),
		HalfOpen:   s.HalfOpen(),
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

func (s *Server) lock(id protocol.RegID) *sync.Mutex {
	return &s.locks[(uint64(id)*0x9e3779b97f4a7c15)>>52] // top 12 bits: 4096 stripes
}

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

// commit stores sl if it differs from old, settles the half-open count
// and traces the steps that led from old to sl: the count moves by the slot's change of half-openness, and
// a reservation the slot did not use is given back. On a failed save
// nothing changed and nothing is traced.
func (s *Server) commit(old, sl protocol.Slot, reserved bool, steps ...Step) error {
	if sl != old {
		if err := s.store.Save(sl); err != nil {
			if reserved {
				s.halfOpen.Add(-1)
			}
			return err
		}
	}
	// The slot's old session was counted, and so was the reservation; the
	// slot's new state is counted instead. (A reserving slot may have been
	// half-open too, until the lazy expiry at the start of the step.)
	delta := int64(0)
	if reserved {
		delta--
	}
	if old.HalfOpen() {
		delta--
	}
	if sl.HalfOpen() {
		delta++
	}
	if s.tracer == nil {
		s.halfOpen.Add(delta)
		return nil
	}
	s.traceMu.Lock()
	s.halfOpen.Add(delta)
	for _, st := range steps {
		s.tracer.Step(st)
	}
	s.traceMu.Unlock()
	return nil
}

// Handle runs one upstream message through its RegID's slot: it loads the
// slot, applies any expiry that is due, lets the machine decide, stores the
// result and then pushes the answer, so that no answer ever goes out for a
// step that is not stored. id is the sender's trace id for m ("" if none).
//
// The returned Output carries the machine's verdict (Output.Err for a
// rejected message). The error is for the service: the store failed (the
// step did not happen) or the push failed (the step is stored; the
// client's retransmission will fetch the answer again).
func (s *Server) Handle(ctx context.Context, m protocol.Message, id uint64) (protocol.Output, error) {
	if !m.Kind.Upstream() {
		return protocol.Output{Deadline: protocol.Never, Err: protocol.ErrWrongRole}, nil
	}
	mu := s.lock(m.RegID)
	mu.Lock()
	old, found, err := s.store.Load(m.RegID)
	if err != nil {
		mu.Unlock()
		return protocol.Output{}, err
	}
	now := s.now()
	if !found {
		old = protocol.Slot{RegID: m.RegID}
	}
	sl := old
	var steps []Step
	if found && m.Kind == protocol.Hello && sl.Expire(s.h, now).Err == nil {
		// Expiry first, so that a pending session whose lifetime is over
		// frees its place under the cap before the Hello asks for one. It
		// is a step of its own (the slot's timer, run early), so that the
		// trace stays a sequence of the model's steps.
		steps = append(steps, Step{Role: protocol.RoleServer, RegID: m.RegID, Time: now, Input: InputExpire, State: uint8(sl.State)})
	}
	env := protocol.SlotEnv{}
	reserved := false
	if m.Kind == protocol.Hello && !sl.HalfOpen() {
		reserved = s.reserve()
		env.Admit = reserved
	}
	out := sl.Handle(s.h, now, m, s.tokens, env)
	p := Push{Message: out.Send}
	if out.Send.Kind != 0 {
		p.ID = newMessageID()
	}
	steps = append(steps, Step{Role: protocol.RoleServer, RegID: m.RegID, Time: now, Input: InputRecv, State: uint8(sl.State),
		Recv: m, RecvID: id, Send: out.Send, SendID: p.ID, Claims: out.ClaimList(), Err: out.Err})
	if err := s.commit(old, sl, reserved, steps...); err != nil {
		mu.Unlock()
		return protocol.Output{}, err
	}
	s.timers.arm(sl.RegID, sl.Deadline())
	if out.Err != nil {
		s.stats.rejected.Add(1)
	} else {
		s.stats.accepted.Add(1)
	}
	mu.Unlock()
	return out, s.push(ctx, p)
}

// Issue sends a command to id under its verified session: the slot's
// sequence number is stored before the command is pushed. It returns the
// command sent; a slot without a verified session gives an error wrapping
// protocol.ErrNotVerified.
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
		return protocol.Message{}, err
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
	if err := s.commit(old, sl, false, st); err != nil {
		mu.Unlock()
		return protocol.Message{}, err
	}
	s.timers.arm(id, sl.Deadline())
	mu.Unlock()
	if out.Err != nil {
		return protocol.Message{}, fmt.Errorf("issue to %d: %w", id, out.Err)
	}
	return out.Send, s.push(ctx, p)
}

// expire is the timer's callback for id.
func (s *Server) expire(id protocol.RegID) {
	mu := s.lock(id)
	mu.Lock()
	defer mu.Unlock()
	old, found, err := s.store.Load(id)
	if err != nil {
		s.logf("expire %d: %v", id, err)
		return
	}
	if !found {
		return
	}
	now := s.now()
	sl := old
	out := sl.Expire(s.h, now)
	var steps []Step
	if out.Err == nil {
		// A timer that found nothing due changed nothing: no step.
		steps = append(steps, Step{Role: protocol.RoleServer, RegID: id, Time: now, Input: InputExpire, State: uint8(sl.State)})
	}
	if err := s.commit(old, sl, false, steps...); err != nil {
		// Lazy expiry in Handle still holds the line; retry soon.
		s.logf("expire %d: %v", id, err)
		s.timers.arm(id, protocol.Time(s.clock().Add(time.Second).UnixNano()))
		return
	}
	s.timers.arm(id, sl.Deadline())
	if out.Err == nil {
		s.stats.expired.Add(1)
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
		return fmt.Errorf("%w: %w", ErrNotPushed, err)
	}
	return nil
}

func (s *Server) logf(format string, args ...any) {
	if s.log != nil {
		s.log.Printf(format, args...)
	}
}

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
//	409 the machine rejected the message (the reason is the body)
//	413 a body longer than protocol.MaxFrame
//	429 the half-open cap is reached
//	500 the store failed; nothing changed
//	502 the step is stored but its answer could not be pushed
//
// Nothing is loaded or stored for a request refused with 400, 404, 405 or
// 413. Error bodies are one line of text.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var want protocol.Kind
	switch r.URL.Path {
	case PathHello:
		want = protocol.Hello
	case PathConfirm1:
		want = protocol.Confirm1
	default:
		httpError(w, http.StatusNotFound, "no such path %q (want %s or %s)", r.URL.Path, PathHello, PathConfirm1)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		httpError(w, http.StatusMethodNotAllowed, "method %s not allowed on %s (want POST)", r.Method, r.URL.Path)
		return
	}
	if r.ContentLength > protocol.MaxFrame {
		httpError(w, http.StatusRequestEntityTooLarge, "body of %d bytes, at most %d", r.ContentLength, protocol.MaxFrame)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, protocol.MaxFrame))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			httpError(w, http.StatusRequestEntityTooLarge, "body longer than %d bytes", protocol.MaxFrame)
			return
		}
		httpError(w, http.StatusBadRequest, "reading body: %v", err)
		return
	}
	m, err := protocol.DecodeMessage(body)
	if err != nil {
		httpError(w, http.StatusBadRequest, "bad frame: %v", err)
		return
	}
	if m.Kind != want {
		httpError(w, http.StatusBadRequest, "frame is a %v, %s takes a %v", m.Kind, r.URL.Path, want)
		return
	}
	id, err := parseID(r.Header.Get(HeaderMessageID))
	if err != nil {
		httpError(w, http.StatusBadRequest, "header %s: %v", HeaderMessageID, err)
		return
	}
	out, err := s.Handle(r.Context(), m, id)
	switch {
	case errors.Is(err, ErrNotPushed):
		httpError(w, http.StatusBadGateway, "%v", err)
	case err != nil:
		httpError(w, http.StatusInternalServerError, "%v", err)
	case errors.Is(out.Err, protocol.ErrSessionCap):
		w.Header().Set("Retry-After", "1")
		httpError(w, http.StatusTooManyRequests, "%v", out.Err)
	case out.Err != nil:
		httpError(w, http.StatusConflict, "%v: %v", m.Kind, out.Err)
	default:
		w.WriteHeader(http.StatusAccepted)
	}
}

func httpError(w http.ResponseWriter, code int, format string, args ...any) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	fmt.Fprintf(w, format+"\n", args...)
}
