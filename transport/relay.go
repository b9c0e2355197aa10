package transport

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	randv2 "math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/verishake/verishake/protocol"
)

// Faults is the push platform's misbehaviour as the relay plays it: the
// simulator's lossy channel on real sockets.
type Faults struct {
	// Loss is the probability that an accepted message is never delivered.
	Loss float64
	// Dup is the probability that a delivered message is delivered twice.
	Dup float64
	// DelayMin and DelayMax bound a uniform random delay before each copy
	// becomes deliverable; different delays reorder messages.
	DelayMin, DelayMax time.Duration
}

// Validate reports a fault model out of range, naming the field.
func (f Faults) Validate() error {
	var errs []error
	if !(f.Loss >= 0 && f.Loss <= 1) {
		errs = append(errs, fmt.Errorf("loss %v not in [0,1]", f.Loss))
	}
	if !(f.Dup >= 0 && f.Dup <= 1) {
		errs = append(errs, fmt.Errorf("dup %v not in [0,1]", f.Dup))
	}
	if f.DelayMin < 0 || f.DelayMax < f.DelayMin {
		errs = append(errs, fmt.Errorf("delay %v..%v: want 0 <= min <= max", f.DelayMin, f.DelayMax))
	}
	return errors.Join(errs...)
}

// RelayConfig configures a Relay.
type RelayConfig struct {
	// Bearer is the token senders present, as "Authorization: Bearer
	// {Bearer}", to messages:send and to GET /relay/v1/stats. Required.
	Bearer string
	// RegisterToken is the token a device presents, as "Authorization:
	// Bearer {RegisterToken}", to register. Required; Register, for
	// in-process use, needs none.
	RegisterToken string
	// Faults is the fault model; the zero value delivers everything once,
	// in order, at once.
	Faults Faults
	// QueueCap bounds each device's undelivered messages. A send to a
	// device whose queue is full is refused as FCM refuses a target over
	// its quota (429 RESOURCE_EXHAUSTED, QUOTA_EXCEEDED) and queues
	// nothing, so that every acknowledged message is queued. Zero means
	// 100, FCM's documented limit of pending non-collapsible messages per
	// device.
	QueueCap int
	// TTL is how long a message is held for a device that does not poll,
	// when the request sets no android.ttl. Zero means 28 days, FCM's default.
	TTL time.Duration
	// MaxPollWait bounds the wait a device may ask for; zero means 30 s.
	MaxPollWait time.Duration
	// Seed seeds the fault model's randomness; zero draws a random seed.
	Seed uint64
	// Tap, if set, is called with every accepted messages:send request's
	// target and data, before faults apply. It is how a test's eavesdropper
	// captures every push; it must not block.
	Tap func(token string, data map[string]string)
}

// Relay is a local push platform: it serves FCM's HTTP v1 messages:send on
// the same path, registers devices, and delivers each device's queue to it
// by long-poll, with a switchable fault model. It implements http.Handler:
//
//	POST /v1/projects/{project}/messages:send   FCM-shaped push, Authorization: Bearer {Bearer}
//	POST /relay/v1/devices                      register, Authorization: Bearer {RegisterToken}: {"regid", "secret"}
//	GET  /relay/v1/devices/{regid}/messages     long-poll, Authorization: Bearer {secret}
//	GET  /relay/v1/stats                        counters, JSON, Authorization: Bearer {Bearer}
//
// Every endpoint authenticates, with the scheme spelt exactly "Bearer " and
// tokens compared in constant time; a missing or wrong one is 401. A device
// reads only its own queue: polling needs the secret handed out at
// registration. Input is strict: a message.token or a {regid} is a RegID in
// canonical decimal (1 to 18446744073709551615, no sign, no leading zero,
// no spaces), else 400 INVALID_ARGUMENT; an android.ttl is FCM's duration,
// digits with at most nine decimals and an "s", more than 0s and at most
// 2419200s (28 days), else 400 INVALID_ARGUMENT.
type Relay struct {
	cfg  RelayConfig
	mux  *http.ServeMux
	done chan struct{}
	once sync.Once

	mu      sync.Mutex
	devices map[protocol.RegID]*relayDevice
	nextID  protocol.RegID
	rng     *randv2.Rand
	seq     uint64

	stats relayStats
}

type relayDevice struct {
	secret  string
	queue   []queued
	changed chan struct{} // closed and replaced when the queue grows
}

type queued struct {
	deliverAt, expireAt time.Time
	seq                 uint64 // arrival order, to break delay ties
	data                map[string]string
}

type relayStats struct {
	accepted, lost, duplicated, delivered, expired, overflowed, refused atomic.Uint64
}

// RelayStats counts what the relay did with the messages it was sent.
type RelayStats struct {
	Devices    int    `json:"devices"`
	Accepted   uint64 `json:"accepted"`   // messages:send requests answered 200
	Lost       uint64 `json:"lost"`       // dropped by the loss fault
	Duplicated uint64 `json:"duplicated"` // second copies made by the dup fault
	Delivered  uint64 `json:"delivered"`  // copies handed to a device
	Expired    uint64 `json:"expired"`    // dropped at their TTL
	Overflowed uint64 `json:"overflowed"` // sends refused at the queue cap (429), and second copies of the dup fault that did not fit
	Queued     int    `json:"queued"`     // messages waiting in all devices' queues
	Refused    uint64 `json:"refused"`    // requests answered with an error
}

// maxSendBody bounds a messages:send body: a frame in base64 plus FCM's
// envelope and room for fields the relay ignores.
const maxSendBody = 16 << 10

// maxPollBatch bounds the messages one poll returns.
const maxPollBatch = 100

// NewRelay returns a relay with no devices.
func NewRelay(cfg RelayConfig) (*Relay, error) {
	if err := cfg.Faults.Validate(); err != nil {
		return nil, fmt.Errorf("relay: %w", err)
	}
	if cfg.Bearer == "" {
		return nil, errors.New("relay: RelayConfig.Bearer is empty: senders must authenticate")
	}
	if cfg.RegisterToken == "" {
		return nil, errors.New("relay: RelayConfig.RegisterToken is empty: devices must authenticate to register")
	}
	if cfg.QueueCap < 0 || cfg.TTL < 0 || cfg.MaxPollWait < 0 {
		return nil, fmt.Errorf("relay: negative QueueCap, TTL or MaxPollWait")
	}
	if cfg.QueueCap == 0 {
		cfg.QueueCap = 100
	}
	if cfg.TTL == 0 {
		cfg.TTL = 28 * 24 * time.Hour
	}
	if cfg.MaxPollWait == 0 {
		cfg.MaxPollWait = 30 * time.Second
	}
	seed := cfg.Seed
	if seed == 0 {
		seed = randv2.Uint64()
	}
	r := &Relay{
		cfg:     cfg,
		done:    make(chan struct{}),
		devices: map[protocol.RegID]*relayDevice{},
		nextID:  1,
		rng:     randv2.New(randv2.NewPCG(seed, seed^0x6a09e667f3bcc909)),
	}
	r.mux = http.NewServeMux()
	r.mux.HandleFunc("POST /v1/projects/{project}/messages:send", r.send)
	r.mux.HandleFunc("POST /relay/v1/devices", r.register)
	r.mux.HandleFunc("GET /relay/v1/devices/{regid}/messages", r.poll)
	r.mux.HandleFunc("GET /relay/v1/stats", r.statsHandler)
	return r, nil
}

// ServeHTTP serves the relay's endpoints.
func (r *Relay) ServeHTTP(w http.ResponseWriter, req *http.Request) { r.mux.ServeHTTP(w, req) }

// Close ends every long-poll in progress and makes new ones return at once,
// so that an http.Server serving the relay can shut down without waiting
// for them. Register it with http.Server.RegisterOnShutdown.
func (r *Relay) Close() { r.once.Do(func() { close(r.done) }) }

// Stats returns the relay's counters.
func (r *Relay) Stats() RelayStats {
	r.mu.Lock()
	n, queued := len(r.devices), 0
	for _, d := range r.devices {
		queued += len(d.queue)
	}
	r.mu.Unlock()
	return RelayStats{
		Devices:    n,
		Queued:     queued,
		Accepted:   r.stats.accepted.Load(),
		Lost:       r.stats.lost.Load(),
		Duplicated: r.stats.duplicated.Load(),
		Delivered:  r.stats.delivered.Load(),
		Expired:    r.stats.expired.Load(),
		Overflowed: r.stats.overflowed.Load(),
		Refused:    r.stats.refused.Load(),
	}
}

// Register adds a device and returns its RegID and secret, as POST
// /relay/v1/devices does; for in-process use.
func (r *Relay) Register() (protocol.RegID, string) {
	var b [16]byte
	_, _ = rand.Read(b[:])
	secret := hex.EncodeToString(b[:])
	r.mu.Lock()
	defer r.mu.Unlock()
	id := r.nextID
	r.nextID++
	r.devices[id] = &relayDevice{secret: secret, changed: make(chan struct{})}
	return id, secret
}

// fcmFail writes an error in FCM's shape. message is a fixed reason: no
// answer echoes what the request carried.
func (r *Relay) fcmFail(w http.ResponseWriter, code int, status, message string) {
	r.stats.refused.Add(1)
	var e fcmError
	e.Error.Code, e.Error.Status, e.Error.Message = code, status, message
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(e)
}

// bearerIs reports whether req carries "Authorization: Bearer {want}".
func bearerIs(req *http.Request, want string) bool {
	got, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer ")
	return ok && want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// parseRegID reads a RegID in canonical decimal: what strconv.FormatUint
// writes, and nothing else, so that one device has one name.
func parseRegID(s string) (protocol.RegID, bool) {
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n == 0 || strconv.FormatUint(n, 10) != s {
		return 0, false
	}
	return protocol.RegID(n), true
}

func (r *Relay) send(w http.ResponseWriter, req *http.Request) {
	if !bearerIs(req, r.cfg.Bearer) {
		r.fcmFail(w, http.StatusUnauthorized, "UNAUTHENTICATED", relayReasonBearer)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, maxSendBody))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			r.fcmFail(w, http.StatusRequestEntityTooLarge, "INVALID_ARGUMENT", relayReasonOversized)
			return
		}
		r.fcmFail(w, http.StatusBadRequest, "INVALID_ARGUMENT", relayReasonUnreadable)
		return
	}
	var msg fcmRequest
	if err := json.Unmarshal(body, &msg); err != nil {
		r.fcmFail(w, http.StatusBadRequest, "INVALID_ARGUMENT", relayReasonNotFCM)
		return
	}
	if msg.Message.Token == "" {
		r.fcmFail(w, http.StatusBadRequest, "INVALID_ARGUMENT", relayReasonNoToken)
		return
	}
	ttl := r.cfg.TTL
	if msg.Message.Android != nil && msg.Message.Android.TTL != "" {
		if ttl, err = parseTTL(msg.Message.Android.TTL); err != nil {
			r.fcmFail(w, http.StatusBadRequest, "INVALID_ARGUMENT", relayReasonTTL)
			return
		}
	}
	n, ok := parseRegID(msg.Message.Token)
	if !ok {
		r.fcmFail(w, http.StatusBadRequest, "INVALID_ARGUMENT", relayReasonBadToken)
		return
	}
	r.mu.Lock()
	dev := r.devices[n]
	r.mu.Unlock()
	if dev == nil {
		r.fcmFail(w, http.StatusNotFound, "NOT_FOUND", relayReasonNotFound)
		return
	}
	// The relay carries data opaquely, as FCM does: the device decides
	// what a payload means, and garbage is its to reject.
	if r.cfg.Tap != nil {
		r.cfg.Tap(msg.Message.Token, msg.Message.Data)
	}
	if !r.enqueue(dev, msg.Message.Data, ttl) {
		r.stats.overflowed.Add(1)
		r.fcmFail(w, http.StatusTooManyRequests, "RESOURCE_EXHAUSTED", relayReasonQuota)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, "{\"name\":\"projects/%s/messages/%d\"}\n", req.PathValue("project"), r.stats.accepted.Add(1))
}

// enqueue applies the fault model and queues the copies that survive it;
// it reports false, queueing nothing, when dev's queue is full. The loss
// fault is the platform losing an accepted message, so it applies after.
func (r *Relay) enqueue(dev *relayDevice, data map[string]string, ttl time.Duration) bool {
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.dropExpired(dev, now)
	if len(dev.queue) >= r.cfg.QueueCap {
		return false
	}
	f := r.cfg.Faults
	if r.rng.Float64() < f.Loss {
		r.stats.lost.Add(1)
		return true
	}
	copies := 1
	if r.rng.Float64() < f.Dup {
		copies = 2
		r.stats.duplicated.Add(1)
	}
	for range copies {
		delay := f.DelayMin
		if f.DelayMax > f.DelayMin {
			delay += time.Duration(r.rng.Int64N(int64(f.DelayMax - f.DelayMin + 1)))
		}
		r.seq++
		if len(dev.queue) >= r.cfg.QueueCap {
			// Only the dup fault's second copy can get here.
			r.stats.overflowed.Add(1)
			break
		}
		dev.queue = append(dev.queue, queued{deliverAt: now.Add(delay), expireAt: now.Add(ttl), seq: r.seq, data: data})
	}
	close(dev.changed)
	dev.changed = make(chan struct{})
	return true
}

// dropExpired removes dev's messages whose TTL is over, so that they do not
// hold places in its queue. Called with r.mu held.
func (r *Relay) dropExpired(dev *relayDevice, now time.Time) {
	keep := dev.queue[:0]
	for _, q := range dev.queue {
		if now.Before(q.expireAt) {
			keep = append(keep, q)
		} else {
			r.stats.expired.Add(1)
		}
	}
	clear(dev.queue[len(keep):])
	dev.queue = keep
}

type registerResponse struct {
	RegID  string `json:"regid"`
	Secret string `json:"secret"`
}

func (r *Relay) register(w http.ResponseWriter, req *http.Request) {
	if !bearerIs(req, r.cfg.RegisterToken) {
		r.stats.refused.Add(1)
		relayFail(w, http.StatusUnauthorized, relayReasonRegister)
		return
	}
	id, secret := r.Register()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(registerResponse{RegID: strconv.FormatUint(uint64(id), 10), Secret: secret})
}

// pollResponse is a long-poll's answer: the data maps delivered, oldest
// first by delivery time.
type pollResponse struct {
	Messages []pollMessage `json:"messages"`
}

type pollMessage struct {
	Data map[string]string `json:"data"`
}

func (r *Relay) poll(w http.ResponseWriter, req *http.Request) {
	n, ok := parseRegID(req.PathValue("regid"))
	if !ok {
		relayFail(w, http.StatusBadRequest, relayReasonBadRegID)
		return
	}
	wait := time.Duration(0)
	var err error
	if s := req.URL.Query().Get("wait"); s != "" {
		if wait, err = time.ParseDuration(s); err != nil || wait < 0 {
			relayFail(w, http.StatusBadRequest, relayReasonWait)
			return
		}
	}
	wait = min(wait, r.cfg.MaxPollWait)
	r.mu.Lock()
	dev := r.devices[n]
	r.mu.Unlock()
	if dev == nil || !bearerIs(req, dev.secret) {
		// One answer for both, so a poll does not reveal which RegIDs exist.
		relayFail(w, http.StatusUnauthorized, relayReasonDevice)
		return
	}
	timeout := time.NewTimer(wait)
	defer timeout.Stop()
	next := time.NewTimer(time.Hour)
	defer next.Stop()
	for {
		out, changed, nextAt := r.take(dev)
		if len(out) > 0 {
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(pollResponse{Messages: out})
			return
		}
		if !nextAt.IsZero() {
			next.Reset(time.Until(nextAt))
		}
		select {
		case <-changed:
		case <-next.C:
		case <-timeout.C:
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(pollResponse{Messages: []pollMessage{}})
			return
		case <-req.Context().Done():
			return
		case <-r.done:
			relayFail(w, http.StatusServiceUnavailable, relayReasonClosing)
			return
		}
	}
}

// take removes and returns dev's deliverable messages, dropping expired
// ones; it also returns the channel closed on the next enqueue and when the
// earliest delayed message becomes deliverable (zero if none waits).
func (r *Relay) take(dev *relayDevice) (out []pollMessage, changed <-chan struct{}, nextAt time.Time) {
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	keep := dev.queue[:0]
	var due []queued
	for _, q := range dev.queue {
		switch {
		case !now.Before(q.expireAt):
			r.stats.expired.Add(1)
		case !q.deliverAt.After(now) && len(due) < maxPollBatch:
			due = append(due, q)
		default:
			keep = append(keep, q)
			if nextAt.IsZero() || q.deliverAt.Before(nextAt) {
				nextAt = q.deliverAt
			}
		}
	}
	clear(dev.queue[len(keep):])
	dev.queue = keep
	// Deliver in delivery-time order: that, not arrival, is the reordering.
	sortQueued(due)
	for _, q := range due {
		out = append(out, pollMessage{Data: q.data})
	}
	r.stats.delivered.Add(uint64(len(due)))
	return out, dev.changed, nextAt
}

func sortQueued(q []queued) {
	for i := 1; i < len(q); i++ {
		for j := i; j > 0 && (q[j].deliverAt.Before(q[j-1].deliverAt) ||
			q[j].deliverAt.Equal(q[j-1].deliverAt) && q[j].seq < q[j-1].seq); j-- {
			q[j], q[j-1] = q[j-1], q[j]
		}
	}
}

func (r *Relay) statsHandler(w http.ResponseWriter, req *http.Request) {
	if !bearerIs(req, r.cfg.Bearer) {
		relayFail(w, http.StatusUnauthorized, relayReasonBearer)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(r.Stats())
}

func relayFail(w http.ResponseWriter, code int, reason string) { httpError(w, code, reason) }

// The relay's error reasons: fixed, so that no answer echoes the request
// or says more than its status. Only an authenticated sender learns that
// a token is not registered (404, FCM's answer, which the server needs),
// and a poll for a RegID that does not exist gets the answer of a wrong
// secret.
const (
	relayReasonBearer     = "missing or wrong bearer token"
	relayReasonRegister   = "missing or wrong registration token"
	relayReasonDevice     = "unknown device or wrong secret"
	relayReasonOversized  = "body longer than 16384 bytes"
	relayReasonUnreadable = "body could not be read"
	relayReasonNotFCM     = "body is not an FCM messages:send request"
	relayReasonNoToken    = "message.token is missing"
	relayReasonBadToken   = "message.token is not a valid registration token (a RegID in canonical decimal)"
	relayReasonTTL        = "message.android.ttl is not a duration in seconds (e.g. \"3.5s\"), above 0s and at most 2419200s"
	relayReasonNotFound   = "Requested entity was not found."
	relayReasonQuota      = "Sending limit exceeded for the message target (QUOTA_EXCEEDED)"
	relayReasonBadRegID   = "regid is not a RegID in canonical decimal"
	relayReasonWait       = "wait is not a non-negative duration"
	relayReasonClosing    = "relay shutting down"
)
