package transport

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/verishake/verishake/protocol"
)

// DeviceConfig configures a Device.
type DeviceConfig struct {
	// Handshake is the compiled profile; it must be the server's. Required.
	Handshake *protocol.Handshake
	// RelayURL is the push relay's base URL, for registering and polling.
	RelayURL string
	// RegisterToken is the relay's registration token, sent by
	// RegisterDevice as "Authorization: Bearer {RegisterToken}".
	RegisterToken string
	// ServerURL is the server's base URL, for Hello and Confirm1.
	ServerURL string
	// HTTPClient sends every request; nil uses a client with a 10 s
	// timeout on upstream sends (polls wait longer by design).
	HTTPClient *http.Client
	// Tokens makes client tokens; nil uses protocol.CryptoTokens. It is
	// called under the device's lock.
	Tokens protocol.TokenSource
	// OnCommand receives each command the client machine executed: one
	// under the verified session's Ts, numbered above the last one when
	// the profile numbers commands. It runs on the device's goroutine.
	OnCommand func(protocol.Message)
	// Tracer, if set, observes every step of the client machine.
	Tracer Tracer
	// Now is the clock; nil uses time.Now.
	Now func() time.Time
	// PollWait is how long one long-poll may wait; zero means 20 s.
	PollWait time.Duration
	// Log receives a structured record of each error that has no caller
	// (a failed send or poll, a push that does not decode); nil discards
	// them.
	Log *slog.Logger
}

// Device is the client side of the handshake on a device: it polls its
// queue at the push relay, runs protocol.Client, sends Hello and Confirm1
// upstream, retransmits by the profile's rules on a real-clock timer and
// hands executed commands to OnCommand.
//
// Create it with RegisterDevice (or NewDevice for a device registered
// before), call Run in a goroutine, then Handshake.
type Device struct {
	cfg    DeviceConfig
	h      *protocol.Handshake
	secret string
	clock  func() time.Time
	client *http.Client

	mu      sync.Mutex
	c       protocol.Client
	changed chan struct{} // closed and replaced on every accepted step
	kick    chan struct{} // tells Run that the deadline moved

	dropped atomic.Uint64
}

// RegisterDevice registers a new device with the relay at cfg.RelayURL and
// returns it, not yet running.
func RegisterDevice(ctx context.Context, cfg DeviceConfig) (*Device, error) {
	hc := cfg.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(cfg.RelayURL, "/")+"/relay/v1/devices", nil)
	if err != nil {
		return nil, fmt.Errorf("register with relay %s: %w", cfg.RelayURL, err)
	}
	req.Header.Set("Authorization", "Bearer "+cfg.RegisterToken)
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("register with relay %s: %w", cfg.RelayURL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("register with relay %s: HTTP %d: %s", cfg.RelayURL, resp.StatusCode, bytes.TrimSpace(body))
	}
	var rr registerResponse
	if err := json.Unmarshal(body, &rr); err != nil {
		return nil, fmt.Errorf("register with relay %s: bad answer: %w", cfg.RelayURL, err)
	}
	id, err := strconv.ParseUint(rr.RegID, 10, 64)
	if err != nil || rr.Secret == "" {
		return nil, fmt.Errorf("register with relay %s: bad answer %q", cfg.RelayURL, body)
	}
	return NewDevice(cfg, protocol.RegID(id), rr.Secret)
}

// NewDevice returns a device already registered as id with secret.
func NewDevice(cfg DeviceConfig, id protocol.RegID, secret string) (*Device, error) {
	if cfg.Handshake == nil {
		return nil, errors.New("transport: DeviceConfig.Handshake is nil")
	}
	if cfg.RelayURL == "" || cfg.ServerURL == "" {
		return nil, errors.New("transport: DeviceConfig needs RelayURL and ServerURL")
	}
	d := &Device{
		cfg:     cfg,
		h:       cfg.Handshake,
		secret:  secret,
		clock:   cfg.Now,
		client:  cfg.HTTPClient,
		c:       protocol.NewClient(id),
		changed: make(chan struct{}),
		kick:    make(chan struct{}, 1),
	}
	if d.clock == nil {
		d.clock = time.Now
	}
	if d.client == nil {
		d.client = &http.Client{}
	}
	if d.cfg.Tokens == nil {
		d.cfg.Tokens = protocol.CryptoTokens{}
	}
	if d.cfg.PollWait <= 0 {
		d.cfg.PollWait = 20 * time.Second
	}
	return d, nil
}

// RegID returns the device's RegID.
func (d *Device) RegID() protocol.RegID { return d.c.RegID }

// Client returns a copy of the client machine's state.
func (d *Device) Client() protocol.Client {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.c
}

// Dropped counts push messages the device could not decode.
func (d *Device) Dropped() uint64 { return d.dropped.Load() }

func (d *Device) now() protocol.Time { return protocol.Time(d.clock().UnixNano()) }

// step records an accepted or rejected step, giving the message it sends
// (if any) a fresh id, and wakes waiters; it returns the step recorded.
// Called with d.mu held, so steps are traced in the order the machine
// took them.
func (d *Device) step(st Step) Step {
	if st.Send.Kind != 0 {
		st.SendID = newMessageID()
	}
	st.State = uint8(d.c.State)
	if d.cfg.Tracer != nil {
		d.cfg.Tracer.Step(st)
	}
	if st.Err == nil {
		close(d.changed)
		d.changed = make(chan struct{})
	}
	return st
}

// sendStep sends what a recorded step sends, if anything. Called without
// d.mu: sending waits on the network.
func (d *Device) sendStep(ctx context.Context, st Step) {
	if st.Send.Kind != 0 {
		d.send(ctx, st.Send, st.SendID)
	}
}

// Start begins a handshake: the client machine makes a Hello, which is
// sent upstream before Start returns. A failed send is not an error: the
// retransmission timer covers it, as it covers loss.
func (d *Device) Start(ctx context.Context) error {
	d.mu.Lock()
	now := d.now()
	out := d.c.Start(d.h, now, d.cfg.Tokens)
	if out.Err != nil {
		state := d.c.State
		d.mu.Unlock()
		return fmt.Errorf("device %d: start in state %v: %w", d.c.RegID, state, out.Err)
	}
	st := d.step(Step{Role: protocol.RoleClient, RegID: d.c.RegID, Time: now, Input: InputStart, Send: out.Send})
	d.mu.Unlock()
	d.poke()
	d.sendStep(ctx, st)
	return nil
}

// Wait blocks until cond holds for the client machine's state, or ctx ends.
func (d *Device) Wait(ctx context.Context, cond func(protocol.Client) bool) (protocol.Client, error) {
	for {
		d.mu.Lock()
		c, ch := d.c, d.changed
		d.mu.Unlock()
		if cond(c) {
			return c, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return c, fmt.Errorf("device %d: waiting in state %v: %w", c.RegID, c.State, ctx.Err())
		}
	}
}

// Handshake starts a handshake and waits until it ends. It returns the
// final state: ClientVerified, or ClientFailed with an error. Run must be
// running.
func (d *Device) Handshake(ctx context.Context) (protocol.ClientState, error) {
	if err := d.Start(ctx); err != nil {
		return d.Client().State, err
	}
	c, err := d.Wait(ctx, func(c protocol.Client) bool {
		return c.State == protocol.ClientVerified || c.State == protocol.ClientFailed
	})
	if err != nil {
		return c.State, err
	}
	if c.State == protocol.ClientFailed {
		return c.State, fmt.Errorf("device %d: handshake failed: retries or lifetime used up", c.RegID)
	}
	return c.State, nil
}

func (d *Device) poke() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// Run polls the relay and runs the client's timer until ctx ends; it
// returns ctx's error, after its poller has stopped.
func (d *Device) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pushes := make(chan Push)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		d.pollLoop(ctx, pushes)
	}()
	defer wg.Wait()

	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		d.mu.Lock()
		deadline := d.c.Deadline
		d.mu.Unlock()
		if deadline == protocol.Never {
			timer.Stop()
		} else {
			timer.Reset(time.Duration(deadline - d.now()))
		}
		select {
		case p := <-pushes:
			d.receive(ctx, p)
		case <-timer.C:
			d.timeout(ctx)
		case <-d.kick:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (d *Device) receive(ctx context.Context, p Push) {
	d.mu.Lock()
	now := d.now()
	out := d.c.Handle(d.h, now, p.Message)
	st := d.step(Step{Role: protocol.RoleClient, RegID: d.c.RegID, Time: now, Input: InputRecv,
		Recv: p.Message, RecvID: p.ID, Send: out.Send, Claims: out.ClaimList(), Err: out.Err})
	d.mu.Unlock()
	d.sendStep(ctx, st)
	if out.Err == nil && p.Message.Kind == protocol.Command && d.cfg.OnCommand != nil {
		d.cfg.OnCommand(p.Message)
	}
}

func (d *Device) timeout(ctx context.Context) {
	d.mu.Lock()
	now := d.now()
	out := d.c.Timeout(d.h, now, d.cfg.Tokens)
	if out.Err != nil {
		// Early or stale: nothing happened, so there is no step to record.
		d.mu.Unlock()
		return
	}
	st := d.step(Step{Role: protocol.RoleClient, RegID: d.c.RegID, Time: now, Input: InputTimeout, Send: out.Send})
	d.mu.Unlock()
	d.sendStep(ctx, st)
}

// send posts an upstream message. Failures are logged, not returned: the
// client machine's retransmission is the recovery for every one of them.
func (d *Device) send(ctx context.Context, m protocol.Message, id uint64) {
	frame, err := protocol.EncodeMessage(m)
	if err != nil {
		d.warn("encode failed", "kind", m.Kind.String(), "err", err)
		return
	}
	path := PathHello
	if m.Kind == protocol.Confirm1 {
		path = PathConfirm1
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(d.cfg.ServerURL, "/")+path, bytes.NewReader(frame))
	if err != nil {
		d.warn("send failed", "kind", m.Kind.String(), "err", err)
		return
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set(HeaderMessageID, strconv.FormatUint(id, 10))
	resp, err := d.client.Do(req)
	if err != nil {
		d.warn("send failed", "kind", m.Kind.String(), "err", err)
		return
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		d.warn("send refused", "kind", m.Kind.String(), "status", resp.StatusCode, "body", string(bytes.TrimSpace(body)))
	}
}

// pollLoop long-polls the relay and hands each decoded push to Run.
func (d *Device) pollLoop(ctx context.Context, pushes chan<- Push) {
	u := fmt.Sprintf("%s/relay/v1/devices/%d/messages?wait=%s", strings.TrimSuffix(d.cfg.RelayURL, "/"), d.c.RegID, d.cfg.PollWait)
	backoff := 50 * time.Millisecond
	for ctx.Err() == nil {
		msgs, err := d.pollOnce(ctx, u)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			d.warn("poll failed", "err", err)
			select {
			case <-time.After(backoff):
			case <-ctx.Done():
				return
			}
			backoff = min(2*backoff, 2*time.Second)
			continue
		}
		backoff = 50 * time.Millisecond
		for _, pm := range msgs {
			p, err := DecodePushData(pm.Data)
			if err != nil {
				// Anyone can push to a RegID: garbage is dropped here,
				// before the machine, and never stops the device.
				d.dropped.Add(1)
				d.warn("push dropped", "err", err)
				continue
			}
			select {
			case pushes <- p:
			case <-ctx.Done():
				return
			}
		}
	}
}

func (d *Device) pollOnce(ctx context.Context, u string) ([]pollMessage, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+d.secret)
	resp, err := d.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxPollBatch*(maxSendBody+64)))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %d: %s", resp.StatusCode, bytes.TrimSpace(body))
	}
	var pr pollResponse
	if err := json.Unmarshal(body, &pr); err != nil {
		return nil, fmt.Errorf("bad poll answer: %w", err)
	}
	return pr.Messages, nil
}

func (d *Device) warn(msg string, args ...any) {
	if d.cfg.Log != nil {
		d.cfg.Log.Warn(msg, append([]any{"regid", uint64(d.c.RegID)}, args...)...)
	}
}
