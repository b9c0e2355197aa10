package transport

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verishake/verishake/protocol"
)

// fastHardened is the hardened profile with its timers divided by ten, so
// that a lossy run finishes in seconds; every check and knob is unchanged.
func fastHardened() protocol.Profile {
	p := protocol.Hardened()
	p.Name = "hardened-fast"
	p.Backoff = 100 * time.Millisecond
	p.Retries = 8
	p.Lifetime = 20 * time.Second
	return p
}

// swapHandler lets a test stop and restart the server behind one listener,
// as a service restarts behind its load balancer; while nothing is behind
// it, it answers 503.
type swapHandler struct{ h atomic.Pointer[http.Handler] }

func (s *swapHandler) set(h http.Handler) {
	if h == nil {
		s.h.Store(nil)
		return
	}
	s.h.Store(&h)
}

func (s *swapHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h := s.h.Load(); h != nil {
		(*h).ServeHTTP(w, r)
		return
	}
	httpError(w, http.StatusServiceUnavailable, "server restarting")
}

// captured is one upstream request as an eavesdropper on the wire saw it.
type captured struct {
	path, id string
	body     []byte
}

// world is a relay, a server and devices on loopback.
type world struct {
	t         testing.TB
	h         *protocol.Handshake
	relay     *Relay
	relayHTTP *httptest.Server
	front     swapHandler
	srvHTTP   *httptest.Server
	server    *Server
	store     Store
	storePath string
	transport *http.Transport
	client    *http.Client
	log       *claimLog
	executed  atomic.Int64

	capMu    sync.Mutex
	upstream []captured
	pushes   []map[string]string

	devices []*Device
	// With tracing on, the server (one file per start) and the devices
	// (one file for all) write the simulator's trace schema.
	trace        bool
	serverTraces []*bytes.Buffer
	serverTW     *TraceWriter
	deviceTrace  bytes.Buffer
	deviceTW     *TraceWriter
	cancel       context.CancelFunc
	wg           sync.WaitGroup
}

type worldConfig struct {
	profile protocol.Profile
	faults  Faults
	bolt    bool
	trace   bool
}

func newWorld(t testing.TB, wc worldConfig) *world {
	t.Helper()
	w := &world{t: t, h: wc.profile.MustCompile(), log: &claimLog{}, trace: wc.trace}
	if w.trace {
		tw, err := NewTraceWriter(&w.deviceTrace, wc.profile)
		require.NoError(t, err)
		w.deviceTW = tw
	}
	relay, err := NewRelay(RelayConfig{Faults: wc.faults, Seed: 1, Bearer: "relay-token", RegisterToken: "enrol-token", MaxPollWait: 5 * time.Second,
		Tap: func(_ string, data map[string]string) {
			w.capMu.Lock()
			w.pushes = append(w.pushes, data)
			w.capMu.Unlock()
		}})
	require.NoError(t, err)
	w.relay = relay
	w.relayHTTP = httptest.NewUnstartedServer(relay)
	w.relayHTTP.Config.RegisterOnShutdown(relay.Close)
	w.relayHTTP.Start()
	w.transport = &http.Transport{MaxIdleConnsPerHost: 1024, MaxIdleConns: 2048}
	w.client = &http.Client{Transport: w.transport}
	if wc.bolt {
		w.storePath = filepath.Join(t.TempDir(), "sessions.db")
	}
	w.srvHTTP = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, protocol.MaxFrame+1))
		w.capMu.Lock()
		w.upstream = append(w.upstream, captured{r.URL.Path, r.Header.Get(HeaderMessageID), body})
		w.capMu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		w.front.ServeHTTP(rw, r)
	}))
	w.startServer()
	t.Cleanup(w.close)
	return w
}

func (w *world) startServer() {
	var err error
	if w.storePath != "" {
		w.store, err = OpenBoltStore(w.storePath)
		require.NoError(w.t, err)
	} else if w.store == nil {
		w.store = NewMemoryStore()
	}
	var tracer Tracer = w.log
	if w.trace {
		buf := &bytes.Buffer{}
		w.serverTraces = append(w.serverTraces, buf)
		w.serverTW, err = NewTraceWriter(buf, w.h.Profile())
		require.NoError(w.t, err)
		tracer = MultiTracer(w.log, w.serverTW)
	}
	w.server, err = NewServer(ServerConfig{
		Handshake: w.h,
		Store:     w.store,
		Pusher:    &FCMPusher{BaseURL: w.relayHTTP.URL, Project: "demo", Auth: StaticBearer("relay-token"), Client: w.client},
		Tracer:    tracer,
	})
	require.NoError(w.t, err)
	w.front.set(w.server)
}

// stopServer takes the server down: nothing of it survives but the store
// file.
func (w *world) stopServer() {
	w.front.set(nil)
	require.NoError(w.t, w.server.Close())
	if w.serverTW != nil {
		require.NoError(w.t, w.serverTW.Close())
	}
	if w.storePath != "" {
		require.NoError(w.t, w.store.Close())
		w.store = nil
	}
}

func (w *world) addDevices(n int) []*Device {
	ctx, cancel := context.WithCancel(context.Background())
	prev := w.cancel
	w.cancel = func() {
		cancel()
		if prev != nil {
			prev()
		}
	}
	var out []*Device
	for range n {
		var tracer Tracer = w.log
		if w.deviceTW != nil {
			tracer = MultiTracer(w.log, w.deviceTW)
		}
		d, err := RegisterDevice(ctx, DeviceConfig{
			Handshake: w.h, RelayURL: w.relayHTTP.URL, RegisterToken: "enrol-token", ServerURL: w.srvHTTP.URL,
			HTTPClient: w.client, Tracer: tracer, PollWait: 2 * time.Second,
			OnCommand: func(protocol.Message) { w.executed.Add(1) },
		})
		require.NoError(w.t, err)
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			_ = d.Run(ctx)
		}()
		out = append(out, d)
	}
	w.devices = append(w.devices, out...)
	return out
}

// handshakeAll runs every device's handshake concurrently and requires
// every one to verify.
func (w *world) handshakeAll(ctx context.Context, devs []*Device) {
	errs := make(chan error, len(devs))
	for _, d := range devs {
		go func() {
			_, err := d.Handshake(ctx)
			errs <- err
		}()
	}
	for range devs {
		require.NoError(w.t, <-errs)
	}
}

// commandEach issues commands to each device until it has executed one:
// commands are not retransmitted by the protocol, so on a lossy relay the
// service sends again (with a new sequence number).
func (w *world) commandEach(ctx context.Context, devs []*Device) {
	var wg sync.WaitGroup
	errs := make(chan error, len(devs))
	for _, d := range devs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := d.Client().LastSeq
			for ctx.Err() == nil {
				if _, err := w.server.Issue(ctx, d.RegID(), fmt.Sprintf("ring %d", d.RegID())); err != nil {
					errs <- err
					return
				}
				wctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
				_, err := d.Wait(wctx, func(c protocol.Client) bool { return c.LastSeq > start })
				cancel()
				if err == nil {
					return
				}
			}
			errs <- ctx.Err()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(w.t, err)
	}
}

// traces stops the server and devices' trace writers and returns the
// files: every server start's, then the devices'.
func (w *world) traces() []TraceInput {
	require.NoError(w.t, w.serverTW.Close())
	require.NoError(w.t, w.deviceTW.Close())
	var in []TraceInput
	for i, b := range w.serverTraces {
		in = append(in, TraceInput{Name: fmt.Sprintf("server-%d.jsonl", i+1), R: bytes.NewReader(b.Bytes())})
	}
	return append(in, TraceInput{Name: "devices.jsonl", R: bytes.NewReader(w.deviceTrace.Bytes())})
}

func (w *world) close() {
	if w.cancel != nil {
		w.cancel()
	}
	w.wg.Wait()
	w.relay.Close()
	w.relayHTTP.Close()
	w.front.set(nil)
	w.srvHTTP.Close()
	if w.server != nil {
		_ = w.server.Close()
	}
	if w.store != nil {
		_ = w.store.Close()
	}
	w.transport.CloseIdleConnections()
}

// checkClaims runs the property monitor over every claim, in the order the
// steps were taken (each claim is logged before the message that carries
// its news is sent).
func (w *world) checkClaims() {
	w.log.mu.Lock()
	defer w.log.mu.Unlock()
	require.Empty(w.t, protocol.CheckClaims(w.log.claims, nil))
}

func TestIntegration200DevicesLossyRelay(t *testing.T) {
	if testing.Short() {
		t.Skip("200 devices over loopback")
	}
	w := newWorld(t, worldConfig{
		profile: fastHardened(),
		faults:  Faults{Loss: 0.2, Dup: 0.2, DelayMin: 0, DelayMax: 30 * time.Millisecond},
		bolt:    true,
	})
	devs := w.addDevices(200)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	w.handshakeAll(ctx, devs)
	w.commandEach(ctx, devs)

	require.Equal(t, 200, w.log.count(protocol.Commit, protocol.RoleServer), "one server Commit per device")
	require.Equal(t, 200, w.log.count(protocol.Commit, protocol.RoleClient), "one client Commit per device")
	w.checkClaims()
	st := w.relay.Stats()
	require.NotZero(t, st.Lost, "the relay did lose messages")
	require.NotZero(t, st.Duplicated, "the relay did duplicate messages")
	require.Zero(t, w.server.HalfOpen())
	t.Logf("relay: %+v; server: %+v", st, w.server.Stats())
}

// replay re-sends every captured upstream request and every captured push,
// in a random order, as an attacker who recorded the whole run would.
func (w *world) replay(ctx context.Context, rng *rand.Rand) {
	w.capMu.Lock()
	up := append([]captured(nil), w.upstream...)
	pushes := append([]map[string]string(nil), w.pushes...)
	w.capMu.Unlock()
	type action func()
	var acts []action
	for _, c := range up {
		acts = append(acts, func() {
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.srvHTTP.URL+c.path, bytes.NewReader(c.body))
			require.NoError(w.t, err)
			req.Header.Set(HeaderMessageID, c.id)
			resp, err := w.client.Do(req)
			require.NoError(w.t, err)
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		})
	}
	attacker := &FCMPusher{BaseURL: w.relayHTTP.URL, Project: "demo", Auth: StaticBearer("relay-token"), Client: w.client}
	for _, data := range pushes {
		acts = append(acts, func() {
			p, err := DecodePushData(data)
			require.NoError(w.t, err)
			require.NoError(w.t, attacker.Push(ctx, p))
		})
	}
	rng.Shuffle(len(acts), func(i, j int) { acts[i], acts[j] = acts[j], acts[i] })
	for _, a := range acts {
		a()
	}
}

// quiesce waits until the relay has handed out everything it queued,
// every device has taken a step for each, and every command a device
// executed has reached its OnCommand (a device traces the step before it
// calls OnCommand, without its lock).
func (w *world) quiesce(t *testing.T) {
	waitFor(t, 10*time.Second, "the relay and devices to go quiet", func() bool {
		st := w.relay.Stats()
		w.log.mu.Lock()
		recv, executed := 0, int64(0)
		for _, s := range w.log.steps {
			if s.Role == protocol.RoleClient && s.Input == InputRecv {
				recv++
			}
			for _, c := range s.Claims {
				if c.Kind == protocol.Executed {
					executed++
				}
			}
		}
		w.log.mu.Unlock()
		return st.Delivered == st.Accepted-st.Lost+st.Duplicated && uint64(recv) == st.Delivered && w.executed.Load() == executed
	})
}

func TestIntegrationReplayAttackerGetsNothing(t *testing.T) {
	w := newWorld(t, worldConfig{profile: fastHardened()})
	devs := w.addDevices(20)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	w.handshakeAll(ctx, devs)
	w.commandEach(ctx, devs)
	w.quiesce(t)
	serverCommits := w.log.count(protocol.Commit, protocol.RoleServer)
	clientCommits := w.log.count(protocol.Commit, protocol.RoleClient)
	executed := w.executed.Load()

	rng := rand.New(rand.NewPCG(7, 7))
	for range 2 {
		w.replay(ctx, rng)
	}
	w.quiesce(t)
	require.Equal(t, serverCommits, w.log.count(protocol.Commit, protocol.RoleServer), "no server Commit from replays")
	require.Equal(t, clientCommits, w.log.count(protocol.Commit, protocol.RoleClient), "no client Commit from replays")
	require.Equal(t, executed, w.executed.Load(), "no command executed from replays")
	require.Equal(t, int64(len(devs)), executed)
	w.checkClaims()
}

func TestIntegrationRestartOnBoltKeepsSessions(t *testing.T) {
	w := newWorld(t, worldConfig{profile: fastHardened(), bolt: true,
		faults: Faults{Loss: 0.1, Dup: 0.1, DelayMax: 10 * time.Millisecond}})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	first := w.addDevices(20)
	w.handshakeAll(ctx, first)
	w.commandEach(ctx, first)
	w.quiesce(t)

	// Others start their handshakes; the server goes down under them.
	second := w.addDevices(20)
	errs := make(chan error, len(second))
	for _, d := range second {
		go func() { _, err := d.Handshake(ctx); errs <- err }()
	}
	w.stopServer()
	// Down long enough for some retransmissions to hit the 503.
	waitFor(t, 5*time.Second, "a retransmission to hit the stopped server", func() bool {
		return w.log.countInput(protocol.RoleClient, InputTimeout) > 0
	})
	w.startServer()
	for range second {
		require.NoError(t, <-errs, "a handshake across the restart")
	}

	for _, d := range first {
		sl, ok, err := w.server.Slot(d.RegID())
		require.NoError(t, err)
		require.True(t, ok)
		require.True(t, sl.Verified(), "device %d lost its session", d.RegID())
		require.Equal(t, d.Client().Ts, sl.Current.Ts)
		require.Equal(t, d.Client().LastSeq, sl.LastSeq)
	}

	w.quiesce(t)
	serverCommits := w.log.count(protocol.Commit, protocol.RoleServer)
	clientCommits := w.log.count(protocol.Commit, protocol.RoleClient)
	executed := w.executed.Load()
	w.replay(ctx, rand.New(rand.NewPCG(1, 2)))
	w.quiesce(t)
	require.Equal(t, serverCommits, w.log.count(protocol.Commit, protocol.RoleServer), "replays across the restart verify nothing")
	require.Equal(t, clientCommits, w.log.count(protocol.Commit, protocol.RoleClient))
	// A replay may deliver a command that was lost, or overtaken by its
	// re-issue (CommandWindow runs each number once, in any order); none
	// runs twice (checkClaims below: CMD).
	require.LessOrEqual(t, w.log.count(protocol.Executed, protocol.RoleClient), w.log.count(protocol.Issued, protocol.RoleServer),
		"replayed commands are not executed again")

	// New commands continue each session's numbering.
	w.commandEach(ctx, first)
	require.Greater(t, w.executed.Load(), executed)
	w.checkClaims()
}
